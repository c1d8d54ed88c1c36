// NLVR2 loader on hand-written JSON-lines fixtures in the published format
// (tests/fixtures/data/nlvr2), and the helpers shared by the QA loaders
// (data/image_paths.h); images are tiny files in a temp dir.
#include "data/nlvr2.h"
#include "data/image_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/image_paths.h"
#include "loader_test_util.h"

using namespace smoes;
using namespace loader_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// NLVR2 images: dev pairs as .png (one left image as .jpg), train pairs in the
// numbered subfolder of the real train set.
std::string nlvr2_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/images";
  write_png(dir + "/dev/dev-850-0-img0.png");
  write_png(dir + "/dev/dev-850-0-img1.png");
  write_png(dir + "/dev/dev-12-3-img0.jpg");
  write_png(dir + "/dev/dev-12-3-img1.png");
  write_png(dir + "/train/34/train-10171-0-img0.png");
  write_png(dir + "/train/34/train-10171-0-img1.png");
  return dir;
}

const std::vector<std::string> kNoYes = {"no", "yes"};

}  // namespace

TEST(Nlvr2, ReadsJsonLinesWithImagePairs) {
  std::string images = nlvr2_images("read");
  auto got = data::load_nlvr2(fixture("nlvr2/dev.json"), images);
  ASSERT_EQ(got.size(), 3u);
  std::vector<std::string> pair850 = {images + "/dev/dev-850-0-img0.png", images + "/dev/dev-850-0-img1.png"};
  expect_same(got[0], make("nlvr2", "dev-850-0-0", pair850,
                           "<image>\n<image>\nStatement: The left image contains twice the number of dogs as the right "
                           "image.\nIs the statement true for the left and the right image? Answer yes or no.",
                           {"no"}, kNoYes, 0, {{"label", "False"}}));
  expect_same(got[1], make("nlvr2", "dev-850-0-1", pair850, data::nlvr2_prompt("There are exactly two dogs in total."),
                           {"yes"}, kNoYes, 1, {{"label", "True"}}));
  expect_same(got[2],
              make("nlvr2", "dev-12-3-0", {images + "/dev/dev-12-3-img0.jpg", images + "/dev/dev-12-3-img1.png"},
                   data::nlvr2_prompt("One image shows a single bird."), {"yes"}, kNoYes, 1, {{"label", "True"}}));
  EXPECT_EQ(data::kNlvr2Choices, kNoYes);
}

TEST(Nlvr2, TrainImagesLiveInTheDirectorySubfolder) {
  std::string images = nlvr2_images("train");
  auto got = data::load_nlvr2(fixture("nlvr2/train.json"), images);
  ASSERT_EQ(got.size(), 2u);  // "directory" is 34 in one record and "34" in the other
  std::vector<std::string> pair = {images + "/train/34/train-10171-0-img0.png",
                                   images + "/train/34/train-10171-0-img1.png"};
  expect_same(got[0], make("nlvr2", "train-10171-0-0", pair, data::nlvr2_prompt("An image shows one bowl."), {"no"},
                           kNoYes, 0, {{"label", "False"}}));
  expect_same(got[1], make("nlvr2", "train-10171-0-1", pair, data::nlvr2_prompt("Both images show bowls."), {"yes"},
                           kNoYes, 1, {{"label", "True"}}));
  // A flat copy of the images (no split / directory folders) is found too.
  std::string flat = temp_dir("flat");
  write_png(flat + "/train-10171-0-img0.png");
  write_png(flat + "/train-10171-0-img1.png");
  EXPECT_EQ(data::load_nlvr2(fixture("nlvr2/train.json"), flat)[0].image_paths,
            (std::vector<std::string>{flat + "/train-10171-0-img0.png", flat + "/train-10171-0-img1.png"}));
}

TEST(Nlvr2, StrictModeNamesFileLineAndField) {
  std::string images = nlvr2_images("strict");
  std::string msg = error_of([&] { data::load_nlvr2(fixture("nlvr2/bad.json"), images); });
  EXPECT_NE(
      msg.find("bad.json: line 2 (identifier dev-850-0-2): field 'label': unknown label \"Yes\" (expected \"True\" "
               "or \"False\")"),
      std::string::npos)
      << msg;
  struct Case {
    std::string line, expected;
  };
  const std::vector<Case> cases = {
      {R"({"sentence": "s", "label": "True", "identifier": "dev-850-0-3")", "x.json: line 2: not valid JSON: "},
      {R"({"label": "True", "identifier": "dev-850-0-4"})",
       "x.json: line 2 (identifier dev-850-0-4): field 'sentence': missing"},
      {R"({"sentence": "s", "label": "True", "identifier": "dev850"})",
       "x.json: line 2 (identifier dev850): field 'identifier': expected \"<split>-<set>-<pair>-<sentence>\""},
      {R"({"sentence": "s", "label": true, "identifier": "dev-850-0-5"})",
       "x.json: line 2 (identifier dev-850-0-5): field 'label': expected a string, got boolean"},
      {R"({"sentence": "s", "label": "True", "identifier": "dev-850-0-5", "directory": [3]})",
       "x.json: line 2 (identifier dev-850-0-5): field 'directory': expected a string or an integer, got array"},
      {R"("just a string")", "x.json: line 2: field 'identifier': missing (the record is not an object, got string)"},
  };
  std::string good = read_lines(fixture("nlvr2/dev.json"))[0].dump();
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/x.json";
    write_text(file, good + "\n" + cases[i].line + "\n");
    msg = error_of([&] { data::load_nlvr2(file, images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
  // Annotations alone: a pair whose images are absent loads with the paths it
  // names (the first folder and extension tried); check_images names them.
  std::string file = temp_dir("no_image") + "/x.json";
  write_text(file, good + "\n" + R"({"sentence": "s", "label": "True", "identifier": "dev-9-9-0"})" + "\n");
  auto got = data::load_nlvr2(file, images);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].image_paths.front(), images + "/dev/dev-9-9-img0.png");
  msg = error_of([&] { data::check_images(got, /*strict=*/true, nullptr); });
  EXPECT_NE(msg.find("nlvr2 dev-9-9-0: " + images + "/dev/dev-9-9-img0.png: image file not found"), std::string::npos)
      << msg;
}

TEST(Nlvr2, TolerantModeSkipsAndCounts) {
  std::string images = nlvr2_images("tolerant");
  data::LoadReport report;
  auto got = data::load_nlvr2(fixture("nlvr2/bad.json"), images, /*strict=*/false, &report);
  data::check_images(got, /*strict=*/false, &report);  // the annotations read; then the images
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "dev-850-0-0");
  EXPECT_EQ(report.records, 8u);
  EXPECT_EQ(report.skipped, 7u);
  EXPECT_EQ(report.reasons["field 'label': unknown label \"Yes\" (expected \"True\" or \"False\")"], 1u);
  EXPECT_EQ(report.reasons["image file not found"], 1u);
  EXPECT_EQ(report.reasons["not valid JSON"], 1u);
  EXPECT_EQ(report.reasons["field 'sentence': missing"], 1u);
  EXPECT_EQ(report.reasons["field 'identifier': expected \"<split>-<set>-<pair>-<sentence>\""], 1u);
  EXPECT_EQ(report.reasons["field 'label': expected a string, got boolean"], 1u);
  EXPECT_EQ(report.reasons["field 'identifier': missing (the record is not an object, got string)"], 1u);
  ASSERT_EQ(report.first_problems.size(), 7u);
  // The records' problems come in file order, the images' after them.
  EXPECT_EQ(report.first_problems[1].rfind(fixture("nlvr2/bad.json") + ": line 4: not valid JSON: ", 0), 0u)
      << report.first_problems[1];
  EXPECT_NE(report.first_problems[6].find(": image file not found"), std::string::npos) << report.first_problems[6];
}

TEST(Nlvr2, ManifestIsChecked) {
  std::string root = temp_dir("manifest");
  std::string images = nlvr2_images("manifest_images");
  std::string file = root + "/nlvr2/dev.json";
  fs::create_directories(root + "/nlvr2");
  write_text(file, read_file(fixture("nlvr2/dev.json")));
  write_text(root + "/nlvr2/MANIFEST.json", json{{"files", {{"dev.json", sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_nlvr2(file, images).size(), 3u);
  write_text(file, read_file(file) + "\n");
  EXPECT_NE(error_of([&] { data::load_nlvr2(file, images); }).find("dev.json: SHA-256 does not match"),
            std::string::npos);
}

TEST(Nlvr2, NeverCrashesOnAnyJsonShape) {
  std::string images = nlvr2_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/dev.json";
  expect_never_crashes(fixture("nlvr2/dev.json"), file,
                       [&](bool strict, data::LoadReport* r) { return data::load_nlvr2(file, images, strict, r); });
  expect_never_crashes(fixture("nlvr2/train.json"), file,
                       [&](bool strict, data::LoadReport* r) { return data::load_nlvr2(file, images, strict, r); });
}

// ---- the shared helpers (data/image_paths.h) ----------------------------

TEST(QaLoaderHelpers, JsonLinesAcceptBomCrlfAndBlankLinesAndNameTheLine) {
  std::string dir = temp_dir("jsonl");
  std::string file = dir + "/x.jsonl";
  write_text(file, "\xEF\xBB\xBF{\"a\": 1}\r\n\r\n  \n{\"a\": 2}\r\n{\"a\": \n");
  data::LoadReport report;
  data::RecordErrors errors{file, false, &report};
  std::vector<std::string> seen;
  data::for_each_json_line(
      file, errors, [&](const std::string& record, const json& v) { seen.push_back(record + "=" + v["a"].dump()); });
  EXPECT_EQ(seen, (std::vector<std::string>{"line 1=1", "line 4=2"}));
  EXPECT_EQ(report.records, 3u);
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(report.reasons["not valid JSON"], 1u);
  data::RecordErrors strict{file, true, nullptr};
  EXPECT_NE(error_of([&] {
              data::for_each_json_line(file, strict, [](const std::string&, const json&) {});
            }).find(file + ": line 5: not valid JSON: "),
            std::string::npos);
}

TEST(QaLoaderHelpers, ImageFinderTriesExtensionsAndFoldersInOrder) {
  std::string dir = temp_dir("finder");
  write_png(dir + "/a.png");
  write_png(dir + "/b.jpg");
  write_png(dir + "/b.png");
  write_png(dir + "/sub/c.png");
  data::ImageFinder finder;  // .jpg, then .png
  EXPECT_EQ(finder.find(dir + "/a"), dir + "/a.png");
  EXPECT_EQ(finder.find(dir + "/b"), dir + "/b.jpg");
  EXPECT_EQ(finder.find(dir + "/nope"), dir + "/nope.jpg");  // none exists: the first candidate
  EXPECT_EQ(finder.find(std::vector<std::string>{dir + "/x/c", dir + "/sub/c"}), dir + "/sub/c.png");
  EXPECT_EQ(finder.find_file(dir + "/a.jpg"), dir + "/a.png");
  EXPECT_EQ(finder.find_file(dir + "/b.png"), dir + "/b.png");
  EXPECT_EQ(finder.find_file(dir + "/sub/c.jpeg"), dir + "/sub/c.png");
  EXPECT_EQ(finder.find_file(dir + "/n.jpeg"), dir + "/n.jpeg");
  data::ImageFinder png_first({".png", ".jpg"});
  EXPECT_EQ(png_first.find(dir + "/b"), dir + "/b.png");
  EXPECT_EQ(data::coco2014_image_name("val2014", 42), "COCO_val2014_000000000042");
  EXPECT_EQ(data::coco2017_image_name(461751), "000000461751");
}

TEST(Nlvr2, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "dev", "test1"}) {
    auto got = data::load_nlvr2(root + "/nlvr2/" + s + ".json", root + "/nlvr2/images");
    ASSERT_EQ(got.size(), world_count("nlvr2", s, "statements")) << s;
    size_t trues = 0;
    for (const auto& ex : got) {
      ASSERT_EQ(ex.image_paths.size(), 2u);
      EXPECT_TRUE(fs::exists(ex.image_paths[0]) && fs::exists(ex.image_paths[1]));
      trues += ex.answer_index == 1;
    }
    EXPECT_EQ(trues, world_count("nlvr2", s, "true")) << s;
  }
}
