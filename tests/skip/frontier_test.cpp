#include "skip/frontier.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace smoes::skip;

// Random monotone problems: ratio and loss nondecreasing in both thresholds
// (as skipping more never lowers the calibration KL). The frontier must find
// the grid's optimum with O(D) loss evaluations.
TEST(FrontierSearch, FindsTheGridOptimumWithLinearlyManyEvaluations) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 200; ++trial) {
    const int nt = 2 + int(rng() % 12), nv = 2 + int(rng() % 12);
    // Cumulative sums of positive steps make both functions monotone.
    std::vector<double> rt(nt), rv(nv), lt(nt), lv(nv);
    double a = 0, b = 0, c = 0, d = 0;
    for (int i = 0; i < nt; ++i) rt[i] = (a += u(rng)), lt[i] = (c += u(rng) * u(rng) * 3);
    for (int j = 0; j < nv; ++j) rv[j] = (b += u(rng)), lv[j] = (d += u(rng));
    auto ratio = [&](int i, int j) { return (rt[i] + rv[j]) / (a + b); };
    auto loss = [&](int i, int j) { return lt[i] * lt[i] + lv[j] + 0.3 * lt[i] * lv[j]; };
    const double target = u(rng);
    auto grid = grid_search(nt, nv, ratio, loss, target);
    auto frontier = frontier_search(nt, nv, ratio, loss, target);
    ASSERT_EQ(grid.text < 0, frontier.text < 0) << trial;
    if (grid.text < 0) continue;
    EXPECT_DOUBLE_EQ(frontier.loss, grid.loss) << trial;
    EXPECT_GE(frontier.ratio, target);
    EXPECT_LE(frontier.loss_evaluations, nt) << trial;
  }
}

TEST(FrontierSearch, HandCase) {
  // Ratios (i + j) / 4 on a 3x3 grid; the target 0.5 needs i + j >= 2. Loss
  // 3i + j: text thresholds cost more, so the best is (0, 2).
  auto ratio = [](int i, int j) { return (i + j) / 4.0; };
  auto loss = [](int i, int j) { return 3.0 * i + j; };
  auto best = frontier_search(3, 3, ratio, loss, 0.5);
  EXPECT_EQ(best.text, 0);
  EXPECT_EQ(best.vision, 2);
  EXPECT_EQ(best.loss, 2);
  EXPECT_EQ(frontier_search(3, 3, ratio, loss, 1.01).text, -1);  // unreachable
}
