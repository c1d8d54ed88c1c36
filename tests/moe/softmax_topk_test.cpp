#include "moe/softmax_topk.h"

#include <gtest/gtest.h>

using smoes::moe::softmax_topk;

namespace {

// Reference: the unfused ATen composition the routers used before.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> reference(const torch::Tensor& logits,
                                                                   const torch::Tensor& allowed, int64_t k,
                                                                   bool renormalize) {
  auto masked = allowed.defined() ? logits.masked_fill(allowed.logical_not(), -1e30) : logits;
  auto probs = torch::softmax(masked, -1);
  auto [w, i] = probs.topk(k, -1);
  if (renormalize) w = w / w.sum(-1, true);
  return {probs, w, i};
}

}  // namespace

// Forward values, chosen experts and the logit gradient (from upstream
// gradients on both the probabilities and the weights) equal the reference.
TEST(SoftmaxTopK, EqualsTheUnfusedCompositionForwardAndBackward) {
  torch::manual_seed(0);
  for (bool masked : {false, true})
    for (bool renormalize : {false, true})
      for (int64_t k : {1, 2, 3}) {
        auto logits = torch::randn({9, 6}, torch::kDouble).requires_grad_();
        torch::Tensor allowed;
        if (masked) allowed = torch::rand({9, 6}).lt(0.6).logical_or(torch::arange(6).lt(3).unsqueeze(0));
        auto fused = softmax_topk(logits, allowed, k, renormalize);
        auto [p, w, i] = reference(logits, allowed, k, renormalize);
        const std::string what = "masked " + std::to_string(masked) + " renorm " + std::to_string(renormalize) +
                                 " k " + std::to_string(k);
        EXPECT_TRUE(torch::allclose(fused.probs, p, 1e-12, 1e-14)) << what;
        EXPECT_TRUE(torch::equal(fused.indices, i)) << what;
        EXPECT_TRUE(torch::allclose(fused.weights, w, 1e-12, 1e-14)) << what;
        if (masked) {
          EXPECT_TRUE(allowed.gather(1, fused.indices).all().item<bool>()) << what;
        }
        auto gp = torch::randn({9, 6}, torch::kDouble), gw = torch::randn({9, k}, torch::kDouble);
        auto g_fused = torch::autograd::grad({(fused.probs * gp).sum() + (fused.weights * gw).sum()}, {logits})[0];
        auto g_ref = torch::autograd::grad({(p * gp).sum() + (w * gw).sum()}, {logits})[0];
        EXPECT_TRUE(torch::allclose(g_fused, g_ref, 1e-10, 1e-12)) << what;
        // Only one output used: the other's gradient is undefined inside backward.
        auto g_w = torch::autograd::grad({(softmax_topk(logits, allowed, k, renormalize).weights * gw).sum()}, {logits})[0];
        auto g_w_ref = torch::autograd::grad({(std::get<1>(reference(logits, allowed, k, renormalize)) * gw).sum()},
                                             {logits})[0];
        EXPECT_TRUE(torch::allclose(g_w, g_w_ref, 1e-10, 1e-12)) << what;
      }
}

TEST(SoftmaxTopK, MaskedExpertsGetZeroProbabilityAndAreNeverChosen) {
  auto logits = torch::tensor({5.0, 1.0, 0.0, 2.0}).view({1, 4});
  auto allowed = torch::tensor({false, true, true, false}).view({1, 4});
  auto r = softmax_topk(logits, allowed, 2, true);
  EXPECT_EQ(r.probs[0][0].item<float>(), 0.f);
  EXPECT_EQ(r.probs[0][3].item<float>(), 0.f);
  EXPECT_EQ(r.indices[0][0].item<int64_t>(), 1);
  EXPECT_EQ(r.indices[0][1].item<int64_t>(), 2);
  EXPECT_NEAR(r.weights.sum().item<float>(), 1.f, 1e-6);
  // Ties go to the lower expert id.
  auto tie = softmax_topk(torch::zeros({1, 4}), {}, 2, false);
  EXPECT_EQ(tie.indices[0][0].item<int64_t>(), 0);
  EXPECT_EQ(tie.indices[0][1].item<int64_t>(), 1);
  EXPECT_NEAR(tie.weights[0][0].item<float>(), 0.25f, 1e-7);
}
