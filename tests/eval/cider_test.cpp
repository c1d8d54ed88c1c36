#include "eval/cider.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

using namespace smoes::eval;

TEST(CiderD, TwoImagesByHand) {
  // Image 1: refs "a cat sat", "a cat"; candidate "a cat".
  // Image 2: ref  "a dog ran";           candidate "the dog ran fast".
  // ref_len = log(2 images) = L. df("a") = 2, every other reference n-gram has
  // df 1, and n-grams in no reference get max(1, 0) = 1: so every n-gram
  // weighs tf * L except "a", which weighs L - log 2 = 0.
  // pen = exp(-1^2 / (2 * 6^2)) = exp(-1/72) = 0.9862071167 for a 1-bigram length difference.
  //
  // Image 1, vs "a cat sat" (bigram lengths 1 vs 2 -> pen):
  //   n=1: cat: L*L / (|cand| L * |ref| L sqrt 2) = 1/sqrt2; n=2: a_cat: same, 1/sqrt2;
  //   n=3: the candidate has no trigram -> 0; n=4: 0.
  // vs "a cat" (identical, no penalty): n=1: 1, n=2: 1, n=3: 0, n=4: 0.
  //   score = 10 * mean_n(sum over refs) / 2 refs = 10 * (2 + sqrt2 pen) / 4 / 2 = 4.243384349760141
  // Image 2, vs "a dog ran" (3 vs 2 bigrams -> pen):
  //   n=1: (dog + ran) L^2 / (2L * sqrt2 L) = 1/sqrt2;  n=2: dog_ran L^2 / (sqrt3 L * sqrt2 L) = 1/sqrt6;
  //   n=3: no shared trigram -> 0;  n=4: the reference has no 4-gram -> 0.
  //   score = 10 * pen * (1/sqrt2 + 1/sqrt6) / 4 = 2.749927773395139
  // Corpus: (4.243384349760141 + 2.749927773395139) / 2 = 3.4966560615776396
  std::vector<CaptionSample> samples = {
      {{"a", "cat"}, {{"a", "cat", "sat"}, {"a", "cat"}}},
      {{"the", "dog", "ran", "fast"}, {{"a", "dog", "ran"}}},
  };
  auto c = cider_d(samples);
  ASSERT_EQ(c.per_sample.size(), 2u);
  EXPECT_NEAR(c.per_sample[0], 4.243384349760141, 1e-12);
  EXPECT_NEAR(c.per_sample[1], 2.749927773395139, 1e-12);
  EXPECT_NEAR(c.score, 3.4966560615776396, 1e-12);
}

TEST(CiderD, CandidateWeightsAreClippedByTheReference) {
  // Image 1: "dog dog" vs "dog": n=1 weights 2L vs L -> min(2L, L) * L / (2L * L) = 0.5
  // (plain CIDEr would give 1); the unseen bigram dog_dog meets a reference with
  // no bigram -> 0; lengths 1 vs 0 bigrams -> pen = exp(-1/72).
  //   score = 10 * 0.5 pen / 4 = 1.2327588959298954
  // Image 2: "cat" vs "cat": n=1 -> 1, no penalty: 10 * 1 / 4 = 2.5.
  auto c = cider_d({{{"dog", "dog"}, {{"dog"}}}, {{"cat"}, {{"cat"}}}});
  EXPECT_NEAR(c.per_sample[0], 1.2327588959298954, 1e-12);
  EXPECT_NEAR(c.per_sample[1], 2.5, 1e-12);
  EXPECT_NEAR(c.score, 1.8663794479649476, 1e-12);
}

TEST(CiderD, OneImageCorpusScoresZero) {
  // ref_len = log(1) = 0 and every df is 1, so every weight is 0.
  auto c = cider_d({{{"a", "dog"}, {{"a", "dog"}}}});
  EXPECT_DOUBLE_EQ(c.score, 0.0);
}

TEST(CiderD, MissingReferencesThrow) { EXPECT_THROW(cider_d({{{"a"}, {}}}), smoes::Error); }
