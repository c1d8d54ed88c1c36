#include "eval/rouge.h"

#include <gtest/gtest.h>

#include "core/error.h"

using namespace smoes::eval;

TEST(RougeL, LcsLength) {
  EXPECT_EQ(lcs_length({"a", "b", "c", "b", "d", "a", "b"}, {"b", "d", "c", "a", "b", "a"}), 4u);  // b c b a
  EXPECT_EQ(lcs_length({"a"}, {}), 0u);
}

TEST(RougeL, PrecisionAndRecallMaximaAreTakenSeparately) {
  // Candidate "a cat sat on mat" (5 tokens).
  //  R1 "the cat sat on the mat": LCS = cat sat on mat = 4 -> P = 4/5, R = 4/6
  //  R2 "a cat":                  LCS = a cat = 2        -> P = 2/5, R = 2/2
  // P_max = 0.8 (R1), R_max = 1.0 (R2):
  // F = (1 + 1.2^2) * 0.8 * 1.0 / (1.0 + 1.2^2 * 0.8) = 1.952 / 2.152 = 0.9070631970260222
  Tokens cand{"a", "cat", "sat", "on", "mat"};
  EXPECT_NEAR(rouge_l_sentence(cand, {{"the", "cat", "sat", "on", "the", "mat"}, {"a", "cat"}}), 0.9070631970260222,
              1e-12);
  // Against R1 alone: P = 0.8, R = 2/3 -> F = 2.44 * 0.8 * (2/3) / (2/3 + 1.152) = 0.7155425219941348
  EXPECT_NEAR(rouge_l_sentence(cand, {{"the", "cat", "sat", "on", "the", "mat"}}), 0.7155425219941348, 1e-12);
}

TEST(RougeL, CorpusScoreIsTheMeanOverImages) {
  std::vector<CaptionSample> samples = {{{"a", "dog"}, {{"a", "dog"}}}, {{"x"}, {{"y"}}}};
  auto r = rouge_l(samples);
  ASSERT_EQ(r.per_sample.size(), 2u);
  EXPECT_DOUBLE_EQ(r.per_sample[0], 1.0);
  EXPECT_DOUBLE_EQ(r.per_sample[1], 0.0);
  EXPECT_DOUBLE_EQ(r.score, 0.5);
}

TEST(RougeL, EmptyCaptionsBehaveLikeCocosSplit) {
  // "".split(" ") == [""]: an empty candidate is one empty token.
  EXPECT_DOUBLE_EQ(rouge_l_sentence({}, {{"a", "dog"}}), 0.0);
  EXPECT_DOUBLE_EQ(rouge_l_sentence({}, {{}}), 1.0);
  EXPECT_THROW(rouge_l_sentence({"a"}, {}), smoes::Error);
}
