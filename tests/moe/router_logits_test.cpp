#include "moe/router_logits.h"

#include <gtest/gtest.h>

using smoes::moe::router_logits;

// Values and both gradients equal at::linear's, for no rows, a few and many
// (oneDNN splits those over the threads).
TEST(RouterLogits, EqualsLinearForwardAndBackward) {
  torch::manual_seed(0);
  for (int64_t rows : {0, 5, 130, 513}) {
    auto x = torch::randn({rows, 24}, torch::kDouble).requires_grad_();
    auto w = torch::randn({6, 24}, torch::kDouble).requires_grad_();
    auto g = torch::randn({rows, 6}, torch::kDouble);
    auto y = router_logits(x, w);
    auto ref = torch::linear(x, w);
    EXPECT_TRUE(torch::allclose(y, ref, 1e-12, 1e-14)) << rows;
    auto got = torch::autograd::grad({(y * g).sum()}, {x, w});
    auto want = torch::autograd::grad({(ref * g).sum()}, {x, w});
    EXPECT_TRUE(torch::allclose(got[0], want[0], 1e-12, 1e-14)) << rows;
    EXPECT_TRUE(torch::allclose(got[1], want[1], 1e-12, 1e-14)) << rows;
  }
}

TEST(RouterLogits, OnlyTheWeightNeedsAGradient) {
  auto x = torch::randn({200, 8});
  auto w = torch::randn({4, 8}).requires_grad_();
  auto g = torch::autograd::grad({router_logits(x, w).sum()}, {w})[0];
  EXPECT_TRUE(torch::allclose(g, x.sum(0).expand({4, 8}), 1e-4, 1e-5));
}

TEST(RouterLogits, RunsUnderNoGrad) {
  torch::NoGradGuard no_grad;
  auto x = torch::randn({300, 8}).requires_grad_();
  auto w = torch::randn({4, 8}).requires_grad_();
  EXPECT_TRUE(torch::allclose(router_logits(x, w), torch::mm(x, w.t()), 1e-5, 1e-6));
}

TEST(RouterLogits, RejectsMismatchedWidths) {
  EXPECT_THROW(router_logits(torch::randn({4, 8}), torch::randn({3, 7})), c10::Error);
}
