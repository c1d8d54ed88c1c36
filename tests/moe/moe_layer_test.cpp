#include "moe/moe_layer.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "moe/bins.h"
#include "moe/losses.h"
#include "../error_of.h"

using namespace smoes;
using namespace smoes::moe;

namespace {

MoEConfig moe_cfg(int e = 4, int k = 2, int f = 6) {
  MoEConfig c;
  c.num_experts = e;
  c.top_k = k;
  c.ffn_hidden = f;
  return c;
}

RouterConfig router_cfg(const std::string& name) {
  RouterConfig r;
  r.name = name;
  return r;
}

// Reference: every token, every chosen expert, one at a time (`kept` [T, k]
// false for slots dropped over capacity).
torch::Tensor naive_moe(MoELayer& layer, const torch::Tensor& x, const RoutingDecision& d,
                        const torch::Tensor& kept = {}) {
  std::vector<torch::Tensor> rows;
  for (int64_t t = 0; t < x.size(0); ++t) {
    auto y = torch::zeros({1, x.size(1)}, x.options());
    for (int64_t j = 0; j < d.indices.size(1); ++j)
      if (!kept.defined() || kept[t][j].item<bool>())
        y = y + d.weights[t][j] * layer->experts->expert(d.indices[t][j].item<int64_t>(), x.narrow(0, t, 1));
    rows.push_back(y);
  }
  return torch::cat(rows, 0);
}

}  // namespace

TEST(MoELayer, DispatchEqualsNaiveLoopForwardAndBackward) {
  for (const auto& router : router_names()) {
    torch::manual_seed(1);
    MoELayer layer(moe_cfg(6, 2), router_cfg(router), 8, "test");
    layer->eval();  // sigmoid_bias would move its bias between the two passes
    auto x = torch::randn({13, 8}, torch::requires_grad());
    auto modality = torch::randint(0, 2, {13}, torch::kLong);
    auto out = layer->forward(x, modality);
    auto ref = naive_moe(layer, x, out.decision);
    EXPECT_TRUE(torch::allclose(out.y, ref, 1e-5, 1e-6)) << router;

    auto g = torch::randn({13, 8});
    const std::vector<torch::Tensor> wrt = {x, layer->experts->w13, layer->experts->w2, layer->router->gate->weight};
    auto grads = torch::autograd::grad({(out.y * g).sum()}, wrt, {}, /*retain_graph=*/true);
    auto ref_grads = torch::autograd::grad({(ref * g).sum()}, wrt);
    for (size_t i = 0; i < grads.size(); ++i)
      EXPECT_TRUE(torch::allclose(grads[i], ref_grads[i], 1e-4, 1e-5)) << router << " grad " << i;
  }
}

// Experts wide and busy enough (16-40 rows of width 512) that the expert
// loops take ATen's vectorised activation and moe::gemm its transposed product
// for some of them: still the naive loop's outputs and gradients.
TEST(MoELayer, DispatchEqualsNaiveLoopForWideExperts) {
  torch::manual_seed(4);
  MoELayer layer(moe_cfg(4, 2, 512), router_cfg("topk"), 256, "test");
  auto x = torch::randn({64, 256}, torch::requires_grad());
  auto out = layer->forward(x, torch::zeros({64}, torch::kLong));
  auto ref = naive_moe(layer, x, out.decision);
  EXPECT_TRUE(torch::allclose(out.y, ref, 1e-4, 1e-4));
  auto g = torch::randn({64, 256});
  const std::vector<torch::Tensor> wrt = {x, layer->experts->w13, layer->experts->w2};
  auto grads = torch::autograd::grad({(out.y * g).sum()}, wrt, {}, /*retain_graph=*/true);
  auto ref_grads = torch::autograd::grad({(ref * g).sum()}, wrt);
  for (size_t i = 0; i < grads.size(); ++i)
    EXPECT_TRUE(torch::allclose(grads[i], ref_grads[i], 1e-4, 1e-4)) << "grad " << i;
}

TEST(MoELayer, GradientsMatchFiniteDifferences) {
  torch::manual_seed(2);
  MoELayer layer(moe_cfg(3, 2, 4), router_cfg("topk"), 5, "fd");
  layer->to(torch::kDouble);
  auto x = torch::randn({4, 5}, torch::kDouble);
  auto modality = torch::zeros({4}, torch::kLong);
  auto loss_of = [&] { return (layer->forward(x, modality).y.pow(2)).sum(); };
  auto params = std::vector<torch::Tensor>{layer->router->gate->weight, layer->experts->w13, layer->experts->w2};
  auto analytic = torch::autograd::grad({loss_of()}, params);
  const double eps = 1e-6;
  torch::NoGradGuard ng;
  for (size_t p = 0; p < params.size(); ++p) {
    auto flat = params[p].view(-1);
    for (int64_t i = 0; i < flat.size(0); i += std::max<int64_t>(1, flat.size(0) / 7)) {
      double old = flat[i].item<double>();
      flat[i] = old + eps;
      double up = loss_of().item<double>();
      flat[i] = old - eps;
      double down = loss_of().item<double>();
      flat[i] = old;
      EXPECT_NEAR(analytic[p].view(-1)[i].item<double>(), (up - down) / (2 * eps), 1e-5) << "param " << p << " i " << i;
    }
  }
}

TEST(MoELayer, UpcycledExpertsReproduceTheDenseFFN) {
  torch::manual_seed(3);
  SwiGLU dense(8, 6);
  MoELayer layer(moe_cfg(4, 2, 6), router_cfg("topk"), 8, "up");
  layer->experts->upcycle_from(dense, 0.0);
  auto x = torch::randn({9, 8});
  auto out = layer->forward(x, torch::zeros({9}, torch::kLong));
  EXPECT_TRUE(torch::allclose(out.y, dense(x), 1e-5, 1e-6));  // renormalised weights sum to 1
  layer->experts->upcycle_from(dense, 0.1);
  EXPECT_FALSE(torch::allclose(layer->experts->w13[0], layer->experts->w13[1]));
}

TEST(MoELayer, InvalidTokensAreNotRoutedAndGetZeroOutput) {
  torch::manual_seed(8);
  MoELayer layer(moe_cfg(), router_cfg("hard_modality"), 8, "test");
  auto x = torch::randn({6, 8});
  auto modality = torch::tensor(std::vector<int64_t>{0, 1, 0, 1, 0, 0});
  auto valid = torch::tensor(std::vector<uint8_t>{1, 1, 0, 1, 0, 1}).to(torch::kBool);
  auto rows = torch::tensor(std::vector<int64_t>{0, 1, 3, 5});
  auto all = layer->forward(x, modality, {}, valid);
  auto kept = layer->forward(x.index_select(0, rows), modality.index_select(0, rows));
  EXPECT_TRUE(all.decision.indices.equal(kept.decision.indices));
  EXPECT_TRUE(all.modality.equal(modality.index_select(0, rows)));
  EXPECT_TRUE(torch::allclose(all.y.index_select(0, rows), kept.y, 1e-5, 1e-6));
  EXPECT_TRUE(all.y[2].eq(0).all().item<bool>());
  EXPECT_TRUE(all.y[4].eq(0).all().item<bool>());
  for (const auto& [name, value] : kept.losses) EXPECT_NEAR(all.losses.at(name).item<double>(), value.item<double>(), 1e-6) << name;
  // An all-valid mask is the same as none.
  auto none = layer->forward(x, modality);
  EXPECT_TRUE(layer->forward(x, modality, {}, torch::ones({6}, torch::kBool)).y.equal(none.y));
  EXPECT_THROW(layer->forward(x, modality, {}, torch::ones({5}, torch::kBool)), Error);
}

TEST(MoELayer, SharedExpertsAreAlwaysOn) {
  torch::manual_seed(4);
  auto cfg = moe_cfg(4, 1, 6);
  cfg.shared_experts = 2;
  MoELayer layer(cfg, router_cfg("topk"), 8, "shared");
  auto x = torch::randn({5, 8});
  auto out = layer->forward(x, torch::zeros({5}, torch::kLong));
  EXPECT_TRUE(torch::allclose(out.y, naive_moe(layer, x, out.decision) + layer->shared(x), 1e-5, 1e-6));
}

TEST(Routers, WeightsSumToOneWhereTheyShould) {
  torch::manual_seed(5);
  auto x = torch::randn({20, 8});
  auto modality = torch::randint(0, 2, {20}, torch::kLong);
  for (const auto& router : router_names()) {
    MoELayer layer(moe_cfg(8, 2), router_cfg(router), 8, "w");
    auto d = layer->forward(x, modality).decision;
    EXPECT_TRUE(torch::allclose(d.weights.sum(-1), torch::ones({20}), 1e-5, 1e-6)) << router;
    EXPECT_TRUE(torch::allclose(d.probs.sum(-1), torch::ones({20}), 1e-5, 1e-6)) << router;
  }
  auto r = router_cfg("topk");
  r.renormalize = false;  // DeepSeek style: raw top-k probabilities
  MoELayer raw(moe_cfg(8, 2), r, 8, "raw");
  auto d = raw->forward(x, modality).decision;
  EXPECT_TRUE(torch::allclose(d.weights, std::get<0>(d.probs.topk(2, -1))));
  EXPECT_TRUE((d.weights.sum(-1) < 1).all().item<bool>());
}

TEST(Routers, HardModalityNeverLeavesThePartition) {
  torch::manual_seed(6);
  auto r = router_cfg("hard_modality");
  r.text_experts = 6;
  r.vision_experts = 2;  // a 48/16-style split
  MoELayer layer(moe_cfg(8, 2), r, 8, "hard");
  auto modality = torch::randint(0, 2, {64}, torch::kLong);
  auto d = layer->forward(torch::randn({64, 8}) * 5, modality).decision;
  auto is_vision_expert = d.indices.ge(6);
  auto vision_token = modality.eq(1).unsqueeze(1).expand_as(is_vision_expert);
  EXPECT_TRUE(is_vision_expert.eq(vision_token).all().item<bool>());
}

TEST(Routers, MoIIEUsesOwnAndSharedExpertsOnly) {
  torch::manual_seed(7);
  auto r = router_cfg("moiie");
  r.text_experts = 3;
  r.vision_experts = 3;
  r.cross_modal_experts = 2;
  MoELayer layer(moe_cfg(8, 2), r, 8, "moiie");
  auto modality = torch::randint(0, 2, {64}, torch::kLong);
  auto d = layer->forward(torch::randn({64, 8}) * 5, modality).decision;
  for (int64_t t = 0; t < 64; ++t)
    for (int64_t j = 0; j < 2; ++j) {
      int64_t e = d.indices[t][j].item<int64_t>();
      bool text_ok = e < 3 || e >= 6, vision_ok = (e >= 3 && e < 6) || e >= 6;
      EXPECT_TRUE(modality[t].item<int64_t>() == 0 ? text_ok : vision_ok) << "token " << t << " expert " << e;
    }
}

TEST(Routers, SigmoidBiasMovesTowardBalance) {
  torch::manual_seed(8);
  auto r = router_cfg("sigmoid_bias");
  r.bias_update_rate = 0.01;
  MoELayer layer(moe_cfg(4, 1), r, 8, "bias");
  {
    torch::NoGradGuard ng;
    layer->router->gate->weight[0].add_(0.5);  // expert 0 wins most positive tokens
  }
  auto x = torch::rand({256, 8}) + 0.1;
  auto load = [&] { return torch::bincount(layer->forward(x, torch::zeros({256}, torch::kLong)).decision.indices.view(-1), {}, 4); };
  layer->train();
  auto first = load();
  for (int i = 0; i < 150; ++i) load();
  layer->eval();
  auto last = load();
  EXPECT_GT(first[0].item<int64_t>(), 200);
  // Sign updates overshoot and oscillate around balance; the overload must be gone.
  EXPECT_LT(last.max().item<int64_t>(), first.max().item<int64_t>() * 0.6);
  EXPECT_LT(last[0].item<int64_t>(), first[0].item<int64_t>() / 2);
}

TEST(Routers, SmarLossZeroInsideBandPositiveOutside) {
  torch::manual_seed(9);
  auto r = router_cfg("smar");
  r.smar_band_lo = 0.0;
  r.smar_band_hi = 100.0;
  MoELayer inside(moe_cfg(4, 2), r, 8, "smar");
  auto x = torch::randn({32, 8});
  auto modality = torch::randint(0, 2, {32}, torch::kLong);
  EXPECT_EQ(inside->forward(x, modality).losses.at("smar").item<double>(), 0.0);
  r.smar_band_lo = 50.0;  // demands far more separation than an untrained router has
  MoELayer below(moe_cfg(4, 2), r, 8, "smar");
  auto out = below->forward(x, modality);
  auto p = out.decision.probs;
  auto skl = symmetric_kl(p.index_select(0, modality.eq(0).nonzero().squeeze(1)).mean(0),
                          p.index_select(0, modality.eq(1).nonzero().squeeze(1)).mean(0));
  EXPECT_NEAR(out.losses.at("smar").item<double>(), 50.0 - skl.item<double>(), 1e-4);
}

TEST(Losses, BalanceLossIsOneWhenUniformAndZLossMatchesDefinition) {
  auto probs = torch::full({4, 4}, 0.25);
  auto idx = torch::tensor({0, 1, 2, 3}, torch::kLong).view({4, 1});
  EXPECT_NEAR(load_balancing_loss(probs, idx).item<double>(), 1.0, 1e-6);
  auto skewed = torch::tensor({0, 0, 0, 0}, torch::kLong).view({4, 1});
  EXPECT_NEAR(load_balancing_loss(probs, skewed).item<double>(), 4 * 1.0 * 0.25, 1e-6);
  auto logits = torch::tensor({{0.0f, 0.0f}});
  EXPECT_NEAR(z_loss(logits).item<double>(), std::pow(std::log(2.0), 2), 1e-6);
}

TEST(MoELayer, CapacityFactorDropsAndCountsSlots) {
  torch::manual_seed(10);
  auto cfg = moe_cfg(4, 2);
  cfg.capacity_factor = 0.5;  // capacity = ceil(0.5 * 16 * 2 / 4) = 4 slots per expert
  MoELayer layer(cfg, router_cfg("topk"), 8, "cap");
  auto x = torch::randn({16, 8}, torch::requires_grad());
  auto out = layer->forward(x, torch::zeros({16}, torch::kLong));
  EXPECT_EQ(out.total_slots, 32);
  EXPECT_EQ(out.dropped_slots, 32 - 16);  // 4 experts x 4 kept
  // Dropped slots contribute nothing, forward and backward.
  auto kept = bin_by_expert(out.decision.indices, 4, 4).position.ge(0);
  auto ref = naive_moe(layer, x, out.decision, kept);
  EXPECT_TRUE(torch::allclose(out.y, ref, 1e-5, 1e-6));
  auto g = torch::randn({16, 8});
  auto dx = torch::autograd::grad({(out.y * g).sum()}, {x}, {}, /*retain_graph=*/true)[0];
  EXPECT_TRUE(torch::allclose(dx, torch::autograd::grad({(ref * g).sum()}, {x})[0], 1e-4, 1e-5));
}

TEST(MoELayer, DeterministicUnderAFixedSeed) {
  auto run = [] {
    torch::manual_seed(11);
    MoELayer layer(moe_cfg(8, 2), router_cfg("topk"), 8, "det");
    return layer->forward(torch::randn({32, 8}), torch::zeros({32}, torch::kLong)).y;
  };
  EXPECT_TRUE(torch::equal(run(), run()));
}

TEST(MoELayer, BadInputsNameTheLayer) {
  MoELayer layer(moe_cfg(4, 2), router_cfg("topk"), 8, "layer 3 MoE");
  auto x = torch::randn({5, 8});
  EXPECT_NE(error_of([&] { layer->forward(torch::randn({5, 7}), torch::zeros({5}, torch::kLong)); })
                .find("layer 3 MoE: input width 7"), std::string::npos);
  EXPECT_NE(error_of([&] { layer->forward(x, torch::zeros({4}, torch::kLong)); }).find("do not match input"),
            std::string::npos);
  EXPECT_NE(error_of([&] { layer->forward(x, torch::full({5}, 2, torch::kLong)); }).find("must be 0 (text) or 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { layer->forward(x, torch::tensor({0, 1, -1, 0, 3}, torch::kLong)); })
                .find("got values in [-1, 3]"),
            std::string::npos);
  auto nan_x = x.clone();
  nan_x[2][3] = std::nan("");
  EXPECT_NE(error_of([&] { layer->forward(nan_x, torch::zeros({5}, torch::kLong)); }).find("NaN"), std::string::npos);
  auto inf_x = x.clone();
  inf_x[4][0] = std::numeric_limits<float>::infinity();
  EXPECT_NE(error_of([&] { layer->forward(inf_x, torch::zeros({5}, torch::kLong)); }).find("NaN or Inf"),
            std::string::npos);
  EXPECT_NE(error_of([] { MoELayer(moe_cfg(4, 5), router_cfg("topk"), 8, "L"); }).find("L: top_k = 5"),
            std::string::npos);
  auto r = router_cfg("hard_modality");
  r.text_experts = 3;
  r.vision_experts = 3;
  EXPECT_NE(error_of([&] { MoELayer(moe_cfg(8, 2), r, 8, "L"); }).find("does not add up to 8 experts"),
            std::string::npos);
  r.text_experts = 7;
  r.vision_experts = 1;
  EXPECT_NE(error_of([&] { MoELayer(moe_cfg(8, 2), r, 8, "L"); }).find("gives vision tokens 1 experts"),
            std::string::npos);
}

namespace {

// Runs `rows` through the experts as already sorted: counts[e] rows for expert e, gate 1.
torch::Tensor run_sorted(GroupedExperts& experts, const torch::Tensor& rows, const std::vector<int64_t>& counts) {
  std::vector<int64_t> ids;
  for (size_t e = 0; e < counts.size(); ++e) ids.insert(ids.end(), counts[e], int64_t(e));
  auto bins = bin_by_expert(torch::tensor(ids, torch::kLong).view({-1, 1}), int64_t(counts.size()));
  return experts->forward(rows, bins, torch::ones({rows.size(0)}));
}

}  // namespace

// Gradient-accumulation fusion: with .grad already set, backward adds the
// expert weight gradients into it in place; the sum must equal what plain
// autograd accumulation gives, including an expert that gets no rows.
TEST(GroupedExperts, FusedGradAccumulationEqualsAutogradAccumulation) {
  torch::manual_seed(5);
  GroupedExperts fused(3, 6, 5), plain(3, 6, 5);
  plain->fuse_grad_accumulation = false;
  {
    torch::NoGradGuard ng;
    plain->w13.copy_(fused->w13);
    plain->w2.copy_(fused->w2);
  }
  const std::vector<std::vector<int64_t>> steps = {{4, 0, 3}, {2, 3, 2}};  // expert 1 idle in step 1
  for (const auto& counts : steps) {
    auto rows = torch::randn({7, 6});
    auto g = torch::randn({7, 6});
    for (auto* m : {&fused, &plain}) (run_sorted(*m, rows, counts) * g).sum().backward();
  }
  ASSERT_TRUE(fused->w13.grad().defined());
  EXPECT_TRUE(torch::allclose(fused->w13.grad(), plain->w13.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(fused->w2.grad(), plain->w2.grad(), 1e-5, 1e-6));
  // The first backward found no .grad and handed autograd a fresh one (not fused).
  auto once = GroupedExperts(3, 6, 5);
  auto rows = torch::randn({2, 6});
  (run_sorted(once, rows, {1, 1, 0}) * 2).sum().backward();
  EXPECT_EQ(once->w13.grad()[2].abs().sum().item<float>(), 0.f);  // the idle expert's gradient is zero
  EXPECT_GT(once->w13.grad()[0].abs().sum().item<float>(), 0.f);
}

// A frozen weight keeps a stale .grad untouched: fusion needs both weights trainable.
TEST(GroupedExperts, FusionLeavesAFrozenWeightsGradAlone) {
  torch::manual_seed(6);
  GroupedExperts experts(2, 4, 3);
  auto rows = torch::randn({3, 4});
  (run_sorted(experts, rows, {2, 1}) * 3).sum().backward();  // both now hold a .grad
  auto stale = experts->w2.grad().clone();
  experts->w2.set_requires_grad(false);
  auto before = experts->w13.grad().clone();
  (run_sorted(experts, rows, {2, 1}) * 3).sum().backward();
  EXPECT_TRUE(torch::equal(experts->w2.grad(), stale));
  EXPECT_TRUE(torch::allclose(experts->w13.grad(), 2 * before, 1e-5, 1e-6));
}

TEST(MoELayer, SkippedSlotsLeaveTheDispatchAndEqualTheNaiveLoopWithoutThem) {
  torch::manual_seed(12);
  MoELayer layer(moe_cfg(4, 3), router_cfg("topk"), 8, "skip");
  layer->eval();
  auto x = torch::randn({10, 8});
  auto modality = torch::randint(0, 2, {10}, torch::kLong);
  auto keep = torch::rand({10, 3}).lt(0.4);
  layer->skip = [&](const RoutingDecision& d, const torch::Tensor& m) {
    EXPECT_TRUE(m.equal(modality));
    EXPECT_EQ(d.indices.sizes(), keep.sizes());
    return keep;
  };
  auto out = layer->forward(x, modality);
  EXPECT_EQ(out.skipped_slots, (~keep).sum().item<int64_t>());
  EXPECT_TRUE(out.executed.equal(keep));
  EXPECT_TRUE(torch::allclose(out.y, naive_moe(layer, x, out.decision, keep), 1e-5, 1e-6));
}
