#include "skip/rules.h"

#include <gtest/gtest.h>

#include "skip/methods.h"

using namespace smoes;
using namespace smoes::skip;

namespace {

moe::RoutingDecision decision() {
  // Two tokens, top-3 of 4 experts.
  moe::RoutingDecision d;
  d.indices = torch::tensor(std::vector<int64_t>{2, 0, 1, 3, 1, 0}).view({2, 3});
  d.probs = torch::tensor({0.3f, 0.2f, 0.45f, 0.05f, 0.1f, 0.15f, 0.05f, 0.7f}).view({2, 4});
  d.weights = d.probs.gather(1, d.indices);
  return d;
}

}  // namespace

TEST(SkipRules, NaeeSkipsLaterChoicesBelowBetaTimesTheFirst) {
  auto d = decision();  // weights row 0: .45 .3 .2; row 1: .7 .15 .1
  auto keep = naee_rule(0.5)(d, torch::zeros({2}, torch::kLong));
  // 0.5 * .45 = .225: keeps .3, skips .2; 0.5 * .7 = .35: skips .15 and .1.
  EXPECT_TRUE(keep.equal(torch::tensor({true, true, false, true, false, false}).view({2, 3})));
  EXPECT_TRUE(naee_rule(100)(d, torch::zeros({2}, torch::kLong)).select(1, 0).all().item<bool>());
  // A router that does not put the largest weight first (sigmoid_bias): w_1 is still the largest.
  auto swapped = d;
  swapped.weights = d.weights.flip(1);  // row 0: .2 .3 .45
  auto kept = naee_rule(0.5)(swapped, torch::zeros({2}, torch::kLong));
  EXPECT_TRUE(kept.equal(torch::tensor({false, true, true, false, false, true}).view({2, 3})));
}

TEST(SkipRules, ModesComparesAlphaTimesProbabilityWithItsModalitysThreshold) {
  auto d = decision();
  auto modality = torch::tensor(std::vector<int64_t>{0, 1});
  // alpha 0.5: s row 0 = .225 .15 .1 against 0.12 (text); row 1 = .35 .075 .05 against 0.06 (vision)
  auto keep = threshold_rule(0.5, 0.12, 0.06)(d, modality);
  EXPECT_TRUE(keep.equal(torch::tensor({true, true, false, true, true, false}).view({2, 3})));
}

TEST(SkipRules, TopPRunsExpertsUntilTheirProbabilityReachesP) {
  auto d = decision();  // chosen probs row 0: .45 .3 .2 (mass above: 0 .45 .75); row 1: .7 .15 .1 (0 .7 .85)
  auto none = torch::zeros({2}, torch::kLong);
  EXPECT_TRUE(top_p_rule(0.5)(d, none).equal(torch::tensor({true, true, false, true, false, false}).view({2, 3})));
  EXPECT_TRUE(top_p_rule(0.8)(d, none).equal(torch::tensor({true, true, true, true, true, false}).view({2, 3})));
  // p = 0 still runs each token's first choice.
  EXPECT_TRUE(top_p_rule(0.0)(d, none).equal(torch::tensor({true, false, false, true, false, false}).view({2, 3})));
  // Slots not in probability order: the rank is by probability, not by slot.
  auto swapped = d;
  swapped.indices = d.indices.flip(1);  // row 0: .2 .3 .45
  EXPECT_TRUE(top_p_rule(0.5)(swapped, none).equal(torch::tensor({false, true, true, false, false, true}).view({2, 3})));
}

TEST(SkipRules, RandomSkipsTheRatioReproducibly) {
  moe::RoutingDecision d;
  d.indices = torch::zeros({20000, 2}, torch::kLong);
  auto a = random_rule(0.3, 5)(d, {}), b = random_rule(0.3, 5)(d, {});
  EXPECT_TRUE(a.equal(b));
  EXPECT_NEAR(1.0 - a.to(torch::kDouble).mean().item<double>(), 0.3, 0.01);
}

TEST(SkipRules, ShareBelowReadsTheQuantiles) {
  std::vector<double> q = {0.0, 0.1, 0.2, 0.3, 0.4};  // quantiles at 0, 1/4, ..., 1
  EXPECT_DOUBLE_EQ(share_below(q, 0.25), 0.75);
  EXPECT_DOUBLE_EQ(share_below(q, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(share_below(q, 1.0), 1.0);
}
