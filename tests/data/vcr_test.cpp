// VCR loader on hand-written JSON-lines fixtures in the published format, with
// object references in the tokens (tests/fixtures/data/vcr); images are tiny
// files in a temp dir.
#include "data/vcr.h"
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

const std::string kImg0 = "lsmdc_3015_CHARLIE_ST_CLOUD/3015_CHARLIE_ST_CLOUD_00.23.57.935-00.24.00.783@0";
const std::string kImg1 = "lsmdc_1054_Harry_Potter/1054_Harry_Potter_00.01.01.001@5";

// vcr1images: the first movie frame as .jpg (as named in the file), the
// second and the bad-fixture frame as .png (the world writes PNGs).
std::string vcr_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/vcr1images";
  write_png(dir + "/" + kImg0 + ".jpg");
  write_png(dir + "/" + kImg1 + ".png");
  write_png(dir + "/lsmdc_x/x@0.png");
  return dir;
}

std::string render(const json& tokens, const std::vector<std::string>& objects) {
  std::string text, problem;
  if (!data::render_vcr_tokens(tokens, objects, text, problem)) return "ERROR: " + problem;
  return text;
}

}  // namespace

TEST(Vcr, RendersTokensAndObjectReferences) {
  const std::vector<std::string> objects = {"person", "person", "horse"};
  EXPECT_EQ(render(json::parse(R"(["Why", "is", [0], "smiling", "?"])"), objects), "Why is person0 smiling?");
  EXPECT_EQ(render(json::parse(R"([[0, 2], "are", "friends", "."])"), objects), "person0 and horse2 are friends.");
  EXPECT_EQ(
      render(json::parse(R"j([[0, 1, 2], "(", "all", ")", "do", "n't", "know", "it", "'s", "late", ",", "yes", "!"])j"),
             objects),
      "person0, person1 and horse2 (all) don't know it's late, yes!");
  EXPECT_EQ(render(json::parse(R"(["They", "don", "'t", "pay", "$", "5", "."])"), objects), "They don't pay $5.");
  EXPECT_EQ(render(json::parse(R"(["a", [0, 3]])"), objects),
            "ERROR: object reference [0,3]: 3 is not an index into the 3 objects");
  EXPECT_EQ(render(json::parse(R"(["a", [-1]])"), objects),
            "ERROR: object reference [-1]: -1 is not an index into the 3 objects");
  EXPECT_EQ(render(json::parse(R"(["a", ["0"]])"), objects),
            "ERROR: object reference [\"0\"]: \"0\" is not an index into the 3 objects");
  EXPECT_EQ(render(json::parse(R"(["a", []])"), objects), "ERROR: empty object reference");
  EXPECT_EQ(render(json::parse(R"(["a", 1])"), objects),
            "ERROR: a token must be a word or a list of object indices, got number");
  EXPECT_EQ(render(json::parse(R"([])"), objects), "ERROR: empty");
  EXPECT_EQ(render(json::parse(R"("Why?")"), objects), "ERROR: expected a list of tokens, got string");
}

TEST(Vcr, DeeplyNestedOrHugeValuesAreReportedBriefly) {
  std::string images = vcr_images("deep");
  auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  std::string file = temp_dir("deep_file") + "/val.jsonl";
  auto write_question = [&](const std::string& deep) {
    write_text(file,
               R"({"annot_id": "d", "img_fn": "lsmdc_x/x@0.jpg", "objects": ["person"], "question": ["Is", [0, )" +
                   deep + R"(], "ok", "?"]})" + "\n");
  };
  write_question(nested(900));  // within the JSON nesting limit (core/json_input.h)
  std::string msg = error_of([&] { data::load_vcr(file, images); });
  EXPECT_NE(
      msg.find("line 1 (annot_id d): field 'question': object reference [0,[...]]: [...] is not an index into the "
               "1 objects"),
      std::string::npos)
      << msg.substr(0, 300);
  write_question(nested(100000));  // beyond it: refused before parsing
  msg = error_of([&] { data::load_vcr(file, images); });
  EXPECT_NE(msg.find("val.jsonl: line 1: JSON nested deeper than 1000 levels"), std::string::npos)
      << msg.substr(0, 300);
  EXPECT_LT(msg.size(), 300u);
  write_text(file, R"({"annot_id": "d", "img_fn": "lsmdc_x/x@0.jpg", "objects": ["person"], "question": [[")" +
                       std::string(1000, 'x') + R"("]]})" + "\n");
  msg = error_of([&] { data::load_vcr(file, images); });
  EXPECT_LT(msg.size(), 300u) << msg;
}

TEST(Vcr, ReadsJsonLinesIntoQaAndQarExamples) {
  std::string images = vcr_images("read");
  auto got = data::load_vcr(fixture("vcr/val.jsonl"), images);
  ASSERT_EQ(got.size(), 4u);
  const std::string img0 = images + "/" + kImg0 + ".jpg", img1 = images + "/" + kImg1 + ".png";
  const std::map<std::string, std::string> meta0 = {{"metadata_fn", images + "/" + kImg0 + ".json"}};
  const std::map<std::string, std::string> meta1 = {{"metadata_fn", images + "/" + kImg1 + ".json"}};
  const std::vector<std::string> answers0 = {"Yes because the person sitting next to her is her friend.",
                                             "No she does not.", "Yes, she is wearing something with thin straps.",
                                             "Yes, she is cold."};
  const std::vector<std::string> rationales0 = {"There is snow on the ground, and she is wearing a coat and hat.",
                                                "She is standing with her arms crossed and looks disturbed.",
                                                "She is sitting very close to person1.",
                                                "Her face is flushed and she's staring at person0 and person1."};
  expect_same(got[0], make("vcr_qa", "val-0", {img0}, "<image>\nQuestion: Does person2 feel comfortable?\nAnswer:",
                           {"No she does not."}, answers0, 1, meta0));
  expect_same(got[1], make("vcr_qar", "val-0", {img0},
                           "<image>\nQuestion: Does person2 feel comfortable?\nAnswer: No she does not.\nRationale:",
                           {rationales0[1]}, rationales0, 1, meta0));
  const std::string q1 = "Why is person0, person1 and dog2 (all of them) here?";
  const std::vector<std::string> answers1 = {"They are waiting for dog2.", "They don't know.",
                                             "Because person1 called them.", "It's raining."};
  const std::vector<std::string> rationales1 = {"person1 is holding a phone.", "The dog is asleep.", "Nobody is here.",
                                                "It is sunny."};
  expect_same(got[2], make("vcr_qa", "val-1", {img1}, data::vcr_qa_prompt(q1), {answers1[2]}, answers1, 2, meta1));
  expect_same(got[3], make("vcr_qar", "val-1", {img1}, data::vcr_qar_prompt(q1, answers1[2]), {rationales1[0]},
                           rationales1, 0, meta1));
}

TEST(Vcr, TestSplitWithoutLabelsGivesOnlyQaWithNoAnswer) {
  std::string images = vcr_images("test");
  auto got = data::load_vcr(fixture("vcr/test.jsonl"), images);
  ASSERT_EQ(got.size(), 1u);
  expect_same(
      got[0],
      make("vcr_qa", "test-0", {images + "/" + kImg1 + ".png"}, data::vcr_qa_prompt("Is person0 riding horse1?"), {},
           {"Yes.", "No.", "Maybe.", "Only later."}, -1, {{"metadata_fn", images + "/" + kImg1 + ".json"}}));
}

TEST(Vcr, StrictModeNamesFileLineAndField) {
  std::string images = vcr_images("strict");
  std::string msg = error_of([&] { data::load_vcr(fixture("vcr/bad.jsonl"), images); });
  EXPECT_NE(
      msg.find("bad.jsonl: line 2 (annot_id bad-1): field 'question': object reference [1]: 1 is not an index into the "
               "1 objects"),
      std::string::npos)
      << msg;
  const std::string f = "val.jsonl: line 2 (annot_id val-1): ";
  struct Case {
    std::function<void(json&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r["answer_choices"][3] = "It's raining."; },
       f + "field 'answer_choices[3]': expected a list of tokens, got string"},
      {[](json& r) { r["answer_choices"][0][4] = {7}; },
       f + "field 'answer_choices[0]': object reference [7]: 7 is not an index into the 3 objects"},
      {[](json& r) { r["rationale_choices"].erase(0); }, f + "field 'rationale_choices': expected 4 choices, got 3"},
      {[](json& r) { r["rationale_choices"] = json::object(); },
       f + "field 'rationale_choices': expected a list of 4 choices, got object"},
      {[](json& r) { r["rationale_label"] = -1; }, f + "field 'rationale_label': must be in [0, 4), got -1"},
      {[](json& r) { r["answer_label"] = 1.0; }, f + "field 'answer_label': expected an integer, got number"},
      {[](json& r) { r["objects"][2] = 2; }, f + "field 'objects[2]': expected a string, got number"},
      {[](json& r) { r.erase("question"); }, f + "field 'question': missing"},
      {[](json& r) { r.erase("img_fn"); }, f + "field 'img_fn': missing"},
      {[](json& r) { r["metadata_fn"] = 3; }, f + "field 'metadata_fn': expected a string, got number"},
      {[](json& r) { r.erase("annot_id"); }, "val.jsonl: line 2: field 'annot_id': missing"},
  };
  json lines = read_lines(fixture("vcr/val.jsonl"));
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/val.jsonl";
    json m = lines;
    cases[i].mutate(m[1]);
    write_lines(file, m);
    msg = error_of([&] { data::load_vcr(file, images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
  // Annotations alone: a record whose image is absent loads with the path it
  // names; check_images names it for both of its examples.
  std::string file = temp_dir("no_image") + "/val.jsonl";
  lines[1]["img_fn"] = "lsmdc_y/y@1.jpg";
  write_lines(file, lines);
  auto got = data::load_vcr(file, images);
  ASSERT_EQ(got.size(), 4u);
  msg = error_of([&] { data::check_images(got, /*strict=*/true, nullptr); });
  EXPECT_NE(msg.find("2 example(s) refer to 1 missing and 0 unreadable image file(s)"), std::string::npos) << msg;
  EXPECT_NE(msg.find(images + "/lsmdc_y/y@1.jpg: image file not found"), std::string::npos) << msg;
}

TEST(Vcr, TolerantModeSkipsAndCounts) {
  std::string images = vcr_images("tolerant");
  data::LoadReport report;
  auto got = data::load_vcr(fixture("vcr/bad.jsonl"), images, /*strict=*/false, &report);
  data::check_images(got, /*strict=*/false, &report);  // the annotations read; then the images
  ASSERT_EQ(got.size(), 2u);  // bad-0 as vcr_qa and vcr_qar
  EXPECT_EQ(got[0].id, "bad-0");
  EXPECT_EQ(got[1].task, "vcr_qar");
  EXPECT_EQ(got[1].prompt, data::vcr_qar_prompt("Who is person0?", "a"));
  EXPECT_EQ(got[1].meta.size(), 0u);  // no metadata_fn
  EXPECT_EQ(report.records, 9u);
  EXPECT_EQ(report.skipped, 9u);  // 7 records, and the 2 examples of the one whose image is absent
  EXPECT_EQ(report.reasons["field 'question': object reference [1]: 1 is not an index into the 1 objects"], 1u);
  EXPECT_EQ(report.reasons["field 'answer_choices': expected 4 choices, got 3"], 1u);
  EXPECT_EQ(report.reasons["field 'answer_label': must be in [0, 4), got 4"], 1u);
  EXPECT_EQ(report.reasons["image file not found"], 2u);
  EXPECT_EQ(report.reasons["field 'question': a token must be a word or a list of object indices, got number"], 1u);
  EXPECT_EQ(report.reasons["field 'objects': expected a list, got string"], 1u);
  EXPECT_EQ(report.reasons["field 'annot_id': missing"], 1u);
  EXPECT_EQ(report.reasons["not valid JSON"], 1u);
}

TEST(Vcr, ManifestIsChecked) {
  std::string root = temp_dir("manifest");
  std::string images = vcr_images("manifest_images");
  std::string file = root + "/vcr/val.jsonl";
  fs::create_directories(root + "/vcr");
  write_text(file, read_file(fixture("vcr/val.jsonl")));
  write_text(root + "/MANIFEST.json", json{{"files", {{"vcr/val.jsonl", sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_vcr(file, images).size(), 4u);
  write_text(file, read_file(file) + "\n");
  EXPECT_NE(error_of([&] { data::load_vcr(file, images); }).find("val.jsonl: SHA-256 does not match"),
            std::string::npos);
}

TEST(Vcr, NeverCrashesOnAnyJsonShape) {
  std::string images = vcr_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/val.jsonl";
  expect_never_crashes(fixture("vcr/val.jsonl"), file,
                       [&](bool strict, data::LoadReport* r) { return data::load_vcr(file, images, strict, r); });
}

TEST(Vcr, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "val"}) {
    auto got = data::load_vcr(root + "/vcr/" + s + ".jsonl", root + "/vcr/vcr1images");
    ASSERT_EQ(got.size(), 2 * world_count("vcr", s, "questions")) << s;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].task, i % 2 ? "vcr_qar" : "vcr_qa");
      EXPECT_EQ(got[i].choices.size(), 4u);
      EXPECT_GE(got[i].answer_index, 0);
      EXPECT_TRUE(fs::exists(got[i].image_paths.at(0)));
      EXPECT_TRUE(fs::exists(got[i].meta.at("metadata_fn")));
    }
  }
}
