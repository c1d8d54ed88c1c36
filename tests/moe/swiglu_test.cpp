#include "moe/swiglu.h"

#include <gtest/gtest.h>

using smoes::moe::SwiGLU;

namespace {

// The definition with ordinary autograd ops.
torch::Tensor reference(SwiGLU& m, const torch::Tensor& x) {
  return torch::linear(torch::silu(torch::linear(x, m->w1->weight)) * torch::linear(x, m->w3->weight), m->w2->weight);
}

void expect_matches_reference(torch::Dtype dtype, double tol) {
  torch::manual_seed(0);
  SwiGLU m(12, 20);
  m->to(dtype);
  auto x = torch::randn({2, 7, 12}, dtype).requires_grad_();
  auto g = torch::randn({2, 7, 12}, dtype);
  auto y = m(x), want = reference(m, x);
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_TRUE(torch::allclose(y, want, tol, tol));
  std::vector<torch::Tensor> inputs = {x, m->w1->weight, m->w3->weight, m->w2->weight};
  auto got = torch::autograd::grad({(y * g).sum()}, inputs);
  auto ref = torch::autograd::grad({(want * g).sum()}, inputs);
  for (size_t i = 0; i < inputs.size(); ++i) EXPECT_TRUE(torch::allclose(got[i], ref[i], tol, tol)) << "input " << i;
}

}  // namespace

// The hand-written backward equals autograd through the definition, for the
// input and all three weights, in double (ATen GEMMs) and float (oneDNN).
TEST(SwiGLU, EqualsTheAutogradCompositionForwardAndBackward) {
  expect_matches_reference(torch::kDouble, 1e-12);
  expect_matches_reference(torch::kFloat, 1e-4);
}

// Finite differences on the input, so the reference itself is checked too.
TEST(SwiGLU, InputGradientMatchesFiniteDifferences) {
  torch::manual_seed(2);
  SwiGLU m(4, 6);
  m->to(torch::kDouble);
  auto x = torch::randn({3, 4}, torch::kDouble).requires_grad_();
  auto grad = torch::autograd::grad({m(x).sum()}, {x})[0];
  const double eps = 1e-6;
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto xp = x.detach().clone(), xm = x.detach().clone();
    xp.view(-1)[i] += eps, xm.view(-1)[i] -= eps;
    const double fd = (m(xp).sum().item<double>() - m(xm).sum().item<double>()) / (2 * eps);
    EXPECT_NEAR(grad.view(-1)[i].item<double>(), fd, 1e-6) << i;
  }
}

TEST(SwiGLU, OnlyWeightGradientsWhenTheInputNeedsNone) {
  SwiGLU m(4, 6);
  auto y = m(torch::randn({5, 4}));
  y.sum().backward();
  EXPECT_TRUE(m->w1->weight.grad().defined());
  EXPECT_TRUE(m->w2->weight.grad().defined());
}

TEST(SwiGLU, RejectsTheWrongWidth) { EXPECT_THROW(SwiGLU(4, 6)(torch::randn({2, 5})), c10::Error); }

// Gradient-accumulation fusion: with .grad already set, the second backward
// adds into it in place and leaves exactly what AccumulateGrad leaves.
TEST(SwiGLU, FusedGradientAccumulationEqualsAutogradAccumulation) {
  torch::manual_seed(3);
  SwiGLU fused(8, 12), plain(8, 12);
  plain->fuse_grad_accumulation = false;
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < fused->parameters().size(); ++i) plain->parameters()[i].copy_(fused->parameters()[i]);
  }
  for (int step = 0; step < 2; ++step) {
    auto x = torch::randn({9, 8}), g = torch::randn({9, 8});
    for (auto* m : {&fused, &plain}) ((*m)(x) * g).sum().backward();
  }
  const auto* w1_grad_before = fused->w1->weight.grad().data_ptr<float>();
  for (size_t i = 0; i < fused->parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(fused->parameters()[i].grad(), plain->parameters()[i].grad(), 1e-5, 1e-6)) << i;
  auto x = torch::randn({9, 8});
  fused(x).sum().backward();
  EXPECT_EQ(fused->w1->weight.grad().data_ptr<float>(), w1_grad_before);  // added in place, not replaced
}
