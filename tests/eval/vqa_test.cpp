#include "eval/vqa.h"

#include <gtest/gtest.h>

#include "core/error.h"

using namespace smoes::eval;

TEST(VqaNormalize, OfficialAnswerProcessing) {
  EXPECT_EQ(vqa_normalize_answer("Two dogs."), "2 dogs");         // period stripped, number word, lowercase
  EXPECT_EQ(vqa_normalize_answer("dont"), "don't");               // contractions table
  EXPECT_EQ(vqa_normalize_answer("a man's"), "man's");            // article dropped, apostrophe kept
  EXPECT_EQ(vqa_normalize_answer("1,000"), "1000");               // digit,digit: punctuation deleted, not spaced
  EXPECT_EQ(vqa_normalize_answer("t-shirt"), "t shirt");          // lone '-' becomes a space
  EXPECT_EQ(vqa_normalize_answer("left - right"), "left right");  // '-' next to a space is deleted
  EXPECT_EQ(vqa_normalize_answer("3.5"), "3.5");                  // '.' before a digit stays
  EXPECT_EQ(vqa_normalize_answer(" The\tCat\n"), "cat");
  EXPECT_EQ(vqa_normalize_answer("none"), "0");
  EXPECT_EQ(vqa_normalize_answer("Ten!"), "10");
  EXPECT_EQ(vqa_normalize_answer("yes, I think"), "yes i think");
  EXPECT_EQ(vqa_normalize_answer("Im"), "im");  // the table's "Im" can never match after lowercasing
}

TEST(VqaNormalize, PunctuationRulesLookAtTheOriginalText) {
  // Any digit,digit in the text deletes every listed punctuation mark.
  EXPECT_EQ(vqa_process_punctuation("1,2 x/y"), "12 xy");
  EXPECT_EQ(vqa_process_punctuation("x,y"), "x y");
  // The periodStrip substitution is capped at 32 (re.UNICODE passed as count).
  EXPECT_EQ(vqa_process_punctuation(std::string(40, '.')), std::string(8, '.'));
  EXPECT_EQ(vqa_process_digit_article("An apple  the  ONE"), "apple 1");
}

TEST(VqaAccuracy, LeaveOneOutAverage) {
  std::vector<std::string> answers(10, "blue");
  answers[0] = answers[1] = "red";
  // 2 of 10 say "red": leaving out a "red" leaves 1 match (1/3), leaving out a
  // "blue" leaves 2 (2/3): (2 * 1/3 + 8 * 2/3) / 10 = 0.6
  EXPECT_NEAR(vqa_accuracy("red", answers), 0.6, 1e-12);
  answers[2] = "red";  // 3 of 10: (3 * 2/3 + 7 * 1) / 10 = 0.9
  EXPECT_NEAR(vqa_accuracy("red", answers), 0.9, 1e-12);
  answers[3] = "red";  // 4 of 10: every subset has >= 3 matches
  EXPECT_NEAR(vqa_accuracy("red", answers), 1.0, 1e-12);
  EXPECT_NEAR(vqa_accuracy("green", answers), 0.0, 1e-12);
  std::vector<std::string> one(10, "no");
  one[9] = "yes";  // 1 of 10: (1 * 0 + 9 * 1/3) / 10 = 0.3
  EXPECT_NEAR(vqa_accuracy("Yes.", one), 0.3, 1e-12);
}

TEST(VqaAccuracy, AnswersAreNormalisedOnlyWhenHumansDisagree) {
  // All ten identical: the script compares raw (stripped) strings.
  std::vector<std::string> same(10, "Yes");
  EXPECT_NEAR(vqa_accuracy("yes", same), 0.0, 1e-12);
  EXPECT_NEAR(vqa_accuracy(" Yes\n", same), 1.0, 1e-12);
  // One differs: everything is normalised, "Yes" and "yes." both become "yes".
  std::vector<std::string> mixed(10, "Yes");
  mixed[9] = "yes.";
  EXPECT_NEAR(vqa_accuracy("yes", mixed), 1.0, 1e-12);
  EXPECT_THROW(vqa_accuracy("yes", {}), smoes::Error);
}

TEST(VqaMetrics, PerQuestionTypeAndAnswerType) {
  std::vector<std::string> two_red(10, "blue");
  two_red[0] = two_red[1] = "red";
  std::map<std::string, VqaQuestion> qs = {
      {"1", {two_red, "what color is the", "other"}},
      {"2", {std::vector<std::string>(10, "yes"), "is the", "yes/no"}},
      {"3", {two_red, "what color is the", "other"}},
  };
  std::map<std::string, std::string> preds = {{"1", "red"}, {"2", "yes"}, {"3", "green"}};
  auto m = vqa_metrics(qs, preds);
  EXPECT_NEAR(m["accuracy"].get<double>(), (0.6 + 1.0 + 0.0) / 3, 1e-12);
  EXPECT_NEAR(m["per_question_type"]["what color is the"].get<double>(), 0.3, 1e-12);
  EXPECT_NEAR(m["per_question_type"]["is the"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(m["per_answer_type"]["other"].get<double>(), 0.3, 1e-12);
  EXPECT_NEAR(m["per_answer_type"]["yes/no"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(m["questions"].get<int>(), 3);
}

TEST(VqaMetrics, MissingOrUnknownPredictionsAreErrors) {
  std::map<std::string, VqaQuestion> qs = {{"1", {{"a"}, "t", "other"}}, {"2", {{"b"}, "t", "other"}}};
  try {
    vqa_metrics(qs, {{"1", "a"}, {"9", "b"}});
    FAIL();
  } catch (const smoes::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("1 of 2 ids have no prediction (first: 2)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(first: 9)"), std::string::npos) << msg;
  }
}
