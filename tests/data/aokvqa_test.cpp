// A-OKVQA loader on hand-written fixtures in the published format (a JSON list
// with 4 choices and 10 direct answers, tests/fixtures/data/aokvqa); images
// are tiny files in a temp dir.
#include "data/aokvqa.h"
#include "data/image_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loader_test_util.h"

using namespace smoes;
using namespace loader_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// COCO 2017 images: 461751 as .jpg, 42 and the test image 7 as .png.
std::string coco_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/coco";
  write_png(dir + "/val2017/000000461751.jpg");
  write_png(dir + "/val2017/000000000042.png");
  write_png(dir + "/test2017/000000000007.png");
  return dir;
}

}  // namespace

TEST(Aokvqa, ReadsTheJsonList) {
  std::string coco = coco_images("read");
  auto got = data::load_aokvqa(fixture("aokvqa/aokvqa_v1p0_val.json"), coco);
  ASSERT_EQ(got.size(), 2u);
  expect_same(got[0],
              make("aokvqa", "22jbM6gDxdaMaunuzgrsBB", {coco + "/val2017/000000461751.jpg"},
                   "<image>\nQuestion: What is in the motorcyclist's mouth? Answer with a word or a short phrase.",
                   std::vector<std::string>(10, "cigarette"), {"toothpick", "food", "popsicle stick", "cigarette"}, 3,
                   {{"rationales",
                     "He's smoking while riding.\nThe motorcyclist has a lit cigarette in his mouth while he rides "
                     "on the street.\nThe man is smoking."},
                    {"difficult_direct_answer", "false"}}));
  expect_same(got[1], make("aokvqa", "2D4pf8BZAzBmUTBhnBvFFw", {coco + "/val2017/000000000042.png"},
                           data::aokvqa_prompt("Which of these objects would float in water?"),
                           {"ball", "wooden ball", "ball", "the ball", "ball", "wood ball", "ball", "wooden ball",
                            "ball", "sphere"},
                           {"the metal cube", "the wooden ball", "the stone cone", "the glass cylinder"}, 1,
                           {{"rationales", "Wood is less dense than water.\nWooden things float."},
                            {"difficult_direct_answer", "true"}}));
}

TEST(Aokvqa, TestSplitHasNoAnswers) {
  std::string coco = coco_images("test");
  auto got = data::load_aokvqa(fixture("aokvqa/aokvqa_v1p0_test.json"), coco);
  ASSERT_EQ(got.size(), 1u);
  expect_same(got[0], make("aokvqa", "3kVrkNhwqKK6hAaX2vhsC8", {coco + "/test2017/000000000007.png"},
                           data::aokvqa_prompt("What could the red object be used for?"), {},
                           {"sitting", "throwing", "cutting", "writing"}, -1, {{"difficult_direct_answer", "false"}}));
}

TEST(Aokvqa, StrictModeNamesFileRecordAndField) {
  std::string coco = coco_images("strict");
  const std::string f = "aokvqa_v1p0_val.json: [1] (question_id 2D4pf8BZAzBmUTBhnBvFFw): ";
  struct Case {
    std::function<void(json&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& d) { d[1]["choices"].erase(3); }, f + "field 'choices': expected 4 items, got 3"},
      {[](json& d) { d[1]["choices"][2] = 3; }, f + "field 'choices[2]': expected a string, got number"},
      {[](json& d) { d[1]["choices"][2] = ""; }, f + "field 'choices[2]': empty"},
      {[](json& d) { d[1]["correct_choice_idx"] = 4; }, f + "field 'correct_choice_idx': must be in [0, 4), got 4"},
      {[](json& d) { d[1]["correct_choice_idx"] = "1"; },
       f + "field 'correct_choice_idx': expected an integer, got string"},
      {[](json& d) { d[1]["direct_answers"].erase(0); }, f + "field 'direct_answers': expected 10 items, got 9"},
      {[](json& d) { d[1]["direct_answers"][1] = nullptr; },
       f + "field 'direct_answers[1]': expected a string, got null"},
      {[](json& d) { d[1]["rationales"] = "Wood floats."; }, f + "field 'rationales': expected a list, got string"},
      {[](json& d) { d[1]["difficult_direct_answer"] = 1; },
       f + "field 'difficult_direct_answer': expected true or false, got number"},
      {[](json& d) { d[1]["image_id"] = "42"; }, f + "field 'image_id': expected an integer, got string"},
      {[](json& d) { d[1].erase("split"); }, f + "field 'split': missing"},
      {[](json& d) { d[1].erase("question"); }, f + "field 'question': missing"},
      {[](json& d) { d[1].erase("question_id"); }, "aokvqa_v1p0_val.json: [1]: field 'question_id': missing"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/aokvqa_v1p0_val.json";
    json doc = json::parse(read_file(fixture("aokvqa/aokvqa_v1p0_val.json")));
    cases[i].mutate(doc);
    write_text(file, doc.dump());
    std::string msg = error_of([&] { data::load_aokvqa(file, coco); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
  // Annotations alone: a question whose image is absent loads with the path it
  // names; check_images names it.
  std::string file = temp_dir("no_image") + "/aokvqa_v1p0_val.json";
  json doc = json::parse(read_file(fixture("aokvqa/aokvqa_v1p0_val.json")));
  doc[1]["split"] = "train";
  write_text(file, doc.dump());
  auto got = data::load_aokvqa(file, coco);
  ASSERT_EQ(got.size(), doc.size());
  std::string msg = error_of([&] { data::check_images(got, /*strict=*/true, nullptr); });
  EXPECT_NE(msg.find(coco + "/train2017/000000000042.jpg: image file not found"), std::string::npos) << msg;
}

TEST(Aokvqa, TolerantModeSkipsAndCounts) {
  std::string coco = coco_images("tolerant");
  data::LoadReport report;
  auto got = data::load_aokvqa(fixture("aokvqa/bad.json"), coco, /*strict=*/false, &report);
  data::check_images(got, /*strict=*/false, &report);  // the annotations read; then the images
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "good");
  EXPECT_EQ(report.records, 9u);
  EXPECT_EQ(report.skipped, 8u);
  EXPECT_EQ(report.reasons["field 'choices': expected 4 items, got 3"], 1u);
  EXPECT_EQ(report.reasons["field 'correct_choice_idx': must be in [0, 4), got 4"], 1u);
  EXPECT_EQ(report.reasons["field 'direct_answers': expected 10 items, got 9"], 1u);
  EXPECT_EQ(report.reasons["image file not found"], 1u);
  EXPECT_EQ(report.reasons["field 'image_id': expected an integer, got string"], 1u);
  EXPECT_EQ(report.reasons["field 'difficult_direct_answer': expected true or false, got string"], 1u);
  EXPECT_EQ(report.reasons["field 'split': missing"], 1u);
  EXPECT_EQ(report.reasons["field 'question_id': missing (the record is not an object, got string)"], 1u);
}

TEST(Aokvqa, WrongShapeNotJsonAndManifest) {
  std::string root = temp_dir("shape");
  std::string coco = coco_images("shape_images");
  std::string file = root + "/aokvqa/aokvqa_v1p0_val.json";
  fs::create_directories(root + "/aokvqa");
  data::LoadReport report;
  write_text(file, "{\"questions\": []}");
  EXPECT_NE(error_of([&] {
              data::load_aokvqa(file, coco, false, &report);
            }).find("aokvqa_v1p0_val.json: expected a JSON list of questions (A-OKVQA format)"),
            std::string::npos);
  write_text(file, "[{");
  EXPECT_NE(error_of([&] { data::load_aokvqa(file, coco, false, &report); }).find("not valid JSON"), std::string::npos);
  write_text(file, read_file(fixture("aokvqa/aokvqa_v1p0_val.json")));
  write_text(root + "/MANIFEST.json", json{{"files", {{"aokvqa/aokvqa_v1p0_val.json", sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_aokvqa(file, coco).size(), 2u);
  write_text(file, read_file(file) + " ");
  EXPECT_NE(error_of([&] { data::load_aokvqa(file, coco); }).find("aokvqa_v1p0_val.json: SHA-256 does not match"),
            std::string::npos);
}

TEST(Aokvqa, NeverCrashesOnAnyJsonShape) {
  std::string coco = coco_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/aokvqa_v1p0_val.json";
  size_t runs = 0;
  for (const json& m : mutations(json::parse(read_file(fixture("aokvqa/aokvqa_v1p0_val.json"))))) {
    write_text(file, m.dump());
    try {
      data::load_aokvqa(file, coco);
    } catch (const Error&) {
    }
    data::LoadReport report;
    try {
      data::load_aokvqa(file, coco, false, &report);
    } catch (const Error&) {
      EXPECT_FALSE(m.is_array()) << "tolerant mode threw on a list: " << m.dump();
    }
    ++runs;
  }
  EXPECT_GT(runs, 100u);
}

TEST(Aokvqa, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "val"}) {
    auto got = data::load_aokvqa(root + "/aokvqa/aokvqa_v1p0_" + s + ".json", root + "/aokvqa/images");
    ASSERT_EQ(got.size(), world_count("aokvqa", s, "questions")) << s;
    for (const auto& ex : got) {
      EXPECT_EQ(ex.choices.size(), 4u);
      EXPECT_EQ(ex.targets.size(), 10u);
      EXPECT_GE(ex.answer_index, 0);
      EXPECT_TRUE(fs::exists(ex.image_paths.at(0)));
    }
  }
}
