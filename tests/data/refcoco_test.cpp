#include "data/refcoco.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/error.h"
#include "core/files.h"
#include "data/pickle.h"
#include "world/generate.h"
#include "loader_test_util.h"

using namespace smoes;
namespace fs = std::filesystem;
using nlohmann::json;


namespace {

const std::string kImages = "/coco/images/train2014";

std::string refcoco_fixture(const std::string& name) {
  return std::string(SMOES_FIXTURES_DIR) + "/data/refcoco/" + name;
}

// A refer-layout folder whose refs(unc).p holds `refs` (pickled by our writer)
// and whose instances.json is the good fixture's, edited by `edit`.
std::string refer_dir(const std::string& name, const json& refs,
                      const std::function<void(json&)>& edit = [](json&) {}) {
  auto dir = fs::temp_directory_path() / ("smoes_refcoco_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file_atomic((dir / "refs(unc).p").string(), data::pickle(refs));
  json instances = json::parse(read_file(refcoco_fixture("refcoco/instances.json")));
  edit(instances);
  write_file_atomic((dir / "instances.json").string(), instances.dump());
  return dir.string();
}

json good_refs() { return data::unpickle_file(refcoco_fixture("refcoco/refs(unc).p")); }

// The strict-mode error for refs edited by `edit_refs` (and instances by `edit_instances`).
std::string strict_error(const std::string& name, const std::function<void(json&)>& edit_refs,
                         const std::function<void(json&)>& edit_instances = [](json&) {}) {
  json refs = good_refs();
  edit_refs(refs);
  auto dir = refer_dir(name, refs, edit_instances);
  return error_of([&] { data::load_refcoco(dir, kImages, "all"); });
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(RefCoco, PromptIsOneConstant) {
  EXPECT_EQ(data::refcoco_prompt("man on left"), "<image>\nWhere is: man on left?");
  EXPECT_NE(std::string(data::kRefCocoPrompt).find("{}"), std::string::npos);
}

TEST(RefCoco, LoadsReferFilesOneExamplePerSentence) {
  auto train = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "train");
  ASSERT_EQ(train.size(), 2u);
  const auto& ex = train[0];
  EXPECT_EQ(ex.task, "refcoco");
  EXPECT_EQ(ex.id, "0");
  EXPECT_EQ(ex.image_paths, std::vector<std::string>{kImages + "/COCO_train2014_000000000101.jpg"});
  EXPECT_EQ(ex.prompt, "<image>\nWhere is: man on left?");
  EXPECT_TRUE(ex.targets.empty());
  EXPECT_EQ(ex.box, (std::vector<double>{10.5, 20.0, 100.0, 50.25}));
  EXPECT_EQ(ex.image_width, 640);
  EXPECT_EQ(ex.image_height, 480);
  EXPECT_EQ(ex.meta.at("split"), "train");
  EXPECT_EQ(ex.meta.at("sentence"), "man on left");
  EXPECT_EQ(ex.meta.at("raw"), "Man on left.");
  EXPECT_EQ(ex.meta.at("sent_id"), "0");
  EXPECT_EQ(ex.meta.at("ref_id"), "0");
  EXPECT_EQ(ex.meta.at("ann_id"), "1001");
  EXPECT_EQ(ex.meta.at("image_id"), "101");
  EXPECT_EQ(ex.meta.at("category_id"), "1");
  EXPECT_EQ(train[1].id, "0");
  EXPECT_EQ(train[1].meta.at("sentence"), "guy in red");
  EXPECT_EQ(train[1].meta.at("sent_id"), "1");
  EXPECT_EQ(train[1].box, ex.box);

  auto val = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "val");
  ASSERT_EQ(val.size(), 2u);
  EXPECT_EQ(val[0].meta.at("sentence"), "caf\xC3\xA9 chair");  // a Python 2 UTF-8 byte string
  EXPECT_EQ(val[0].meta.at("raw"), "caf\xC3\xA9 chair!");      // a Python 2 unicode
  EXPECT_EQ(val[0].box, (std::vector<double>{0, 0, 250, 375}));
  EXPECT_EQ(val[0].image_width, 500);
  EXPECT_EQ(val[0].image_paths[0], kImages + "/COCO_train2014_000000000102.jpg");

  auto test_a = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "testA");
  ASSERT_EQ(test_a.size(), 1u);
  EXPECT_EQ(test_a[0].id, "3");
  EXPECT_EQ(test_a[0].image_height, 240);
  auto test_b = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "testB");
  ASSERT_EQ(test_b.size(), 1u);
  EXPECT_EQ(test_b[0].meta.at("category_id"), "18");
  EXPECT_EQ(data::load_refcoco(refcoco_fixture("refcoco"), kImages, "all").size(), 6u);
  EXPECT_TRUE(data::load_refcoco(refcoco_fixture("refcoco"), kImages, "nosuchsplit").empty());
}

TEST(RefCoco, SplitByPicksTheRefsFile) {
  auto umd = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "test", true, nullptr, "umd");
  ASSERT_EQ(umd.size(), 1u);
  EXPECT_EQ(umd[0].id, "7");
  EXPECT_EQ(umd[0].meta.at("sentence"), "the chair");
  auto msg =
      error_of([] { data::load_refcoco(refcoco_fixture("refcoco"), kImages, "train", true, nullptr, "google"); });
  EXPECT_TRUE(contains(msg, "refs(google).p")) << msg;
}

TEST(RefCoco, SplitsGoByTheirRealNamesAndTestIsEveryTestSplit) {
  // REFER's getRefIds: RefCOCO/RefCOCO+ (unc) test = testA + testB, in file order.
  auto test = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "test");
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[0].id, "1");
  EXPECT_EQ(test[0].meta.at("split"), "testB");
  EXPECT_EQ(test[1].id, "3");
  EXPECT_EQ(test[1].meta.at("split"), "testA");
  for (const char* name : {"testA", "testB"}) {
    auto one = data::load_refcoco(refcoco_fixture("refcoco"), kImages, name);
    ASSERT_EQ(one.size(), 1u) << name;
    EXPECT_EQ(one[0].meta.at("split"), name);
  }
  // RefCOCOg (umd) has one split named test.
  auto umd = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "test", true, nullptr, "umd");
  ASSERT_EQ(umd.size(), 1u);
  EXPECT_EQ(umd[0].meta.at("split"), "test");
  EXPECT_TRUE(data::load_refcoco(refcoco_fixture("refcoco"), kImages, "testA", true, nullptr, "umd").empty());
}

TEST(RefCoco, OurPickleWriterFeedsTheLoader) {
  auto dir = refer_dir("writer", good_refs());
  auto all = data::load_refcoco(dir, kImages, "all");
  auto want = data::load_refcoco(refcoco_fixture("refcoco"), kImages, "all");
  ASSERT_EQ(all.size(), want.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, want[i].id);
    EXPECT_EQ(all[i].prompt, want[i].prompt);
    EXPECT_EQ(all[i].box, want[i].box);
    EXPECT_EQ(all[i].meta, want[i].meta);
  }
}

TEST(RefCoco, StrictModeNamesFileRecordAndField) {
  auto msg = strict_error("no_ann", [](json& r) { r[1].erase("ann_id"); });
  EXPECT_TRUE(contains(msg, "refs(unc).p: refs[1] (ref_id 1): field 'ann_id': missing")) << msg;
  msg = strict_error("unknown_ann", [](json& r) { r[1]["ann_id"] = 4242; });
  EXPECT_TRUE(contains(msg, "refs[1] (ref_id 1): field 'ann_id': no annotation with id 4242 in ")) << msg;
  EXPECT_TRUE(contains(msg, "instances.json")) << msg;
  msg = strict_error("no_sent", [](json& r) {
    r[0]["sentences"][1].erase("sent");
    r[0]["sentences"][1].erase("raw");
  });
  EXPECT_TRUE(contains(msg, "refs[0] (ref_id 0) sentences[1]: field 'sent': missing")) << msg;
  msg = strict_error("wrong_image", [](json& r) { r[0]["image_id"] = 102; });
  EXPECT_TRUE(contains(msg, "refs[0] (ref_id 0): field 'image_id': 102, but annotation 1001 belongs to image 101"))
      << msg;
  msg = strict_error("string_id", [](json& r) { r[2]["ref_id"] = "2"; });
  EXPECT_TRUE(contains(msg, "refs[2]: field 'ref_id': expected an integer, got a string")) << msg;
  msg = strict_error("not_dict", [](json& r) { r[3] = "oops"; });
  EXPECT_TRUE(contains(msg, "refs[3]: field '(record)': expected an object, got a string")) << msg;
  msg = strict_error("no_sentences", [](json& r) { r[0]["sentences"] = json::array(); });
  EXPECT_TRUE(contains(msg, "refs[0] (ref_id 0): field 'sentences': empty list")) << msg;
  msg = strict_error("no_split", [](json& r) { r[0].erase("split"); });
  EXPECT_TRUE(contains(msg, "refs[0] (ref_id 0): field 'split': missing")) << msg;
  msg = strict_error("not_list", [](json& r) { r = json::object({{"refs", r}}); });
  EXPECT_TRUE(contains(msg, "refs(unc).p: expected a list of refs (refer API format), got an object")) << msg;

  msg = strict_error("bad_bbox", [](json&) {}, [](json& inst) { inst["annotations"][0]["bbox"] = {1, 2}; });
  EXPECT_TRUE(contains(msg, "instances.json: annotations[0] (id 1001): field 'bbox': expected [x, y, w, h]")) << msg;
  msg = strict_error("no_width", [](json&) {}, [](json& inst) { inst["images"][0].erase("width"); });
  EXPECT_TRUE(contains(msg, "instances.json: images[0] (id 101): field 'width': missing")) << msg;
  msg = strict_error("dup_image", [](json&) {}, [](json& inst) { inst["images"][1]["id"] = 101; });
  EXPECT_TRUE(contains(msg, "images[1]: field 'id': duplicate id 101 (also images[0])")) << msg;
  msg = strict_error("no_images", [](json&) {}, [](json& inst) { inst.erase("images"); });
  EXPECT_TRUE(contains(msg, "instances.json: expected a COCO instances object")) << msg;
}

TEST(RefCoco, TolerantModeSkipsAndCountsBadRecords) {
  auto dir = refcoco_fixture("bad");
  auto msg = error_of([&] { data::load_refcoco(dir, kImages, "train"); });
  EXPECT_TRUE(contains(msg, "refs[1] (ref_id 11): field 'ann_id': missing")) << msg;

  data::LoadReport report;
  auto examples = data::load_refcoco(dir, kImages, "train", false, &report);
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].id, "10");
  EXPECT_EQ(examples[1].id, "10");
  EXPECT_EQ(examples[2].id, "13");
  EXPECT_EQ(examples[2].meta.at("sentence"), "dog");
  EXPECT_EQ(report.skipped, 8u);
  EXPECT_EQ(report.records, 3u + 5u + 10u + 4u);  // images, annotations, refs, sentences of good refs
  EXPECT_EQ(report.reasons.at("field 'ann_id': missing"), 1u);
  std::string all;
  for (const auto& p : report.first_problems) all += p + "\n";
  for (const char* part : {"refs[2] (ref_id 12): field 'ann_id': no annotation with id 9999",
                           "refs[3] (ref_id 13) sentences[1]: field 'sent': missing",
                           "refs[4] (ref_id 14): field 'image_id': 101, but annotation 1003 belongs to image 102",
                           "annotations[3] (id 1004): field 'bbox': expected [x, y, w, h], got [1,2,3]",
                           "refs[6]: field '(record)': expected an object, got a string",
                           "images[2] (id 103): field 'width': missing",
                           "refs[8]: field 'ref_id': expected an integer, got a string"})
    EXPECT_TRUE(contains(all, part)) << part << "\nin:\n" << all;

  data::LoadReport val_report;
  auto val = data::load_refcoco(dir, kImages, "val", false, &val_report);
  ASSERT_EQ(val.size(), 1u);
  EXPECT_EQ(val[0].id, "19");
}

TEST(RefCoco, HostileOrCorruptPickleIsRejected) {
  auto dir = refer_dir("hostile", json::array());
  fs::copy_file(std::string(SMOES_FIXTURES_DIR) + "/data/pickle/hostile_reduce.pkl", fs::path(dir) / "refs(unc).p",
                fs::copy_options::overwrite_existing);
  for (bool strict : {true, false}) {
    data::LoadReport report;
    auto msg = error_of([&] { data::load_refcoco(dir, kImages, "train", strict, &report); });
    EXPECT_TRUE(contains(msg, "refs(unc).p: byte offset 2: opcode 0x63 (GLOBAL) is not allowed")) << msg;
  }
  std::string good = read_file(refcoco_fixture("refcoco/refs(unc).p"));
  write_file_atomic(dir + "/refs(unc).p", good.substr(0, good.size() / 2));
  auto msg = error_of([&] { data::load_refcoco(dir, kImages, "train", false); });
  EXPECT_TRUE(contains(msg, "refs(unc).p: byte offset")) << msg;
  EXPECT_TRUE(contains(msg, "truncated")) << msg;
}

TEST(RefCoco, ManifestIsChecked) {
  auto dir = refer_dir("manifest", good_refs());
  json manifest = {{"files", {{"refs(unc).p", std::string(64, '0')}}}};
  write_file_atomic(dir + "/MANIFEST.json", manifest.dump());
  auto msg = error_of([&] { data::load_refcoco(dir, kImages, "train"); });
  EXPECT_TRUE(contains(msg, "SHA-256 does not match")) << msg;
  manifest["files"]["refs(unc).p"] = sha256_file(dir + "/refs(unc).p");
  write_file_atomic(dir + "/MANIFEST.json", manifest.dump());
  EXPECT_EQ(data::load_refcoco(dir, kImages, "train").size(), 2u);
}

TEST(RefCoco, MissingFilesAreNamed) {
  auto msg = error_of([] { data::load_refcoco("/nonexistent/refcoco", kImages, "train"); });
  EXPECT_TRUE(contains(msg, "/nonexistent/refcoco/refs(unc).p")) << msg;
  msg = error_of([] { data::load_mdetr_refexp("/nonexistent/finetune_refcoco_val.json", kImages); });
  EXPECT_TRUE(contains(msg, "/nonexistent/finetune_refcoco_val.json")) << msg;
}

TEST(RefCoco, LoadsMdetrFiles) {
  auto examples = data::load_mdetr_refexp(refcoco_fixture("mdetr/finetune_refcoco_val.json"), kImages);
  ASSERT_EQ(examples.size(), 2u);
  const auto& ex = examples[0];
  EXPECT_EQ(ex.task, "refcoco");
  EXPECT_EQ(ex.id, "0");
  EXPECT_EQ(ex.image_paths, std::vector<std::string>{kImages + "/COCO_train2014_000000000102.jpg"});
  EXPECT_EQ(ex.prompt, "<image>\nWhere is: caf\xC3\xA9 chair?");
  EXPECT_TRUE(ex.targets.empty());
  EXPECT_EQ(ex.box, (std::vector<double>{0, 0, 250, 375}));
  EXPECT_EQ(ex.image_width, 500);
  EXPECT_EQ(ex.image_height, 375);
  EXPECT_EQ(ex.meta.at("split"), "val");
  EXPECT_EQ(ex.meta.at("sentence"), "caf\xC3\xA9 chair");
  EXPECT_EQ(ex.meta.at("image_id"), "102");
  EXPECT_EQ(ex.meta.at("dataset_name"), "refcoco");
  EXPECT_EQ(examples[1].id, "1");
  EXPECT_EQ(examples[1].meta.at("sentence"), "chair on the right");
}

TEST(RefCoco, MdetrBadRecordsAreNamed) {
  auto file = refcoco_fixture("mdetr_bad/finetune_refcoco_train.json");
  auto msg = error_of([&] { data::load_mdetr_refexp(file, kImages); });
  EXPECT_TRUE(contains(msg, "finetune_refcoco_train.json: annotations[5]: field 'image_id': missing")) << msg;

  data::LoadReport report;
  auto examples = data::load_mdetr_refexp(file, kImages, false, &report);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].meta.at("sentence"), "man on left");
  EXPECT_EQ(examples[0].meta.at("split"), "train");
  EXPECT_EQ(examples[0].box, (std::vector<double>{10.5, 20.0, 100.0, 50.25}));
  EXPECT_EQ(report.records, 6u + 6u);
  EXPECT_EQ(report.skipped, 6u);
  std::string all;
  for (const auto& p : report.first_problems) all += p + "\n";
  for (const char* part : {"images[1] (id 1): field 'caption': missing",
                           "images[2] (id 2): field 'id': 0 annotations have this image_id",
                           "images[3] (id 3): field 'id': 2 annotations have this image_id",
                           "annotations[4] (image_id 4): field 'bbox': width and height must be positive",
                           "images[5]: field 'id': expected an integer, got a string"})
    EXPECT_TRUE(contains(all, part)) << part << "\nin:\n" << all;

  auto dir = fs::temp_directory_path() / "smoes_refcoco_mdetr_shape";
  fs::create_directories(dir);
  write_file_atomic((dir / "finetune_refcoco_val.json").string(), R"({"images": {}})");
  msg = error_of([&] { data::load_mdetr_refexp((dir / "finetune_refcoco_val.json").string(), kImages, false); });
  EXPECT_TRUE(contains(msg, "expected an MDETR refexp object")) << msg;
}

TEST(RefCoco, ReadsWhatTheWorldWrites) {
  auto dir = (fs::temp_directory_path() / "smoes_refcoco_world").string();
  fs::remove_all(dir);
  world::generate(world::WorldOptions::for_preset("tiny", 5), dir);
  auto images = dir + "/coco/images/train2014";
  size_t total = 0;
  for (const char* split : {"train", "val", "testA", "testB"}) {
    SCOPED_TRACE(split);
    auto refer = data::load_refcoco(dir + "/refcoco", images, split);
    auto mdetr = data::load_mdetr_refexp(dir + "/mdetr/finetune_refcoco_" + std::string(split) + ".json", images);
    EXPECT_EQ(refer.size(), mdetr.size());  // one MDETR record per (ref, sentence)
    for (const auto& ex : refer) {
      EXPECT_TRUE(fs::exists(ex.image_paths[0])) << ex.image_paths[0];
      EXPECT_LE(ex.box[0] + ex.box[2], ex.image_width + 1e-6);
      EXPECT_LE(ex.box[1] + ex.box[3], ex.image_height + 1e-6);
    }
    for (const auto& ex : mdetr) EXPECT_TRUE(fs::exists(ex.image_paths[0])) << ex.image_paths[0];
    total += refer.size();
  }
  EXPECT_GT(total, 0u);
  EXPECT_EQ(data::load_refcoco(dir + "/refcoco", images, "all").size(), total);
  EXPECT_EQ(data::load_refcoco(dir + "/refcoco", images, "test").size(),
            data::load_refcoco(dir + "/refcoco", images, "testA").size() +
                data::load_refcoco(dir + "/refcoco", images, "testB").size());
}
