// VQA v2 and VQA-CP v2 loaders on hand-written fixtures in the published
// formats (tests/fixtures/data/{vqa,vqacp}); images are tiny PNGs (and one
// .jpg, to check it is preferred) written into a temp dir.
#include "data/vqa.h"
#include "data/image_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "loader_test_util.h"

using namespace smoes;
using namespace loader_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

data::Example make(std::string task, std::string id, std::string image, std::string prompt,
                   std::vector<std::string> targets, std::map<std::string, std::string> meta) {
  data::Example ex;
  ex.task = task;
  ex.id = id;
  ex.image_paths = {image};
  ex.prompt = prompt;
  ex.targets = targets;
  ex.meta = meta;
  return ex;
}

const std::string kQuestions = "v2_OpenEnded_mscoco_val2014_questions.json";
const std::string kAnnotations = "v2_mscoco_val2014_annotations.json";

// COCO images of the fixtures: 42 as .png only, 73 as .jpg and .png (the .jpg wins).
std::string coco_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/images";
  write_png(dir + "/val2014/COCO_val2014_000000000042.png");
  write_png(dir + "/val2014/COCO_val2014_000000000073.jpg");
  write_png(dir + "/val2014/COCO_val2014_000000000073.png");
  write_png(dir + "/train2014/COCO_train2014_000000000009.png");
  return dir;
}

// Writes the (possibly mutated) fixture docs into `dir` under their real names.
struct VqaFiles {
  std::string dir;
  json questions = json::parse(read_file(fixture("vqa/" + kQuestions)));
  json annotations = json::parse(read_file(fixture("vqa/" + kAnnotations)));
  std::string q() const { return dir + "/" + kQuestions; }
  std::string a() const { return dir + "/" + kAnnotations; }
  void write() const {
    write_text(q(), questions.dump());
    write_text(a(), annotations.dump());
  }
};

}  // namespace

TEST(VqaV2, ReadsThePublishedFormat) {
  std::string images = coco_images("read");
  auto got = data::load_vqa_v2(fixture("vqa/" + kQuestions), fixture("vqa/" + kAnnotations), images);
  ASSERT_EQ(got.size(), 3u);
  std::string img42 = images + "/val2014/COCO_val2014_000000000042.png";
  expect_same(
      got[0],
      make("vqa_v2", "42000", img42, "<image>\nQuestion: What color is the ball? Answer with a word or a number.",
           {"red", "red", "dark red", "red", "red", "orange", "red", "red", "red", "maroon"},
           {{"question_type", "what color is the"}, {"answer_type", "other"}, {"multiple_choice_answer", "red"}}));
  expect_same(
      got[1],
      make("vqa_v2", "42001", img42, "<image>\nQuestion: How many balls are there? Answer with a word or a number.",
           {"2", "2", "two", "2", "3", "2", "2", "2", "1", "2"},
           {{"question_type", "how many"}, {"answer_type", "number"}, {"multiple_choice_answer", "2"}}));
  expect_same(got[2], make("vqa_v2", "73000", images + "/val2014/COCO_val2014_000000000073.jpg",
                           "<image>\nQuestion: Is the cube red? Answer with a word or a number.",
                           {"no", "no", "no", "yes", "no", "no", "no", "no", "no", "no"},
                           {{"question_type", "is the"}, {"answer_type", "yes/no"}, {"multiple_choice_answer", "no"}}));
  EXPECT_EQ(data::vqa_prompt("Why?"), "<image>\nQuestion: Why? Answer with a word or a number.");
}

TEST(VqaV2, WithoutAnnotationsThereAreNoTargets) {
  std::string images = coco_images("noann");
  data::LoadReport report;
  auto got = data::load_vqa_v2(fixture("vqa/" + kQuestions), "", images, false, &report);
  ASSERT_EQ(got.size(), 3u);
  expect_same(got[2], make("vqa_v2", "73000", images + "/val2014/COCO_val2014_000000000073.jpg",
                           data::vqa_prompt("Is the cube red?"), {}, {}));
  EXPECT_EQ(report.records, 3u);
  EXPECT_EQ(report.skipped, 0u);
}

TEST(VqaV2, ImageFolderFromTheFileNameAndTestDevUsesTest2015) {
  std::string dir = temp_dir("testdev");
  json q = json::parse(read_file(fixture("vqa/" + kQuestions)));
  q.erase("data_subtype");
  std::string file = dir + "/v2_OpenEnded_mscoco_test-dev2015_questions.json";
  write_text(file, q.dump());
  for (int id : {42, 73}) write_png(dir + "/images/test2015/COCO_test2015_0000000000" + std::to_string(id) + ".png");
  auto got = data::load_vqa_v2(file, "", dir + "/images");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].image_paths[0], dir + "/images/test2015/COCO_test2015_000000000042.png");

  write_text(dir + "/questions.json", q.dump());
  EXPECT_NE(
      error_of([&] { data::load_vqa_v2(dir + "/questions.json", "", dir); }).find("cannot tell the COCO image folder"),
      std::string::npos);
  q["data_subtype"] = 5;
  write_text(dir + "/questions.json", q.dump());
  EXPECT_NE(error_of([&] {
              data::load_vqa_v2(dir + "/questions.json", "", dir);
            }).find("questions.json: field 'data_subtype': expected a non-empty string"),
            std::string::npos);
}

TEST(VqaV2, StrictModeNamesFileRecordAndField) {
  std::string images = coco_images("strict");
  struct Case {
    std::function<void(VqaFiles&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](VqaFiles& f) { f.questions["questions"][1].erase("question"); },
       kQuestions + ": questions[1] (question_id 42001): field 'question': missing"},
      {[](VqaFiles& f) { f.questions["questions"][0]["image_id"] = "42"; },
       kQuestions + ": questions[0] (question_id 42000): field 'image_id': expected an integer, got string"},
      {[](VqaFiles& f) { f.questions["questions"][0]["question_id"] = -1; },
       kQuestions + ": questions[0]: field 'question_id': must be at least 0, got -1"},
      {[](VqaFiles& f) { f.questions["questions"][2] = f.questions["questions"][1]; },
       kQuestions + ": questions[2] (question_id 42001): field 'question_id': duplicate question_id"},
      {[](VqaFiles& f) { f.questions["questions"][2] = "73000"; },
       kQuestions + ": questions[2]: field 'question_id': missing (the record is not an object, got string)"},
      {[](VqaFiles& f) { f.annotations["annotations"][2]["answers"][4]["answer"] = 3; },
       kAnnotations + ": annotations[2] (question_id 73000): field 'answers[4].answer': expected a string, got number"},
      {[](VqaFiles& f) { f.annotations["annotations"][1]["answers"].erase(0); },
       kAnnotations + ": annotations[1] (question_id 42001): field 'answers': expected 10 answers, got 9"},
      {[](VqaFiles& f) { f.annotations["annotations"][0].erase("multiple_choice_answer"); },
       kAnnotations + ": annotations[0] (question_id 42000): field 'multiple_choice_answer': missing"},
      {[](VqaFiles& f) { f.annotations["annotations"][0]["question_type"] = nullptr; },
       kAnnotations + ": annotations[0] (question_id 42000): field 'question_type': missing"},
      {[](VqaFiles& f) { f.annotations["annotations"][0]["answer_type"] = 1; },
       kAnnotations + ": annotations[0] (question_id 42000): field 'answer_type': expected a string, got number"},
      {[](VqaFiles& f) { f.annotations["annotations"][1]["question_id"] = 42000; },
       kAnnotations + ": annotations[1] (question_id 42000): field 'question_id': duplicate question_id"},
      {[](VqaFiles& f) { f.annotations["annotations"][2]["question_id"] = 5; },
       kQuestions +
           ": questions[2] (question_id 73000): field 'question_id': no valid annotation with this question_id in "},
      {[](VqaFiles& f) { f.annotations["annotations"][2]["image_id"] = 42; },
       kQuestions +
           ": questions[2] (question_id 73000): field 'image_id': the annotation of this question has image_id 42"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    VqaFiles files{temp_dir("strict_case")};
    cases[i].mutate(files);
    files.write();
    std::string msg = error_of([&] { data::load_vqa_v2(files.q(), files.a(), images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
  // Annotations alone (as the official scorer reads them): a question whose
  // image is absent loads with the path it names; check_images names it.
  VqaFiles files{temp_dir("no_image")};
  files.questions["questions"][1]["image_id"] = 7;
  files.annotations["annotations"][1]["image_id"] = 7;
  files.write();
  auto got = data::load_vqa_v2(files.q(), files.a(), images);
  ASSERT_EQ(got.size(), files.questions["questions"].size());
  std::string msg = error_of([&] { data::check_images(got, /*strict=*/true, nullptr); });
  EXPECT_NE(msg.find("vqa_v2 42001: " + images + "/val2014/COCO_val2014_000000000007.jpg: image file not found"),
            std::string::npos)
      << msg;
}

TEST(VqaV2, TolerantModeSkipsAndCounts) {
  std::string images = coco_images("tolerant");
  data::LoadReport report;
  auto got = data::load_vqa_v2(fixture("vqa/bad/" + kQuestions), fixture("vqa/bad/" + kAnnotations), images,
                               /*strict=*/false, &report);
  data::check_images(got, /*strict=*/false, &report);  // the annotations read; then the images
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "42000");
  EXPECT_EQ(got[0].targets, std::vector<std::string>(10, "red"));
  EXPECT_EQ(report.records, 11u);  // 5 annotations + 6 questions
  EXPECT_EQ(report.skipped, 7u);
  EXPECT_EQ(report.reasons["field 'answers': expected 10 answers, got 3"], 1u);
  EXPECT_EQ(report.reasons["field 'question_id': missing (the record is not an object, got number)"], 1u);
  EXPECT_EQ(report.reasons["field 'question_id': expected an integer, got string"], 1u);
  EXPECT_EQ(report.reasons["field 'question': missing"], 1u);
  EXPECT_EQ(report.reasons["image file not found"], 1u);
  EXPECT_EQ(report.reasons["field 'image_id': the annotation of this question has image_id 42"], 1u);
  EXPECT_EQ(report.first_problems.size(), 7u);
  // The same files in strict mode stop at the first bad annotation.
  std::string msg = error_of(
      [&] { data::load_vqa_v2(fixture("vqa/bad/" + kQuestions), fixture("vqa/bad/" + kAnnotations), images); });
  EXPECT_NE(
      msg.find(kAnnotations + ": annotations[2] (question_id 42005): field 'answers': expected 10 answers, got 3"),
      std::string::npos)
      << msg;
}

TEST(VqaV2, WrongShapeOrNotJsonIsAnErrorInBothModes) {
  std::string dir = temp_dir("shape");
  std::string q = dir + "/" + kQuestions;
  data::LoadReport report;
  write_text(q, "[1, 2]");
  EXPECT_NE(error_of([&] {
              data::load_vqa_v2(q, "", dir, false, &report);
            }).find("expected a JSON object with a \"questions\" list (VQA v2 format)"),
            std::string::npos);
  write_text(q, "{\"questions\": [");
  EXPECT_NE(error_of([&] { data::load_vqa_v2(q, "", dir, false, &report); }).find("not valid JSON"), std::string::npos);
  write_text(q, read_file(fixture("vqa/" + kQuestions)));
  write_text(dir + "/a.json", "{\"annotations\": {}}");
  EXPECT_NE(error_of([&] {
              data::load_vqa_v2(q, dir + "/a.json", dir);
            }).find("a.json: expected a JSON object with a \"annotations\" list"),
            std::string::npos);
  EXPECT_NE(error_of([&] { data::load_vqa_v2(dir + "/absent.json", "", dir); }).find("absent.json"), std::string::npos);
}

TEST(VqaV2, FilesAreVerifiedAgainstTheManifest) {
  std::string root = temp_dir("manifest");
  std::string images = coco_images("manifest_images");
  VqaFiles files{root + "/vqa"};
  fs::create_directories(files.dir);
  files.write();
  json manifest = {
      {"files", {{"vqa/" + kQuestions, sha256_file(files.q())}, {"vqa/" + kAnnotations, sha256_file(files.a())}}}};
  write_text(root + "/MANIFEST.json", manifest.dump());
  EXPECT_EQ(data::load_vqa_v2(files.q(), files.a(), images).size(), 3u);
  write_text(files.a(), read_file(files.a()) + " ");
  std::string msg = error_of([&] { data::load_vqa_v2(files.q(), files.a(), images); });
  EXPECT_NE(msg.find(kAnnotations + ": SHA-256 does not match"), std::string::npos) << msg;
  files.write();
  write_text(files.q(), read_file(files.q()) + "\n");
  msg = error_of([&] { data::load_vqa_v2(files.q(), "", images); });
  EXPECT_NE(msg.find(kQuestions + ": SHA-256 does not match"), std::string::npos) << msg;
}

TEST(VqaV2, NeverCrashesOnAnyJsonShape) {
  std::string images = coco_images("fuzz");
  VqaFiles base{temp_dir("fuzz_files")};
  size_t runs = 0;
  for (int which = 0; which < 2; ++which) {
    for (const json& m : mutations(which == 0 ? base.questions : base.annotations)) {
      VqaFiles files = base;
      (which == 0 ? files.questions : files.annotations) = m;
      files.write();
      try {
        for (const auto& ex : data::load_vqa_v2(files.q(), files.a(), images))
          EXPECT_TRUE(fs::exists(ex.image_paths[0]));
      } catch (const Error&) {
      }
      data::LoadReport report;
      try {
        data::load_vqa_v2(files.q(), files.a(), images, false, &report);
      } catch (const Error&) {
      }
      EXPECT_LE(report.skipped, report.records);
      ++runs;
    }
  }
  EXPECT_GT(runs, 300u);
}

// ---- VQA-CP v2 ----------------------------------------------------------

TEST(VqaCp, ReadsPlainListsWithAnImageFolderPerRecord) {
  std::string images = coco_images("cp");
  auto got = data::load_vqa_cp(fixture("vqacp/vqacp_v2_test_questions.json"),
                               fixture("vqacp/vqacp_v2_test_annotations.json"), images);
  ASSERT_EQ(got.size(), 2u);
  expect_same(got[0], make("vqa_cp", "42000", images + "/val2014/COCO_val2014_000000000042.png",
                           data::vqa_prompt("What color is the ball?"),
                           {"red", "red", "red", "red", "pink", "red", "red", "red", "red", "red"},
                           {{"question_type", "what color is the"},
                            {"answer_type", "other"},
                            {"multiple_choice_answer", "red"},
                            {"coco_split", "val2014"}}));
  expect_same(got[1], make("vqa_cp", "9000", images + "/train2014/COCO_train2014_000000000009.png",
                           data::vqa_prompt("Is there a cube?"),
                           {"yes", "yes", "yes", "yes", "yes", "yes", "no", "yes", "yes", "yes"},
                           {{"question_type", "is there a"},
                            {"answer_type", "yes/no"},
                            {"multiple_choice_answer", "yes"},
                            {"coco_split", "train2014"}}));
}

TEST(VqaCp, BadRecordsAndShapes) {
  std::string images = coco_images("cp_bad");
  std::string dir = temp_dir("cp_bad_files");
  json q = json::parse(read_file(fixture("vqacp/vqacp_v2_test_questions.json")));
  std::string qf = dir + "/vqacp_v2_test_questions.json", af = fixture("vqacp/vqacp_v2_test_annotations.json");
  q[1].erase("coco_split");
  write_text(qf, q.dump());
  std::string msg = error_of([&] { data::load_vqa_cp(qf, af, images); });
  EXPECT_NE(msg.find("vqacp_v2_test_questions.json: questions[1] (question_id 9000): field 'coco_split': missing"),
            std::string::npos)
      << msg;
  data::LoadReport report;
  auto got = data::load_vqa_cp(qf, af, images, false, &report);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(report.records, 4u);
  EXPECT_EQ(report.skipped, 1u);

  q[1]["coco_split"] = "val2014";  // image 9 is only in train2014
  write_text(qf, q.dump());
  got = data::load_vqa_cp(qf, af, images);
  EXPECT_NE(error_of([&] {
              data::check_images(got, /*strict=*/true, nullptr);
            }).find(images + "/val2014/COCO_val2014_000000000009.jpg: image file not found"),
            std::string::npos);

  write_text(qf, read_file(fixture("vqa/" + kQuestions)));  // the VQA v2 wrapper is not VQA-CP
  EXPECT_NE(error_of([&] {
              data::load_vqa_cp(qf, "", images);
            }).find("expected a JSON list of questions records (VQA-CP format)"),
            std::string::npos);
}

TEST(VqaCp, NeverCrashesOnAnyJsonShape) {
  std::string images = coco_images("cp_fuzz");
  std::string dir = temp_dir("cp_fuzz_files");
  json q = json::parse(read_file(fixture("vqacp/vqacp_v2_test_questions.json")));
  json a = json::parse(read_file(fixture("vqacp/vqacp_v2_test_annotations.json")));
  for (int which = 0; which < 2; ++which) {
    for (const json& m : mutations(which == 0 ? q : a)) {
      write_text(dir + "/q.json", (which == 0 ? m : q).dump());
      write_text(dir + "/a.json", (which == 1 ? m : a).dump());
      try {
        data::load_vqa_cp(dir + "/q.json", dir + "/a.json", images);
      } catch (const Error&) {
      }
      data::LoadReport report;
      try {
        data::load_vqa_cp(dir + "/q.json", dir + "/a.json", images, false, &report);
      } catch (const Error&) {
      }
    }
  }
}

TEST(VqaV2, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train2014", "val2014"}) {
    auto got = data::load_vqa_v2(root + "/vqa/v2_OpenEnded_mscoco_" + s + "_questions.json",
                                 root + "/vqa/v2_mscoco_" + s + "_annotations.json", root + "/coco/images");
    ASSERT_EQ(got.size(), world_count("vqa", s, "questions")) << s;
    json q = json::parse(read_file(root + "/vqa/v2_OpenEnded_mscoco_" + s + "_questions.json"))["questions"][0];
    EXPECT_EQ(got[0].id, std::to_string(q["question_id"].get<int64_t>()));
    EXPECT_EQ(got[0].prompt, data::vqa_prompt(q["question"].get<std::string>()));
    for (const auto& ex : got) {
      EXPECT_EQ(ex.targets.size(), 10u);
      EXPECT_TRUE(fs::exists(ex.image_paths.at(0))) << ex.image_paths[0];
      EXPECT_NE(std::find(ex.targets.begin(), ex.targets.end(), ex.meta.at("multiple_choice_answer")),
                ex.targets.end());
    }
  }
}

TEST(VqaCp, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "test"}) {
    auto got = data::load_vqa_cp(root + "/vqacp/vqacp_v2_" + s + "_questions.json",
                                 root + "/vqacp/vqacp_v2_" + s + "_annotations.json", root + "/coco/images");
    ASSERT_EQ(got.size(), world_count("vqacp", s, "questions")) << s;
    for (const auto& ex : got) {
      EXPECT_EQ(ex.targets.size(), 10u);
      EXPECT_NE(ex.image_paths.at(0).find("/" + ex.meta.at("coco_split") + "/"), std::string::npos);
    }
  }
}
