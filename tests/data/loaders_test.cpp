#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/files.h"
#include "data/captions.h"
#include "world/generate.h"
#include "loader_test_util.h"

using namespace smoes;
namespace fs = std::filesystem;

using loader_test::fixture;

namespace {

// A COCO-layout root holding `file` as annotations/captions_<split>.json.
std::string coco_root_with(const std::string& name, const std::string& file, const std::string& split) {
  auto root = fs::temp_directory_path() / ("smoes_coco_" + name);
  fs::remove_all(root);
  fs::create_directories(root / "annotations");
  fs::copy_file(file, root / "annotations" / ("captions_" + split + ".json"));
  return root.string();
}

}  // namespace

TEST(CocoCaptions, RoundTripWithTheWorld) {
  auto dir = (fs::temp_directory_path() / "smoes_data_world").string();
  fs::remove_all(dir);
  auto manifest = world::generate(world::WorldOptions::for_preset("tiny", 3), dir);
  auto examples = data::load_coco_captions(dir + "/coco", "train2014");
  ASSERT_EQ(int(examples.size()), manifest["counts"]["coco_train2014"].get<int>());
  auto doc = nlohmann::json::parse(read_file(dir + "/coco/annotations/captions_train2014.json"));
  EXPECT_EQ(examples[0].targets.size(), 5u);
  EXPECT_EQ(examples[0].targets[0], doc["annotations"][0]["caption"]);
  EXPECT_TRUE(fs::exists(examples[0].image_paths[0]));
  EXPECT_NE(examples[0].prompt.find("<image>"), std::string::npos);

  auto cc = data::load_cc_tsv(dir + "/cc/Train_GCC-training.tsv");
  EXPECT_EQ(int(cc.size()), manifest["counts"]["cc_train"].get<int>());
  EXPECT_TRUE(fs::exists(cc[0].image_paths[0]));
}

TEST(CocoCaptions, ManifestMismatchIsDetected) {
  auto dir = (fs::temp_directory_path() / "smoes_data_tamper").string();
  fs::remove_all(dir);
  world::generate(world::WorldOptions::for_preset("tiny", 4), dir);
  auto file = dir + "/coco/annotations/captions_val2014.json";
  write_file_atomic(file, read_file(file) + " ");
  EXPECT_NE(error_of([&] { data::load_coco_captions(dir + "/coco", "val2014"); }).find("SHA-256 does not match"),
            std::string::npos);
}

TEST(CocoCaptions, StrictModeNamesFileRecordAndField) {
  auto root = coco_root_with("strict", fixture("captions_bad.json"), "val2014");
  std::string msg = error_of([&] { data::load_coco_captions(root, "val2014"); });
  EXPECT_NE(msg.find("captions_val2014.json: images[1]: field 'id': missing or not an integer"), std::string::npos) << msg;
}

TEST(CocoCaptions, TolerantModeSkipsAndCounts) {
  auto root = coco_root_with("tolerant", fixture("captions_bad.json"), "val2014");
  data::LoadReport report;
  auto examples = data::load_coco_captions(root, "val2014", /*strict=*/false, &report);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].targets, (std::vector<std::string>{"a red ball", "a ball that is red"}));
  EXPECT_EQ(report.records, 7u);
  EXPECT_EQ(report.skipped, 4u);
  EXPECT_EQ(report.reasons["field 'image_id': no image with id 99"], 1u);
  EXPECT_EQ(report.reasons["field 'caption': missing or not a string"], 1u);
}

TEST(CocoCaptions, NotJsonOrWrongShapeIsAnError) {
  auto dir = fs::temp_directory_path() / "smoes_coco_notjson";
  fs::create_directories(dir / "annotations");
  write_file_atomic((dir / "annotations/captions_x.json").string(), "{\"images\": [");
  EXPECT_NE(error_of([&] { data::load_coco_captions(dir.string(), "x"); }).find("not valid JSON"), std::string::npos);
  write_file_atomic((dir / "annotations/captions_x.json").string(), "[1, 2]");
  EXPECT_NE(error_of([&] { data::load_coco_captions(dir.string(), "x"); }).find("expected a COCO captions object"),
            std::string::npos);
}

TEST(ConceptualCaptions, BadLinesAreNamedOrSkipped) {
  std::string msg = error_of([] { data::load_cc_tsv(fixture("cc_bad.tsv")); });
  EXPECT_NE(msg.find("cc_bad.tsv: line 2: field 'url': no TAB"), std::string::npos) << msg;
  data::LoadReport report;
  auto examples = data::load_cc_tsv(fixture("cc_bad.tsv"), false, &report);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].targets[0], "a red ball");
  EXPECT_EQ(report.skipped, 3u);
}
