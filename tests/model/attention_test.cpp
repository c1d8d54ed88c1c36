#include "model/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/norm.h"
#include "model/rope.h"
#include "model/vision.h"

using namespace smoes::model;

TEST(Attention, ProbabilitiesSumToOneAndRespectCausality) {
  torch::manual_seed(0);
  SelfAttention attn(32, 4);
  RoPE rope(8, 64, 10000.0);
  auto x = torch::randn({2, 5, 32});
  auto angles = rope.angles(torch::arange(5).repeat({2, 1}));
  auto out = attn->forward(x, causal_bias(0, 5, {}, 2), &angles, nullptr, /*want_probs=*/true);
  ASSERT_EQ(out.probs.sizes(), (std::vector<int64_t>{2, 5, 5}));
  EXPECT_TRUE(torch::allclose(out.probs.sum(-1), torch::ones({2, 5}), 1e-5, 1e-6));
  EXPECT_EQ(out.probs.triu(1).abs().max().item<float>(), 0.0f);  // no attention to the future
}

TEST(Attention, MaskedKeysGetNoWeightAndFullyMaskedRowsStayFinite) {
  torch::manual_seed(0);
  SelfAttention attn(16, 2);
  auto x = torch::randn({1, 4, 16});
  auto valid = torch::tensor({{false, false, true, true}});  // left padding
  auto out = attn->forward(x, causal_bias(0, 4, valid, 1), nullptr, nullptr, true);
  EXPECT_LT(out.probs.index({0, 3, 0}).item<float>(), 1e-12);
  EXPECT_TRUE(torch::isfinite(out.out).all().item<bool>());
}

namespace {

// A prompt of `prompt` positions, then one position at a time with the
// cache, against one forward over all `total`: returns the cache.
LayerKV expect_cache_matches_full_forward(int64_t prompt, int64_t total) {
  SelfAttention attn(32, 4);
  RoPE rope(8, 64, 10000.0);
  auto x = torch::randn({2, total, 32});
  auto positions = torch::arange(total).repeat({2, 1});
  auto at = [&](int64_t from, int64_t n) { return rope.angles(positions.narrow(1, from, n)); };
  auto all = at(0, total), head = at(0, prompt);
  auto full = attn->forward(x, causal_bias(0, total, {}, 2), &all).out;
  LayerKV cache;
  std::vector<torch::Tensor> pieces{
      attn->forward(x.narrow(1, 0, prompt), causal_bias(0, prompt, {}, 2), &head, &cache).out};
  for (int64_t t = prompt; t < total; ++t) {
    auto one = at(t, 1);
    pieces.push_back(attn->forward(x.narrow(1, t, 1), causal_bias(t, 1, {}, 2), &one, &cache).out);
  }
  EXPECT_TRUE(torch::allclose(torch::cat(pieces, 1), full, 1e-5, 1e-5));
  EXPECT_EQ(cache.length(), total);
  return cache;
}

}  // namespace

TEST(Attention, KVCacheMatchesFullRecompute) {
  torch::manual_seed(1);
  EXPECT_FALSE(expect_cache_matches_full_forward(4, 7).k_room.defined());  // under autograd: concatenated
}

// Outside autograd the cache appends into buffers that grow by doubling:
// always the concatenation of everything appended, also after keeping and
// repeating batch rows (beam search), and views handed out earlier keep their values.
TEST(Attention, KVCacheBuffersEqualTheConcatenationAcrossGrowthAndRowSelection) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  LayerKV cache;
  torch::Tensor want_k, want_v, earlier, earlier_value;
  int64_t batch = 2;
  for (int step = 0; step < 12; ++step) {
    auto k = torch::randn({batch, 3, step == 0 ? 5 : 1, 4}), v = torch::randn({batch, 3, step == 0 ? 5 : 1, 4});
    cache.append(k, v);
    want_k = want_k.defined() ? torch::cat({want_k, k}, 2) : k;
    want_v = want_v.defined() ? torch::cat({want_v, v}, 2) : v;
    ASSERT_TRUE(torch::equal(cache.k, want_k)) << "step " << step;
    ASSERT_TRUE(torch::equal(cache.v, want_v)) << "step " << step;
    if (step == 3) earlier = cache.k, earlier_value = cache.k.clone();
    if (step == 6) {
      auto rows = torch::tensor({1, 1, 0}, torch::kLong);
      cache.select_rows(rows);
      want_k = want_k.index_select(0, rows), want_v = want_v.index_select(0, rows);
      batch = 3;
    }
  }
  EXPECT_EQ(cache.length(), 16);
  EXPECT_TRUE(torch::equal(earlier, earlier_value));
}

// The decoding path itself (no autograd, so the buffers) against a full forward.
TEST(Attention, KVCacheMatchesFullRecomputeWithoutAutograd) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  EXPECT_TRUE(expect_cache_matches_full_forward(3, 9).k_room.defined());
}

TEST(Attention, SinkTakesItsShareOfTheSoftmaxAndWritesNothing) {
  // q = 0: every real key scores 0, so with sink logit s each of the K keys gets
  // 1 / (K + e^s) and the sink e^s / (K + e^s); the output is the keys' values
  // summed with that weight (the sink's value is zero).
  auto v = torch::randn({1, 2, 3, 4});
  auto q = torch::zeros({1, 2, 1, 4}), k = torch::randn({1, 2, 3, 4});
  auto sink = torch::tensor({0.0f, std::log(5.0f)});  // head 0: e^0 = 1, head 1: e^s = 5
  auto out = scaled_attention(q, k, v, {}, /*want_probs=*/true, sink);
  auto sum_v = v.sum(2, /*keepdim=*/true);
  EXPECT_TRUE(torch::allclose(out.out.select(1, 0), sum_v.select(1, 0) / 4.0, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(out.out.select(1, 1), sum_v.select(1, 1) / 8.0, 1e-5, 1e-6));
  // Reported probabilities are over the real keys only, renormalised: uniform here.
  EXPECT_TRUE(torch::allclose(out.probs, torch::full({1, 1, 3}, 1.0f / 3), 1e-5, 1e-6));
  // A sink that is never chosen is plain softmax attention.
  auto plain = torch::matmul(torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / 2.0, -1), v);
  EXPECT_TRUE(torch::allclose(scaled_attention(q, k, v, {}, false, torch::full({2}, -1e9)).out, plain, 1e-6, 1e-6));
}

TEST(Attention, FewQueriesOnStridedCacheViewsEqualTheMatmulPath) {
  // Without autograd, up to 4 query rows take plain loops over the keys and
  // values in place: here strided views of bigger buffers, as LayerKV hands
  // them out, with a causal bias and a sink. With autograd the same call
  // takes ATen's matmul; both must agree for 1 and 3 query rows.
  torch::manual_seed(5);
  auto k_room = torch::randn({3, 2, 16, 8}), v_room = torch::randn({3, 2, 16, 8});
  auto k = k_room.narrow(2, 0, 11), v = v_room.narrow(2, 0, 11);
  auto sink = torch::tensor({0.3f, -0.7f});
  for (int64_t sq : {1, 3}) {
    auto q = torch::randn({3, 2, sq, 8});
    auto bias = causal_bias(11 - sq, sq, {}, 3);
    auto reference = scaled_attention(q.requires_grad_(), k, v, bias, true, sink);
    torch::NoGradGuard no_grad;
    auto loops = scaled_attention(q.detach(), k, v, bias, true, sink);
    EXPECT_TRUE(torch::allclose(loops.out, reference.out.detach(), 1e-5, 1e-6)) << sq << " query rows";
    EXPECT_TRUE(torch::allclose(loops.probs, reference.probs.detach(), 1e-5, 1e-6)) << sq << " query rows";
  }
}

TEST(Attention, SinkLogitIsLearnedAndMatchesFiniteDifferences) {
  torch::manual_seed(3);
  auto q = torch::randn({1, 1, 2, 4}, torch::kDouble), k = torch::randn({1, 1, 3, 4}, torch::kDouble);
  auto v = torch::randn({1, 1, 3, 4}, torch::kDouble);
  auto sink = torch::tensor({0.3}, torch::kDouble).requires_grad_(true);
  auto loss = [&](const torch::Tensor& s) { return scaled_attention(q, k, v, {}, false, s).out.pow(2).sum(); };
  loss(sink).backward();
  const double h = 1e-6;
  torch::NoGradGuard no_grad;
  double numeric = (loss(sink + h).item<double>() - loss(sink - h).item<double>()) / (2 * h);
  EXPECT_NEAR(sink.grad().item<double>(), numeric, 1e-6);
  EXPECT_GT(std::abs(numeric), 1e-3);
}

TEST(RoPE, RotationPreservesNormAndDependsOnlyOnRelativePosition) {
  RoPE rope(8, 128, 10000.0);
  auto q = torch::randn({1, 1, 1, 8}), k = torch::randn({1, 1, 1, 8});
  auto at = [&](const torch::Tensor& t, int64_t p) { return rope.apply(t, torch::full({1, 1}, p, torch::kLong)); };
  EXPECT_NEAR(at(q, 17).norm().item<float>(), q.norm().item<float>(), 1e-4);
  float d1 = (at(q, 10) * at(k, 3)).sum().item<float>();
  float d2 = (at(q, 57) * at(k, 50)).sum().item<float>();
  EXPECT_NEAR(d1, d2, 1e-4);
}

TEST(RMSNorm, MatchesDefinition) {
  RMSNorm norm(4);
  auto x = torch::tensor({{1.0f, 2.0f, 3.0f, 4.0f}});
  float rms = std::sqrt((1 + 4 + 9 + 16) / 4.0f + 1e-6f);
  EXPECT_TRUE(torch::allclose(norm(x), x / rms, 1e-6, 1e-6));
}

TEST(ViT, PatchesAreRowMajorAndShapesMatch) {
  ViT vit(16, 8, 32, 1, 4);
  EXPECT_EQ(vit->num_patches(), 4);
  auto out = vit(torch::randn({3, 3, 16, 16}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 4, 32}));
  EXPECT_THROW(vit(torch::randn({1, 3, 8, 8})), std::exception);
}

// The fused scale + mask + sink softmax against the formula written out in
// ATen ops: output, reported probabilities and the gradients of q, k, v and
// the sink, under a causal mask with left padding (double, so the gradients
// compare closely).
TEST(Attention, FusedSinkSoftmaxMatchesTheFormulaAndItsGradients) {
  torch::manual_seed(4);
  auto opts = torch::TensorOptions(torch::kDouble).requires_grad(true);
  auto q = torch::randn({2, 3, 4, 8}, opts), k = torch::randn({2, 3, 6, 8}, opts), v = torch::randn({2, 3, 6, 8}, opts);
  auto sink = torch::randn({3}, opts);
  auto valid = torch::tensor({{true, true, true, true, true, true}, {false, true, true, true, true, true}});
  auto bias = causal_bias(2, 4, valid, 2).to(torch::kDouble);
  auto reference = [&] {
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(8.0) + bias;
    auto probs = torch::softmax(scores, -1);
    auto share = torch::sigmoid(torch::logsumexp(scores, -1, true) - sink.view({1, -1, 1, 1}));
    return std::make_pair(torch::matmul(probs, v) * share, probs.mean(1));
  };
  auto [want_out, want_probs] = reference();
  auto got = scaled_attention(q, k, v, bias, /*want_probs=*/true, sink);
  EXPECT_TRUE(torch::allclose(got.out, want_out, 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(got.probs, want_probs, 1e-10, 1e-12));
  auto g_out = torch::randn(want_out.sizes(), torch::kDouble), g_probs = torch::randn(want_probs.sizes(), torch::kDouble);
  auto loss = [&](const torch::Tensor& out, const torch::Tensor& probs) { return (out * g_out).sum() + (probs * g_probs).sum(); };
  auto got_grads = torch::autograd::grad({loss(got.out, got.probs)}, {q, k, v, sink});
  auto want_grads = torch::autograd::grad({loss(want_out, want_probs)}, {q, k, v, sink});
  for (size_t i = 0; i < got_grads.size(); ++i)
    EXPECT_TRUE(torch::allclose(got_grads[i], want_grads[i], 1e-9, 1e-11)) << "input " << i;
}

// The fused norm against its formula, values and gradients of input and
// weight (double, rows of a 3-d input).
TEST(RMSNorm, FusedMatchesTheFormulaAndItsGradients) {
  torch::manual_seed(5);
  RMSNorm norm(6);
  norm->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    norm->weight.uniform_(0.5, 1.5);
  }
  auto x = torch::randn({2, 3, 6}, torch::kDouble).requires_grad_();
  auto want = x * torch::rsqrt(x.pow(2).mean(-1, true) + 1e-6) * norm->weight;
  auto got = norm(x);
  EXPECT_TRUE(torch::allclose(got, want, 1e-12, 1e-14));
  auto g = torch::randn(want.sizes(), torch::kDouble);
  auto got_grads = torch::autograd::grad({(got * g).sum()}, {x, norm->weight});
  auto want_grads = torch::autograd::grad({(want * g).sum()}, {x, norm->weight});
  EXPECT_TRUE(torch::allclose(got_grads[0], want_grads[0], 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(got_grads[1], want_grads[1], 1e-10, 1e-12));
}
