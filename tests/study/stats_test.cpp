// The study's statistics against hand-computed values and the rule's cases.
#include "study/stats.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

using namespace smoes::study;

TEST(StudyStats, BootstrapOfOneValueIsThatValue) {
  auto e = bootstrap({0.25});
  EXPECT_EQ(e.n, 1);
  EXPECT_DOUBLE_EQ(e.mean, 0.25);
  EXPECT_DOUBLE_EQ(e.lo, 0.25);
  EXPECT_DOUBLE_EQ(e.hi, 0.25);
}

TEST(StudyStats, BootstrapCiHoldsTheMeanAndStaysInsideTheData) {
  std::vector<double> v = {0.1, 0.4, 0.35, 0.2, 0.3};
  auto e = bootstrap(v, 7);
  EXPECT_NEAR(e.mean, 0.27, 1e-12);
  EXPECT_LE(e.lo, e.mean);
  EXPECT_GE(e.hi, e.mean);
  EXPECT_GE(e.lo, 0.1);  // a resampled mean never leaves [min, max]
  EXPECT_LE(e.hi, 0.4);
  EXPECT_LT(e.lo, e.hi);
  auto again = bootstrap(v, 7);  // seeded: the same CI every time
  EXPECT_EQ(again.lo, e.lo);
  EXPECT_EQ(again.hi, e.hi);
}

TEST(StudyStats, ThreeValuesGiveTheTwoExtremeResampledMeansAsBoundsAtMost) {
  // With n = 3 the resampled means are k/3-combinations of the values; the
  // 2.5% and 97.5% quantiles of 2,000 draws lie within (min, max) means.
  auto e = bootstrap({0.0, 0.0, 3.0}, 1);
  EXPECT_DOUBLE_EQ(e.mean, 1.0);
  EXPECT_GE(e.lo, 0.0);
  EXPECT_LE(e.hi, 3.0);
  EXPECT_DOUBLE_EQ(std::fmod(e.lo * 3, 1.0), 0.0);  // every resampled mean is a multiple of 1/3
}

TEST(StudyStats, PairedDifferenceUsesPairs) {
  // Pairwise differences are all exactly 0.1 although each side varies a lot.
  auto e = paired_difference({0.5, 0.9, 0.2}, {0.4, 0.8, 0.1});
  EXPECT_NEAR(e.mean, 0.1, 1e-12);
  EXPECT_NEAR(e.lo, 0.1, 1e-12);
  EXPECT_NEAR(e.hi, 0.1, 1e-12);
  EXPECT_EQ(verdict(e), "supported");
  EXPECT_THROW(paired_difference({1, 2}, {1}), smoes::Error);
}

TEST(StudyStats, SpearmanMatchesHandComputedValues) {
  EXPECT_NEAR(*spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0, 1e-12);
  EXPECT_NEAR(*spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  // x ranks 1..5, y = (2, 1, 4, 3, 5): d^2 sum = 4, rho = 1 - 6*4/(5*24) = 0.8.
  EXPECT_NEAR(*spearman({1, 2, 3, 4, 5}, {0.2, 0.1, 0.4, 0.3, 0.5}), 0.8, 1e-12);
  // Ties share the average rank: y ranks (1.5, 1.5, 3); Pearson of ranks = sqrt(3)/2.
  EXPECT_NEAR(*spearman({1, 2, 3}, {5, 5, 9}), std::sqrt(3.0) / 2, 1e-12);
  EXPECT_FALSE(spearman({1, 2, 3}, {7, 7, 7}).has_value());
  EXPECT_FALSE(spearman({1}, {2}).has_value());
}

TEST(StudyStats, VerdictRule) {
  EXPECT_EQ(verdict({0.3, 0.1, 0.5, 3}), "supported");
  EXPECT_EQ(verdict({-0.3, -0.5, -0.1, 3}), "contradicted");
  EXPECT_EQ(verdict({-0.3, -0.5, -0.1, 3}, false), "supported");
  EXPECT_EQ(verdict({0.1, -0.1, 0.3, 3}), "underpowered");
  EXPECT_EQ(verdict({0.3, 0.3, 0.3, 1}), "underpowered");  // one seed decides nothing
}

TEST(StudyStats, Format) {
  EXPECT_EQ(format(0.12345), "0.123");
  EXPECT_EQ(format(0.0), "0.000");
  EXPECT_EQ(format(0.00523), "0.00523");
  EXPECT_EQ(format(-0.042), "-0.042");
  EXPECT_EQ(format(Estimate{0.5, 0.25, 0.75, 3}), "0.500 [0.250, 0.750]");
  EXPECT_EQ(format(Estimate{0.5, 0.5, 0.5, 1}), "0.500 (1 seed)");
  EXPECT_EQ(format(Estimate{}), "n/a");
}
