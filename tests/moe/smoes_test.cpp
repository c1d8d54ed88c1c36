// SMoES (METHOD.md section 3): soft scores, bins, losses, and the router.
#include "moe/smoes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>

#include "core/config.h"
#include "moe/moe_layer.h"
#include "../error_of.h"

using namespace smoes;
using namespace smoes::moe;

namespace {

MoEConfig smoes_moe_cfg(int e = 8, int k = 2) {
  MoEConfig c;
  c.num_experts = e;
  c.top_k = k;
  c.ffn_hidden = 6;
  return c;
}

RouterConfig smoes_cfg(const std::string& soft = "binary") {
  RouterConfig r;
  r.name = "smoes";
  r.soft_scores = soft;
  return r;
}

// Naive S[m, k] by loops over tokens, modalities and experts.
std::vector<std::vector<double>> naive_mass(const torch::Tensor& probs, const torch::Tensor& soft,
                                            const std::vector<int64_t>& bins, int n_bins) {
  std::vector<std::vector<double>> s(2, std::vector<double>(n_bins, 0.0));
  for (int m = 0; m < 2; ++m) {
    double mass = 0;
    for (int64_t j = 0; j < probs.size(0); ++j) {
      const double w = soft[j][m].item<double>();
      mass += w;
      for (int64_t e = 0; e < probs.size(1); ++e) s[m][bins[e]] += w * probs[j][e].item<double>();
    }
    for (auto& v : s[m]) v /= mass;
  }
  return s;
}

}  // namespace

TEST(SmoesMI, EqualsAHandComputedValue) {
  // A text token routes 3:1 to bin 0, a vision token 1:3. S = [[.75,.25],[.25,.75]],
  // P = S / 2, P(m) = P(k) = 1/2: I = .75 log 1.5 + .25 log .5.
  auto probs = torch::tensor({0.75f, 0.25f, 0.25f, 0.75f}).view({2, 2});
  auto soft = hard_soft_modality(torch::tensor({0, 1}, torch::kLong));
  auto mass = modality_bin_mass(probs, soft, torch::tensor({0, 1}, torch::kLong), 2);
  EXPECT_NEAR(modality_bin_mi(mass).item<double>(), 0.75 * std::log(1.5) + 0.25 * std::log(0.5), 1e-6);
}

TEST(SmoesMI, MaximalForPerfectlySeparatedRoutingAndZeroWithoutModalitySignal) {
  // 4 experts in 2 bins; text only on bin 0, vision only on bin 1.
  auto separated = torch::tensor({0.5f, 0.5f, 0.f, 0.f, 0.f, 0.f, 0.3f, 0.7f}).view({2, 4});
  auto bins = torch::tensor({0, 0, 1, 1}, torch::kLong);
  auto soft = hard_soft_modality(torch::tensor({0, 1}, torch::kLong));
  EXPECT_NEAR(modality_bin_mi(modality_bin_mass(separated, soft, bins, 2)).item<double>(), std::log(2.0), 1e-6);
  // Any other routing carries less information.
  torch::manual_seed(3);
  for (int i = 0; i < 20; ++i) {
    auto probs = torch::softmax(torch::randn({10, 4}), -1);
    auto s = hard_soft_modality(torch::randint(0, 2, {10}, torch::kLong));
    EXPECT_LT(modality_bin_mi(modality_bin_mass(probs, s, bins, 2)).item<double>(), std::log(2.0) - 1e-3);
  }
  // Same routing for both modalities: no information.
  auto same = torch::tensor({0.1f, 0.2f, 0.3f, 0.4f, 0.1f, 0.2f, 0.3f, 0.4f}).view({2, 4});
  EXPECT_NEAR(modality_bin_mi(modality_bin_mass(same, soft, bins, 2)).item<double>(), 0.0, 1e-6);
  // One modality in the batch: nothing to separate.
  auto text_only = hard_soft_modality(torch::tensor({0, 0}, torch::kLong));
  EXPECT_EQ(modality_bin_mi(modality_bin_mass(separated, text_only, bins, 2)).item<double>(), 0.0);
}

TEST(SmoesMI, MassIsEachModalityNormalisedByItsOwnSoftMass) {
  torch::manual_seed(4);
  auto probs = torch::softmax(torch::randn({7, 6}), -1);
  auto soft = torch::softmax(torch::randn({7, 2}), -1);
  const std::vector<int64_t> bins = {2, 0, 1, 1, 0, 2};
  auto mass = modality_bin_mass(probs, soft, torch::tensor(bins, torch::kLong), 3);
  auto ref = naive_mass(probs, soft, bins, 3);
  for (int m = 0; m < 2; ++m)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(mass[m][k].item<double>(), ref[m][k], 1e-6);
  // Symmetric KL between the rows, by hand.
  double kl = 0;
  for (int k = 0; k < 3; ++k) kl += (ref[0][k] - ref[1][k]) * std::log(ref[0][k] / ref[1][k]);
  EXPECT_NEAR(modality_bin_kl(mass).item<double>(), kl, 1e-5);
}

TEST(SmoesSoftScores, AttentionPropagatedStayInTheSimplexAndIdentityKeepsLabels) {
  torch::manual_seed(5);
  const int64_t b = 2, s = 5, d = 8;
  auto labels = torch::randint(0, 2, {b, s}, torch::kLong);
  auto m0 = hard_soft_modality(labels);
  auto x = torch::randn({b, s, d}), a = torch::randn({b, s, d});
  // Identity attention: a token inherits only its own mix.
  auto same = propagate_soft_modality(torch::eye(s).expand({b, s, s}), m0, m0, x, a);
  EXPECT_TRUE(torch::allclose(same, m0, 1e-6, 1e-6));
  // Causal random attention over four layers: always in [0,1], rows sum to 1.
  auto soft = m0;
  for (int layer = 0; layer < 4; ++layer) {
    auto attn = torch::softmax(torch::randn({b, s, s}) - torch::triu(torch::ones({s, s}), 1) * 1e9, -1);
    soft = propagate_soft_modality(attn, soft, soft, torch::randn({b, s, d}), torch::randn({b, s, d}));
    EXPECT_TRUE((soft >= 0).all().item<bool>() && (soft <= 1).all().item<bool>());
    EXPECT_TRUE(torch::allclose(soft.sum(-1), torch::ones({b, s}), 1e-5, 1e-6));
  }
  // One token, hand-computed: it attends 1/2-1/2 to a text and a vision key,
  // |x| = 3, |x_attn| = 1, it was text: (1 * (.5, .5) + 3 * (1, 0)) / 4.
  auto attn = torch::tensor({0.5f, 0.5f}).view({1, 1, 2});
  auto keys = torch::tensor({1.f, 0.f, 0.f, 1.f}).view({1, 2, 2});
  auto own = torch::tensor({1.f, 0.f}).view({1, 1, 2});
  auto out = propagate_soft_modality(attn, keys, own, torch::tensor({3.f, 0.f}).view({1, 1, 2}),
                                     torch::tensor({0.f, 1.f}).view({1, 1, 2}));
  EXPECT_NEAR(out[0][0][0].item<double>(), 3.5 / 4, 1e-6);
  EXPECT_NEAR(out[0][0][1].item<double>(), 0.5 / 4, 1e-6);
}

TEST(SmoesSoftScores, GaussiansPickTheRightModalityOnSeparableData) {
  torch::manual_seed(6);
  const int64_t d = 16, t = 400;
  auto modality = torch::randint(0, 2, {t}, torch::kLong);
  auto centre = modality.to(torch::kFloat).unsqueeze(1) * 2 - 1;  // text -1, vision +1
  auto make = [&] { return centre * 1.5 + torch::randn({t, d}); };
  auto g = ModalityGaussians::zeros(d);
  // Before any statistics, the hard labels.
  EXPECT_TRUE(torch::equal(g.scores(make(), modality), hard_soft_modality(modality)));
  for (int step = 0; step < 50; ++step) g.update(make(), modality, 0.9);
  EXPECT_TRUE(torch::allclose(g.mean[1], torch::full({d}, 1.5f), 0.2, 0.2));
  EXPECT_TRUE(torch::allclose(g.var[0], torch::ones({d}), 0.3, 0.3));
  auto scores = g.scores(make(), modality);
  EXPECT_TRUE(torch::allclose(scores.sum(-1), torch::ones({t}), 1e-5, 1e-6));
  auto right = scores.argmax(-1).eq(modality).to(torch::kFloat).mean().item<double>();
  EXPECT_GT(right, 0.99);
}

TEST(SmoesSoftScores, GaussianScoreIsTheTemperedLikelihoodRatio) {
  // D = 2, text N((0,0), 1), vision N((1,1), 1), tau = 0.5 * D = 1.
  // x = (1,1): s_text = -1, s_vision = 0 -> vision 1 / (1 + e^-1).
  // x = (1,0): equally far from both -> 1/2.
  ModalityGaussians g{torch::tensor({0.f, 0.f, 1.f, 1.f}).view({2, 2}), torch::ones({2, 2}), torch::ones({2})};
  auto s = g.scores(torch::tensor({1.f, 1.f, 1.f, 0.f}).view({2, 2}), torch::tensor({0, 0}, torch::kLong));
  EXPECT_NEAR(s[0][1].item<double>(), 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(s[1][1].item<double>(), 0.5, 1e-6);
}

TEST(SmoesBins, AdaptiveSortsByTextFractionAndIsStableUnderTies) {
  // Text fractions: e0 .2, e1 .9, e2 .5, e3 .9, e4 0, e5 .5 -> order 1,3,2,5,0,4.
  auto text = torch::tensor({2.f, 9.f, 5.f, 9.f, 0.f, 5.f});
  auto vision = torch::tensor({8.f, 1.f, 5.f, 1.f, 4.f, 5.f});
  auto bins = adaptive_bins(text, vision, 3);
  EXPECT_TRUE(torch::equal(bins, torch::tensor({2, 0, 1, 0, 2, 1}, torch::kLong)));
  // All tied (no load yet): index order, the same as fixed bins.
  EXPECT_TRUE(torch::equal(adaptive_bins(torch::zeros({8}), torch::zeros({8}), 2), fixed_bins(8, 2)));
  EXPECT_TRUE(torch::equal(fixed_bins(8, 4), torch::tensor({0, 0, 1, 1, 2, 2, 3, 3}, torch::kLong)));
  EXPECT_NE(error_of([] { fixed_bins(8, 3); }).find("do not divide"), std::string::npos);
}

TEST(SmoesBalance, WithinBinBalanceIsOneWhenUniformAndMatchesPerBinSwitchLoss) {
  const int64_t e = 6;
  auto uniform = torch::full({4, e}, 1.0f / e);
  auto idx = torch::tensor({0, 1, 2, 3, 4, 5, 0, 3}, torch::kLong).view({4, 2});
  auto bins = torch::tensor({0, 0, 0, 1, 1, 1}, torch::kLong);
  // Uniform probabilities and equal slots within each bin... slots here:
  // e0 2, e3 2, others 1: within-bin P is 1/3 everywhere, so the loss is
  // sum_e 3 * slots_e / 8 * 1/3 = 1 for any slot counts.
  EXPECT_NEAR(within_bin_balance(uniform, idx, bins, 2).item<double>(), 1.0, 1e-6);
  // Random case against the per-bin Switch loss weighted by the bin's slot share.
  torch::manual_seed(7);
  auto probs = torch::softmax(torch::randn({9, e}), -1);
  auto chosen = std::get<1>(probs.topk(2, -1));
  double ref = 0;
  const int64_t slots_all = chosen.numel();
  for (int k = 0; k < 2; ++k) {
    double slots_bin = 0, term = 0;
    for (int64_t ex = 3 * k; ex < 3 * k + 3; ++ex) slots_bin += chosen.eq(ex).sum().item<double>();
    for (int64_t ex = 3 * k; ex < 3 * k + 3; ++ex) {
      double p = 0;
      for (int64_t j = 0; j < 9; ++j)
        p += probs[j][ex].item<double>() / probs[j].narrow(0, 3 * k, 3).sum().item<double>();
      term += (slots_bin > 0 ? chosen.eq(ex).sum().item<double>() / slots_bin : 0) * p / 9;
    }
    ref += slots_bin / slots_all * 3 * term;
  }
  EXPECT_NEAR(within_bin_balance(probs, chosen, bins, 2).item<double>(), ref, 1e-5);
}

TEST(SmoesRouter, AddsItsLossesWithTheirWeightsAndReportsScores) {
  torch::manual_seed(8);
  auto m = smoes_moe_cfg(8, 2);
  auto r = smoes_cfg("binary");
  r.mi_loss_coef = 0.5;
  MoELayer layer(m, r, 8, "smoes");
  auto x = torch::randn({12, 8});
  auto modality = torch::randint(0, 2, {12}, torch::kLong);
  auto out = layer->forward(x, modality);
  ASSERT_EQ(out.losses.count("balance"), 0u);  // the within-bin balance replaces the global one
  const double expect = m.aux_loss_coef * out.losses.at("bin_balance").item<double>() +
                        m.z_loss_coef * out.losses.at("z").item<double>() + 0.5 * out.losses.at("mi").item<double>();
  EXPECT_NEAR(out.aux_loss.item<double>(), expect, 1e-6);
  EXPECT_TRUE(torch::equal(out.soft_modality, hard_soft_modality(modality)));
  r.bin_loss = "kl";
  MoELayer kl(m, r, 8, "kl");
  EXPECT_EQ(kl->forward(x, modality).losses.count("bin_kl"), 1u);
  r.bin_loss = "none";
  MoELayer none(m, r, 8, "none");
  auto losses = none->forward(x, modality).losses;
  EXPECT_EQ(losses.count("mi") + losses.count("bin_kl"), 0u);
}

TEST(SmoesRouter, AdaptiveBinsFollowTheLoadsEveryKForwards) {
  torch::manual_seed(9);
  auto r = smoes_cfg("binary");
  r.rebin_every = 3;
  MoELayer layer(smoes_moe_cfg(4, 1), r, 8, "rebin");
  layer->train();
  // Text tokens prefer experts 2 and 3, vision 0 and 1 (a strong gate bias).
  torch::NoGradGuard no_grad;
  layer->router->gate->weight.zero_();
  layer->router->gate->weight.index_put_({torch::indexing::Slice(), 0}, torch::tensor({-4.f, -3.f, 3.f, 4.f}));
  auto x = torch::zeros({40, 8});
  auto modality = torch::cat({torch::zeros({20}, torch::kLong), torch::ones({20}, torch::kLong)});
  x.index_put_({torch::indexing::Slice(0, 20), 0}, 1.0);
  x.index_put_({torch::indexing::Slice(20, 40), 0}, -1.0);
  auto bins = [&] { return layer->router->named_buffers()["expert_bin"].clone(); };
  layer->forward(x, modality);
  layer->forward(x, modality);
  EXPECT_TRUE(torch::equal(bins(), fixed_bins(4, 2)));  // not yet K forwards
  layer->forward(x, modality);
  // Text goes to e3 (top-1), vision to e0: e3 first, then the unused e1/e2 (ties, index order), e0 last.
  EXPECT_TRUE(torch::equal(bins(), torch::tensor({1, 0, 1, 0}, torch::kLong))) << bins();
  // Eval leaves every statistic alone.
  layer->eval();
  auto before = layer->router->named_buffers()["text_load"].clone();
  layer->forward(x, modality);
  EXPECT_TRUE(torch::equal(before, layer->router->named_buffers()["text_load"]));
}

TEST(SmoesRouter, GaussianStatisticsUpdateInTrainingFreezeInEvalAndSurviveSaveLoad) {
  torch::manual_seed(10);
  auto r = smoes_cfg("gaussian");
  MoELayer layer(smoes_moe_cfg(4, 2), r, 8, "gauss");
  auto x = torch::randn({30, 8});
  auto modality = torch::randint(0, 2, {30}, torch::kLong);
  layer->train();
  for (int i = 0; i < 3; ++i) layer->forward(x + 0.1 * i, modality);
  auto buffers = layer->router->named_buffers();
  EXPECT_EQ(buffers["gaussian_updates"][0].item<double>(), 3.0);
  auto soft_train = layer->forward(x, modality).soft_modality;
  EXPECT_FALSE(torch::equal(soft_train, hard_soft_modality(modality)));

  std::stringstream stream;
  torch::serialize::OutputArchive out;
  layer->save(out);
  out.save_to(stream);
  MoELayer loaded(smoes_moe_cfg(4, 2), r, 8, "gauss");
  torch::serialize::InputArchive in;
  in.load_from(stream);
  loaded->load(in);
  loaded->eval();
  layer->eval();
  for (const auto& name : {"gaussian_mean", "gaussian_var", "gaussian_updates", "text_load", "expert_bin"})
    EXPECT_TRUE(torch::equal(loaded->router->named_buffers()[name], layer->router->named_buffers()[name])) << name;
  auto mean = loaded->router->named_buffers()["gaussian_mean"].clone();
  auto a = loaded->forward(x * 3, modality).soft_modality;
  EXPECT_TRUE(torch::equal(mean, loaded->router->named_buffers()["gaussian_mean"]));  // frozen in eval
  EXPECT_TRUE(torch::allclose(a, layer->forward(x * 3, modality).soft_modality));
}

TEST(SmoesRouter, PaddedBatchGivesTheSameStatisticsAndLosses) {
  torch::manual_seed(11);
  for (const char* soft : {"binary", "gaussian", "attention"}) {
    auto r = smoes_cfg(soft);
    r.rebin_every = 1;
    MoELayer plain(smoes_moe_cfg(4, 2), r, 8, "plain"), padded(smoes_moe_cfg(4, 2), r, 8, "padded");
    padded->router->gate->weight.data().copy_(plain->router->gate->weight.data());
    padded->experts->w13.data().copy_(plain->experts->w13.data());
    padded->experts->w2.data().copy_(plain->experts->w2.data());
    auto x = torch::randn({10, 8});
    auto modality = torch::randint(0, 2, {10}, torch::kLong);
    auto scores = torch::softmax(torch::randn({10, 2}), -1);
    // Padding: 4 junk rows of huge values, labelled vision, in between.
    auto xp = torch::cat({x.narrow(0, 0, 5), torch::full({4, 8}, 50.f), x.narrow(0, 5, 5)});
    auto mp = torch::cat({modality.narrow(0, 0, 5), torch::ones({4}, torch::kLong), modality.narrow(0, 5, 5)});
    auto sp = torch::cat({scores.narrow(0, 0, 5), torch::tensor({0.f, 1.f}).expand({4, 2}), scores.narrow(0, 5, 5)});
    auto valid = torch::ones({14}, torch::kBool);
    valid.narrow(0, 5, 4).fill_(false);
    plain->train();
    padded->train();
    for (int step = 0; step < 2; ++step) {
      auto a = plain->forward(x, modality, scores);
      auto b = padded->forward(xp, mp, sp, valid);
      for (const auto& [name, value] : a.losses)
        EXPECT_NEAR(value.item<double>(), b.losses.at(name).item<double>(), 1e-5) << soft << " " << name;
      EXPECT_TRUE(torch::allclose(a.soft_modality, b.soft_modality)) << soft;
    }
    for (const auto& b : plain->router->named_buffers())
      EXPECT_TRUE(torch::allclose(b.value().to(torch::kDouble),
                                  padded->router->named_buffers()[b.key()].to(torch::kDouble)))
          << soft << " " << b.key();
  }
}

TEST(RouterTable, EveryKindBuildsAndAddsOnlyTheLossesItLists) {
  torch::manual_seed(12);
  auto x = torch::randn({16, 8});
  auto modality = torch::randint(0, 2, {16}, torch::kLong);
  for (const auto& kind : router_kinds()) {
    RouterConfig r;
    r.name = kind.name;
    MoELayer layer(smoes_moe_cfg(8, 2), r, 8, kind.name);
    layer->train();
    auto out = layer->forward(x, modality);
    std::set<std::string> listed;
    for (const auto& l : kind.losses) listed.insert(l.name);
    for (const auto& [name, value] : out.losses) EXPECT_TRUE(listed.count(name)) << kind.name << " adds " << name;
    EXPECT_FALSE(kind.help.empty());
  }
  RouterConfig r;
  r.name = "topk";
  EXPECT_NE(error_of([&] { router_loss_coef(smoes_moe_cfg(), r, "mi"); }).find("router_table"), std::string::npos);
  r.name = "nope";
  EXPECT_NE(error_of([&] { make_router(smoes_moe_cfg(), r, 8, "x"); }).find("router.name"), std::string::npos);
}

TEST(SmoesConfig, BadValuesNameTheirField) {
  auto bad = [](const nlohmann::json& router, int experts = 8) {
    nlohmann::json j = {{"moe", {{"num_experts", experts}}}, {"router", router}};
    return error_of([&] { Config::from_json(j, "c.json"); });
  };
  EXPECT_NE(bad({{"name", "smoes"}, {"soft_scores", "hidden"}}).find("router.soft_scores"), std::string::npos);
  EXPECT_NE(bad({{"name", "smoes"}, {"num_bins", 3}}).find("router.num_bins"), std::string::npos);
  EXPECT_NE(bad({{"name", "smoes"}, {"rebin_every", 0}}).find("router.rebin_every"), std::string::npos);
  EXPECT_NE(bad({{"name", "smoes"}, {"bin_loss", "entropy"}}).find("router.bin_loss"), std::string::npos);
  EXPECT_NE(bad({{"name", "smoez"}}).find("router.name"), std::string::npos);
}
