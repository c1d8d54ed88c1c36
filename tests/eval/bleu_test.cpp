#include "eval/bleu.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

using smoes::eval::bleu;
using smoes::eval::CaptionSample;
using Tokens = std::vector<std::string>;

namespace {
// One image: candidate "a cat on mat" (4 tokens) against
//   R1 "the cat is on the mat" (6) and R2 "a cat on the mat" (5).
CaptionSample cat_sample() {
  return {{"a", "cat", "on", "mat"}, {{"the", "cat", "is", "on", "the", "mat"}, {"a", "cat", "on", "the", "mat"}}};
}
}  // namespace

TEST(Bleu, BrevityPenaltyAndSmoothingByHand) {
  // Closest reference length to 4 is 5 (|5-4| < |6-4|).
  // Matches (clipped by max ref count) / guesses:
  //   1-grams a cat on mat      -> 4/4
  //   2-grams a_cat cat_on on_mat -> 2/3 (on_mat in no reference)
  //   3-grams a_cat_on cat_on_mat -> 1/2
  //   4-gram  a_cat_on_mat        -> 0/1
  // p_n = (correct + 1e-15) / (guess + 1e-9); ratio = (4 + 1e-15) / (5 + 1e-9) ~ 0.8
  // BP = exp(1 - 1/ratio) ~ exp(-0.25) = 0.778800783
  //   BLEU-1 = p1 * BP                       = 0.7788007826820048
  //   BLEU-2 = (p1 p2)^(1/2) * BP ~ sqrt(2/3) * BP = 0.6358881762571986
  //   BLEU-3 = (p1 p2 p3)^(1/3) * BP ~ (1/3)^(1/3) * BP = 0.5399903030856679
  //   BLEU-4 = (1/3 * 1e-15 / (1 + 1e-9))^(1/4) * BP = 0.00010523157378387626 (not 0: the 1e-15)
  auto b = bleu({cat_sample()});
  EXPECT_NEAR(b[0], 0.7788007826820048, 1e-12);
  EXPECT_NEAR(b[1], 0.6358881762571986, 1e-12);
  EXPECT_NEAR(b[2], 0.5399903030856679, 1e-12);
  EXPECT_NEAR(b[3], 0.00010523157378387626, 1e-15);
}

TEST(Bleu, CorpusScoreSumsCountsBeforeTheRatio) {
  // Adding image 2, "a dog" vs "a dog" (len 2, refl 2, 1-grams 2/2, 2-grams 1/1),
  // the totals are correct = [6, 3, 1, 0], guess = [6, 4, 2, 1], testlen 6, reflen 7:
  //   BP = exp(1 - 7/6) = 0.846481725; BLEU-1 = BP, BLEU-2 = sqrt(3/4) BP, BLEU-3 = (3/8)^(1/3) BP.
  // (A mean of per-image scores would give other numbers.)
  auto b = bleu({cat_sample(), {{"a", "dog"}, {{"a", "dog"}}}});
  EXPECT_NEAR(b[0], 0.8464817246084536, 1e-12);
  EXPECT_NEAR(b[1], 0.7330746773196394, 1e-12);
  EXPECT_NEAR(b[2], 0.610418951710028, 1e-12);
  EXPECT_NEAR(b[3], 0.00011779460576155305, 1e-15);
}

TEST(Bleu, ClosestReferenceTiesGoToTheShorterOne) {
  // Candidate of 5 tokens, references of 4 and 6: both 1 away, 4 is chosen,
  // so testlen > reflen and there is no brevity penalty (with 6 it would be exp(1 - 6/5)).
  CaptionSample s{{"a", "b", "c", "d", "e"}, {{"a", "b", "c", "d"}, {"a", "b", "c", "d", "e", "f"}}};
  EXPECT_NEAR(bleu({s})[0], 1.0, 1e-9);
}

TEST(Bleu, CandidateCountsAreClippedByTheLargestSingleReferenceCount) {
  // "the the the the": each reference has "the" once -> 1 of 4 unigrams count.
  CaptionSample s{{"the", "the", "the", "the"}, {{"the", "cat", "sat", "down"}, {"the", "dog", "ran", "off"}}};
  EXPECT_NEAR(bleu({s})[0], 0.25, 1e-9);
}

TEST(Bleu, EmptyCandidateScoresZeroAndMissingReferencesThrow) {
  auto b = bleu({{{}, {{"a", "dog"}}}});
  for (double x : b) EXPECT_NEAR(x, 0.0, 1e-12);
  EXPECT_THROW(bleu({{{"a"}, {}}}), smoes::Error);
}
