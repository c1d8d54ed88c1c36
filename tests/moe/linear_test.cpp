#include "moe/linear.h"

#include <gtest/gtest.h>

// Values and both gradients equal at::linear's, for no rows, a few and many
// (oneDNN splits those over the threads).
TEST(Linear, EqualsLinearForwardAndBackward) {
  torch::manual_seed(0);
  for (int64_t rows : {0, 5, 130, 513}) {
    auto x = torch::randn({rows, 24}, torch::kDouble).requires_grad_();
    auto w = torch::randn({6, 24}, torch::kDouble).requires_grad_();
    auto g = torch::randn({rows, 6}, torch::kDouble);
    auto y = smoes::moe::linear(x, w);
    auto ref = torch::linear(x, w);
    EXPECT_TRUE(torch::allclose(y, ref, 1e-12, 1e-14)) << rows;
    auto got = torch::autograd::grad({(y * g).sum()}, {x, w});
    auto want = torch::autograd::grad({(ref * g).sum()}, {x, w});
    EXPECT_TRUE(torch::allclose(got[0], want[0], 1e-12, 1e-14)) << rows;
    EXPECT_TRUE(torch::allclose(got[1], want[1], 1e-12, 1e-14)) << rows;
  }
}

TEST(Linear, OnlyTheWeightNeedsAGradient) {
  auto x = torch::randn({200, 8});
  auto w = torch::randn({4, 8}).requires_grad_();
  auto g = torch::autograd::grad({smoes::moe::linear(x, w).sum()}, {w})[0];
  EXPECT_TRUE(torch::allclose(g, x.sum(0).expand({4, 8}), 1e-4, 1e-5));
}

TEST(Linear, RunsUnderNoGrad) {
  torch::NoGradGuard no_grad;
  auto x = torch::randn({300, 8}).requires_grad_();
  auto w = torch::randn({4, 8}).requires_grad_();
  EXPECT_TRUE(torch::allclose(smoes::moe::linear(x, w), torch::mm(x, w.t()), 1e-5, 1e-6));
}

// A transposed view as the weight (the per-expert loop passes w13[e].t()):
// the gradient lands in the stacked tensor's slice.
TEST(Linear, TakesATransposedViewOfAStackedWeight) {
  auto x = torch::randn({7, 5}, torch::kDouble).requires_grad_();
  auto stacked = torch::randn({2, 5, 3}, torch::kDouble).requires_grad_();
  auto y = smoes::moe::linear(x, stacked[1].t());
  EXPECT_TRUE(torch::allclose(y, torch::mm(x, stacked[1]), 1e-12, 1e-14));
  auto g = torch::autograd::grad({y.sum()}, {stacked})[0];
  EXPECT_TRUE(torch::allclose(g[1], x.sum(0).unsqueeze(1).expand({5, 3}), 1e-12, 1e-14));
  EXPECT_EQ(g[0].abs().sum().item<double>(), 0.0);
}

TEST(Linear, RejectsMismatchedWidths) {
  EXPECT_THROW(smoes::moe::linear(torch::randn({4, 8}), torch::randn({3, 7})), c10::Error);
}

// The nn::Linear form: any leading dimensions, with and without a bias; the
// values and all three gradients equal the module's own forward.
TEST(Linear, EqualsTheModuleWithBiasOverLeadingDimensions) {
  torch::manual_seed(1);
  for (bool bias : {true, false}) {
    torch::nn::Linear layer(torch::nn::LinearOptions(6, 5).bias(bias));
    layer->to(torch::kDouble);
    for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{1, 6}, {2, 3, 6}, {0, 4, 6}}) {
      auto x = torch::randn(shape, torch::kDouble).requires_grad_();
      auto y = smoes::moe::linear(x, layer);
      auto ref = layer(x);
      ASSERT_EQ(y.sizes(), ref.sizes());
      EXPECT_TRUE(torch::allclose(y, ref, 1e-12, 1e-14));
      auto g = torch::randn(ref.sizes(), torch::kDouble);
      std::vector<torch::Tensor> wrt = {x, layer->weight};
      if (bias) wrt.push_back(layer->bias);
      auto got = torch::autograd::grad({(y * g).sum()}, wrt, {}, {}, false, /*allow_unused=*/true);
      auto want = torch::autograd::grad({(ref * g).sum()}, wrt, {}, {}, false, true);
      for (size_t i = 0; i < wrt.size(); ++i) {
        ASSERT_TRUE(got[i].defined()) << i;
        EXPECT_TRUE(torch::allclose(got[i], want[i], 1e-12, 1e-14)) << "bias " << bias << " input " << i;
      }
    }
  }
}
