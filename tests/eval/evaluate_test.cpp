// Scoring model predictions: results files round-trip through the official
// formats to the same metrics, and keys stay unique.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "eval/evaluate.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

data::Example example(const std::string& id, std::vector<std::string> targets) {
  data::Example e;
  e.id = id;
  e.targets = std::move(targets);
  return e;
}

// Scores predictions directly and after a trip through the results file.
void expect_same_after_file(const tasks::Task& task, const std::vector<data::Example>& ex,
                            const std::vector<eval::Prediction>& p) {
  auto file = (fs::temp_directory_path() / ("smoes_results_" + task.name + ".json")).string();
  write_file_atomic(file, eval::results_json(task, ex, p).dump());
  auto back = eval::read_results(task, ex, file);
  EXPECT_EQ(eval::score(task, ex, back), eval::score(task, ex, p)) << task.name;
}

}  // namespace

TEST(Evaluate, RepeatedIdsGetDistinctKeys) {
  std::vector<data::Example> ex = {example("7", {}), example("7", {}), example("8", {}), example("7", {})};
  EXPECT_EQ(eval::example_keys(ex), (std::vector<std::string>{"7", "7#1", "8", "7#2"}));
}

TEST(Evaluate, VqaScoresAreTheOfficialOnesAndSurviveTheResultsFile) {
  std::vector<data::Example> ex = {
      example("1", {"red", "red", "red", "red", "red", "red", "red", "red", "blue", "blue"}),
      example("2", {"two", "2", "2", "3", "3", "3", "3", "3", "3", "3"})};
  std::vector<eval::Prediction> p(2);
  p[0].text = "blue";  // 2 of 10 humans: mean over leave-one-out of min(1, n/3) = 0.6
  p[1].text = "2";     // "two" normalises to "2": 3 matches -> 1 in 7 subsets, 2/3 in 3 -> 0.9
  auto m = eval::score(tasks::find_task("vqa_v2"), ex, p);
  EXPECT_NEAR(m["accuracy"].get<double>(), (0.6 + 0.9) / 2, 1e-12);
  expect_same_after_file(tasks::find_task("vqa_v2"), ex, p);
}

TEST(Evaluate, GroundingAndCaptionsSurviveTheResultsFile) {
  std::vector<data::Example> ex = {example("5", {}), example("5", {}), example("6", {})};
  ex[0].box = {0, 0, 10, 10};
  ex[1].box = {10, 10, 10, 10};
  ex[2].box = {0, 0, 4, 4};
  std::vector<eval::Prediction> p(3);
  p[0].box = {0, 0, 10, 10};  // IoU 1
  p[1].box = {15, 10, 10, 10};  // IoU 50/150
  // p[2]: no box decoded -> IoU 0
  auto m = eval::score(tasks::find_task("refcoco"), ex, p);
  EXPECT_NEAR(m["Acc@0.5"].get<double>(), 1.0 / 3, 1e-12);
  expect_same_after_file(tasks::find_task("refcoco"), ex, p);

  std::vector<data::Example> caps = {example("1", {"a red circle", "one red circle"}),
                                     example("2", {"a blue square on the left", "blue square"})};
  std::vector<eval::Prediction> c(2);
  c[0].text = "a red circle";
  c[1].text = "a square";
  expect_same_after_file(tasks::find_task("coco_captions"), caps, c);
}

TEST(Evaluate, ChoiceTasksCompareTheChosenText) {
  std::vector<data::Example> ex = {example("dev-1-0-0", {}), example("dev-1-1-0", {})};
  for (auto& e : ex) e.choices = {"no", "yes"};
  ex[0].answer_index = 1;
  ex[1].answer_index = 0;
  std::vector<eval::Prediction> p(2);
  p[0].text = "yes";
  p[1].text = "yes";
  auto m = eval::score(tasks::find_task("nlvr2"), ex, p);
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["consistency"].get<double>(), 0.0);  // one sentence, not all of its pairs right
  ex[1].answer_index = -1;                                  // unlabelled: cannot be scored
  EXPECT_THROW(eval::score(tasks::find_task("nlvr2"), ex, p), Error);
}

TEST(Evaluate, TasksWithoutAScorerAreRefusedByName) {
  try {
    eval::score(tasks::find_task("coco_detection"), {}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("coco_detection: a training task"), std::string::npos) << e.what();
  }
}
