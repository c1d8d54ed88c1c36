#include "eval/results.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "../error_of.h"

using namespace smoes::eval;

namespace {

std::string fixture(const std::string& name) { return std::string(SMOES_FIXTURES_DIR) + "/eval/" + name; }

#define EXPECT_HAS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

}  // namespace

TEST(CaptionResults, ReadsIntegerAndStringIds) {
  auto r = read_caption_results(fixture("captions_results.json"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.at("42"), "A dog runs on the grass.");
  EXPECT_EQ(r.at("coco_7"), "two cats");
}

TEST(CaptionResults, BadRecordsNameFileRecordAndField) {
  std::string msg = error_of([] { read_caption_results(fixture("captions_duplicate.json")); });
  EXPECT_HAS(msg, "captions_duplicate.json: record 2: field 'image_id': id 1 appears twice (first at record 0)");
  msg = error_of([] { read_caption_results(fixture("captions_bad_caption.json")); });
  EXPECT_HAS(msg, "captions_bad_caption.json: record 1: field 'caption': expected a string, got number");
  msg = error_of([] { read_caption_results(fixture("captions_missing_id.json")); });
  EXPECT_HAS(msg, "record 0: field 'image_id': missing");
  msg = error_of([] { read_caption_results(fixture("captions_float_id.json")); });
  EXPECT_HAS(msg, "record 0: field 'image_id': expected an integer or non-empty string id");
  msg = error_of([] { read_caption_results(fixture("answers_object.json")); });
  EXPECT_HAS(msg, "answers_object.json: expected a JSON array");
  msg = error_of([] { read_caption_results(fixture("not_json.json")); });
  EXPECT_HAS(msg, "not_json.json: not valid JSON");
  msg = error_of([] { read_caption_results(fixture("no_such_file.json")); });
  EXPECT_HAS(msg, "no_such_file.json");
}

TEST(CaptionResults, UnknownIdsAreRejectedWhenTheEvaluatedSetIsGiven) {
  IdSet known = {"42"};
  std::string msg = error_of([&] { read_caption_results(fixture("captions_results.json"), &known); });
  EXPECT_HAS(msg, "record 1: field 'image_id': id coco_7 is not in the evaluated set");
  known.insert("coco_7");
  EXPECT_EQ(read_caption_results(fixture("captions_results.json"), &known).size(), 2u);
}

TEST(AnswerResults, VqaListAndPlainObject) {
  auto vqa = read_answer_results(fixture("vqa_results.json"));
  EXPECT_EQ(vqa, (std::map<std::string, std::string>{{"1001", "yes"}, {"1002", "2"}}));
  auto obj = read_answer_results(fixture("answers_object.json"));
  EXPECT_EQ(obj.at("dev-850-0-0"), "True");
  EXPECT_EQ(obj.size(), 3u);
}

TEST(AnswerResults, DuplicateKeysAndNonStringAnswersAreErrors) {
  std::string msg = error_of([] { read_answer_results(fixture("answers_duplicate_key.json")); });
  EXPECT_HAS(msg, "answers_duplicate_key.json: key 'q1' appears twice");
  msg = error_of([] { read_answer_results(fixture("answers_not_string.json")); });
  EXPECT_HAS(msg, "answers_not_string.json: key 'q2': field 'answer': expected a string, got array");
  IdSet known = {"q1"};
  msg = error_of([&] { read_answer_results(fixture("answers_object.json"), &known); });
  EXPECT_HAS(msg, "is not in the evaluated set");
}

TEST(BoxResults, RefIdWinsOverImageIdAndBoxesAreValidated) {
  auto r = read_box_results(fixture("boxes_results.json"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_DOUBLE_EQ(r.at("7").w, 30.5);
  EXPECT_DOUBLE_EQ(r.at("101").h, 5);
  std::string msg = error_of([] { read_box_results(fixture("boxes_bad_bbox.json")); });
  EXPECT_HAS(msg, "boxes_bad_bbox.json: record 0: field 'bbox': expected [x, y, w, h] (4 numbers)");
  msg = error_of([] { read_box_results(fixture("boxes_negative.json")); });
  EXPECT_HAS(msg, "record 0: field 'bbox': width and height must be >= 0");
  msg = error_of([] { read_box_results(fixture("boxes_no_id.json")); });
  EXPECT_HAS(msg, "record 0: field 'ref_id': missing");
}

TEST(VcrResults, ChoiceIndicesAreChecked) {
  auto r = read_vcr_results(fixture("vcr_results.json"));
  EXPECT_EQ(r.at("val-1").answer, 3);
  EXPECT_EQ(r.at("val-0").rationale, 0);
  std::string msg = error_of([] { read_vcr_results(fixture("vcr_bad_choice.json")); });
  EXPECT_HAS(msg, "vcr_bad_choice.json: key 'val-1': field 'answer': expected a choice index 0..3, got 4");
}

TEST(WriteMetrics, WritesIndentedJson) {
  auto path = (std::filesystem::temp_directory_path() / "smoes_eval_metrics_test.json").string();
  write_metrics(path, {{"BLEU-4", 0.25}, {"images", 3}});
  auto back = nlohmann::json::parse(smoes::read_file(path));
  EXPECT_DOUBLE_EQ(back["BLEU-4"].get<double>(), 0.25);
  EXPECT_EQ(back["images"].get<int>(), 3);
  std::filesystem::remove(path);
}
