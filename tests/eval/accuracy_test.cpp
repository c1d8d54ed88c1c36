#include "eval/accuracy.h"

#include <gtest/gtest.h>

#include "core/error.h"

using namespace smoes::eval;

TEST(ExactMatch, LowercaseAndStrip) {
  EXPECT_EQ(lower_strip("  Red Car\n"), "red car");
  auto m = exact_match_metrics({{"1", "yes"}, {"2", "Red"}}, {{"1", " Yes "}, {"2", "blue"}});
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(m["count"].get<int>(), 2);
  EXPECT_THROW(exact_match_metrics({}, {}), smoes::Error);
  EXPECT_THROW(exact_match_metrics({{"1", "yes"}}, {{"2", "yes"}}), smoes::Error);
}

TEST(Nlvr2, SentenceGroupBlanksThePairId) {
  // split-set_id-pair_id-sentence_id, as nlvr2/eval/metrics.py groups them.
  EXPECT_EQ(nlvr2_sentence_group("dev-850-0-0"), "dev-850--0");
  EXPECT_EQ(nlvr2_sentence_group("test1-12-3-1"), "test1-12--1");
  EXPECT_THROW(nlvr2_sentence_group("dev-850"), smoes::Error);
}

TEST(Nlvr2, AccuracyAndConsistency) {
  // Sentence dev-1--0 is written for 4 image pairs, dev-1--1 for 2, dev-2--0 for 1.
  std::map<std::string, std::string> labels = {{"dev-1-0-0", "True"}, {"dev-1-1-0", "False"}, {"dev-1-2-0", "True"},
                                               {"dev-1-3-0", "True"}, {"dev-1-0-1", "False"}, {"dev-1-1-1", "True"},
                                               {"dev-2-0-0", "True"}};
  auto preds = labels;
  for (auto& kv : preds) kv.second = lower_strip(kv.second);  // labels compare case-insensitively
  preds["dev-1-2-0"] = "false";                               // one wrong example in group dev-1--0
  auto m = nlvr2_metrics(labels, preds);
  EXPECT_NEAR(m["accuracy"].get<double>(), 6.0 / 7.0, 1e-12);
  EXPECT_NEAR(m["consistency"].get<double>(), 2.0 / 3.0, 1e-12);  // dev-1--1 and dev-2--0 are all right
  EXPECT_EQ(m["sentences"].get<int>(), 3);
  EXPECT_EQ(m["count"].get<int>(), 7);
}

TEST(SnliVe, ThreeWayAccuracyPerGoldLabel) {
  auto m = snli_ve_metrics({{"a", "entailment"}, {"b", "neutral"}, {"c", "contradiction"}, {"d", "entailment"}},
                           {{"a", "Entailment"}, {"b", "contradiction"}, {"c", "contradiction"}, {"d", "neutral"}});
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["per_label"]["entailment"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["per_label"]["neutral"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(m["per_label"]["contradiction"].get<double>(), 1.0);
}

TEST(Vcr, QaQarAndBoth) {
  std::map<std::string, VcrGold> gold = {{"q1", {1, 2}}, {"q2", {0, 3}}, {"q3", {2, 2}}, {"q4", {3, 0}}};
  std::map<std::string, VcrPrediction> pred = {
      {"q1", {1, 2}},  // both right
      {"q2", {0, 1}},  // answer right, rationale wrong
      {"q3", {1, 2}},  // answer wrong, rationale right
      {"q4", {0, 1}},  // both wrong
  };
  auto m = vcr_metrics(gold, pred);
  EXPECT_DOUBLE_EQ(m["Q->A"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["QA->R"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["Q->AR"].get<double>(), 0.25);
}

TEST(Aokvqa, DirectAnswerIsMinOfMatchesOverThreeAfterNormalisation) {
  std::vector<std::string> da = {"Two", "2", "dogs", "dog", "dog", "cats", "cat", "cat", "cat", "cat"};
  EXPECT_NEAR(aokvqa_direct_answer_accuracy("2", da), 2.0 / 3.0, 1e-12);  // "Two" -> "2"
  EXPECT_NEAR(aokvqa_direct_answer_accuracy("a dog.", da), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(aokvqa_direct_answer_accuracy("The cat", da), 1.0, 1e-12);  // 4 matches, capped
  EXPECT_NEAR(aokvqa_direct_answer_accuracy("cats", da), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(aokvqa_direct_answer_accuracy("bird", da), 0.0, 1e-12);
}

TEST(Aokvqa, MultipleChoiceAndDirectAnswerMetrics) {
  std::map<std::string, AokvqaQuestion> qs;
  qs["a"] = {{"red", "blue", "green", "pink"}, 1, std::vector<std::string>(10, "blue"), false};
  qs["b"] = {{"one", "two", "three", "four"}, 3, std::vector<std::string>(10, "four"), false};
  qs["c"] = {{"x", "y", "z", "w"}, 0, std::vector<std::string>(10, "x"), true};  // difficult: no DA score
  auto mc = aokvqa_mc_metrics(qs, {{"a", "Blue"}, {"b", "two"}, {"c", "x"}});
  EXPECT_NEAR(mc["accuracy"].get<double>(), 2.0 / 3.0, 1e-12);
  auto da = aokvqa_da_metrics(qs, {{"a", "blue"}, {"b", "4"}, {"c", "nothing"}});
  EXPECT_NEAR(da["accuracy"].get<double>(), 1.0, 1e-12);  // the answers "four" normalise to "4"
  EXPECT_EQ(da["count"].get<int>(), 2);
  qs["d"] = {{"x"}, 5, {"x"}, false};
  EXPECT_THROW(aokvqa_mc_metrics(qs, {{"a", "x"}, {"b", "x"}, {"c", "x"}, {"d", "x"}}), smoes::Error);
}
