// GQA loader on a hand-written fixture in the published format (a dict keyed by
// question id, tests/fixtures/data/gqa); images are tiny files in a temp dir.
#include "data/gqa.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/vqa.h"
#include "loader_test_util.h"

using namespace smoes;
using namespace loader_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kFile = "testdev_balanced_questions.json";

// GQA images: n15342 as .png, 2354786 as .jpg.
std::string gqa_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/images";
  write_png(dir + "/n15342.png");
  write_png(dir + "/2354786.jpg");
  return dir;
}

}  // namespace

TEST(Gqa, ReadsTheQuestionDictInKeyOrder) {
  std::string images = gqa_images("read");
  auto got = data::load_gqa(fixture("gqa/" + kFile), images);
  ASSERT_EQ(got.size(), 3u);
  expect_same(got[0],
              make("gqa", "0791239", {images + "/2354786.jpg"}, data::vqa_prompt("Is the cube blue?"), {"no"}, {}, -1,
                   {{"structural", "verify"},
                    {"semantic", "attr"},
                    {"detailed", "verifyAttrs"},
                    {"fullAnswer", "No, the cube is green."}}));
  // A record without an answer (as in the test / submission files).
  expect_same(got[1], make("gqa", "201307251", {images + "/n15342.png"},
                           data::vqa_prompt("Is the ball to the left of the cube?"), {}, {}, -1, {}));
  expect_same(got[2], make("gqa", "20968979", {images + "/n15342.png"}, data::vqa_prompt("What color is the ball?"),
                           {"red"}, {}, -1,
                           {{"structural", "query"},
                            {"semantic", "attr"},
                            {"detailed", "colorObj"},
                            {"fullAnswer", "The ball is red."}}));
}

TEST(Gqa, StrictModeNamesFileRecordAndField) {
  std::string images = gqa_images("strict");
  struct Case {
    std::function<void(json&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& d) { d["20968979"].erase("question"); }, kFile + ": question \"20968979\": field 'question': missing"},
      {[](json& d) { d["20968979"]["imageId"] = json::array(); },
       kFile + ": question \"20968979\": field 'imageId': expected a string or an integer, got array"},
      {[](json& d) { d["0791239"]["answer"] = 1; },
       kFile + ": question \"0791239\": field 'answer': expected a string, got number"},
      {[](json& d) { d["0791239"]["fullAnswer"] = false; },
       kFile + ": question \"0791239\": field 'fullAnswer': expected a string, got boolean"},
      {[](json& d) { d["0791239"]["types"]["semantic"] = json::object(); },
       kFile + ": question \"0791239\": field 'types.semantic': expected a string, got object"},
      {[](json& d) { d["0791239"]["types"] = "verify"; },
       kFile + ": question \"0791239\": field 'types': expected an object, got string"},
      {[](json& d) { d["0791239"] = 5; },
       kFile + ": question \"0791239\": field 'imageId': missing (the record is not an object, got number)"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/" + kFile;
    json doc = json::parse(read_file(fixture("gqa/" + kFile)));
    cases[i].mutate(doc);
    write_text(file, doc.dump());
    std::string msg = error_of([&] { data::load_gqa(file, images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
}

TEST(Gqa, TolerantModeSkipsAndCounts) {
  std::string images = gqa_images("tolerant");
  data::LoadReport report;
  auto got = data::load_gqa(fixture("gqa/bad_balanced_questions.json"), images, /*strict=*/false, &report);
  auto check = data::check_images(got, /*strict=*/false, &report);  // the annotations read; then the images
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "1");
  EXPECT_EQ(got[0].targets, std::vector<std::string>{"red"});
  EXPECT_EQ(report.records, 7u);
  EXPECT_EQ(report.skipped, 6u);
  EXPECT_EQ(report.reasons["image file not found"], 1u);
  EXPECT_EQ(report.reasons["field 'question': missing"], 1u);
  EXPECT_EQ(report.reasons["field 'answer': expected a string, got number"], 1u);
  EXPECT_EQ(report.reasons["field 'types': expected an object, got string"], 1u);
  EXPECT_EQ(report.reasons["field 'types.structural': expected a string, got number"], 1u);
  EXPECT_EQ(report.reasons["field 'imageId': missing (the record is not an object, got array)"], 1u);
  ASSERT_EQ(check.first_problems.size(), 1u);
  EXPECT_EQ(check.first_problems[0], "gqa 2: " + images + "/5.jpg: image file not found");
}

TEST(Gqa, WrongShapeNotJsonAndManifest) {
  std::string root = temp_dir("shape");
  std::string images = gqa_images("shape_images");
  std::string file = root + "/gqa/questions/" + kFile;  // the manifest is two levels up, as in the world
  fs::create_directories(root + "/gqa/questions");
  write_text(file, "[{\"question\": \"a list is not GQA\"}]");
  data::LoadReport report;
  EXPECT_NE(error_of([&] {
              data::load_gqa(file, images, false, &report);
            }).find(kFile + ": expected a JSON object mapping question ids to questions (GQA format)"),
            std::string::npos);
  write_text(file, "{\"1\": ");
  EXPECT_NE(error_of([&] { data::load_gqa(file, images, false, &report); }).find("not valid JSON"), std::string::npos);

  write_text(file, read_file(fixture("gqa/" + kFile)));
  write_text(root + "/MANIFEST.json", json{{"files", {{"gqa/questions/" + kFile, sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_gqa(file, images).size(), 3u);
  write_text(file, read_file(file) + "\n");
  EXPECT_NE(error_of([&] { data::load_gqa(file, images); }).find(kFile + ": SHA-256 does not match"),
            std::string::npos);
}

TEST(Gqa, NeverCrashesOnAnyJsonShape) {
  std::string images = gqa_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/" + kFile;
  size_t runs = 0;
  for (const json& m : mutations(json::parse(read_file(fixture("gqa/" + kFile))))) {
    write_text(file, m.dump());
    try {
      data::load_gqa(file, images);
    } catch (const Error&) {
    }
    data::LoadReport report;
    try {
      data::load_gqa(file, images, false, &report);
    } catch (const Error&) {
      EXPECT_FALSE(m.is_object()) << "tolerant mode threw on an object: " << m.dump();
    }
    ++runs;
  }
  EXPECT_GT(runs, 100u);
}

TEST(Gqa, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "val", "testdev"}) {
    auto got = data::load_gqa(root + "/gqa/questions/" + s + "_balanced_questions.json", root + "/gqa/images");
    ASSERT_EQ(got.size(), world_count("gqa", s, "questions")) << s;
    for (const auto& ex : got) {
      EXPECT_EQ(ex.targets.size(), 1u);
      EXPECT_EQ(ex.meta.size(), 4u);  // structural, semantic, detailed, fullAnswer
      EXPECT_TRUE(fs::exists(ex.image_paths.at(0)));
    }
  }
}
