// NAEE pruning: the subset search, and the pruned model equals the original
// layer routing only among the kept experts.
#include "skip/prune.h"

#include <gtest/gtest.h>

#include "../error_of.h"
#include "../tiny_run.h"
#include "skip/rules.h"

using namespace smoes;
using namespace smoes::skip;

namespace {

constexpr int64_t kVocab = 40, kImage = 3;

// tiny_run's small model with 6 experts.
Config tiny_config(const std::string& router = "topk") {
  auto c = tiny_run::small_config("", "");
  c.moe.num_experts = 6;
  c.router.name = router;
  return c;
}

std::vector<tasks::Batch> batches() {
  auto ids = torch::tensor(std::vector<int64_t>{kImage, kImage, kImage, kImage, 10, 11, 12, 13}).repeat({3, 1});
  tasks::Batch b;
  b.input = {ids, ids.eq(kImage).to(torch::kLong), {}, torch::randn({3, 3, 16, 16}), {}};
  return {b};
}

}  // namespace

TEST(NaeePrune, ExactSearchBeatsEveryOtherSubsetAndGreedyIsNoBetter) {
  torch::manual_seed(3);
  model::MoEVLM model(tiny_config(), kVocab, kImage);
  auto b = batches();
  PruneOptions o;
  o.keep = 3;
  auto exact = choose_experts(*model, b, o);
  ASSERT_EQ(exact.size(), 2u);
  EXPECT_EQ(exact[0].search, "exact");
  EXPECT_EQ(exact[0].subsets, 20);  // C(6, 3)
  o.exact_limit = 0;
  auto greedy = choose_experts(*model, b, o);
  EXPECT_EQ(greedy[0].search, "greedy");
  EXPECT_EQ(greedy[0].subsets, 6 + 5 + 4);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(exact[l].kept.size(), 3u);
    EXPECT_GE(greedy[l].error, exact[l].error - 1e-12);
    EXPECT_GT(exact[l].error, 0.0);
  }
}

TEST(NaeePrune, PrunedModelRoutesAsTheOriginalRestrictedToTheKeptExperts) {
  for (const char* router : {"topk", "smoes"}) {
    torch::manual_seed(5);
    auto cfg = tiny_config(router);
    model::MoEVLM model(cfg, kVocab, kImage);
    model->eval();
    auto b = batches();
    PruneOptions o;
    o.keep = 4;
    auto chosen = choose_experts(*model, b, o);
    auto pruned = pruned_model(*model, chosen);
    EXPECT_EQ(pruned->cfg.moe.layer_experts, (std::vector<int>{4, 4}));
    auto original = moe_layers(*model), smaller = moe_layers(*pruned);
    ASSERT_EQ(smaller[0]->cfg.num_experts, 4);
    torch::NoGradGuard no_grad;
    auto x = torch::randn({7, 32});
    auto modality = torch::tensor(std::vector<int64_t>{0, 1, 0, 1, 1, 0, 0});
    for (size_t l = 0; l < 2; ++l) {
      auto full = original[l]->forward(x, modality);
      std::vector<torch::Tensor> ys;
      for (int64_t e = 0; e < 6; ++e) ys.push_back(original[l]->experts->expert(e, x));
      auto y = torch::stack(ys);
      // The pruned layer's output is the restricted routing of the original one.
      auto restricted_error = subset_error(y, full.decision.logits, smaller[l]->forward(x, modality).y, chosen[l].kept,
                                           2, cfg.router.renormalize);
      EXPECT_LT(restricted_error, 1e-10) << router << " layer " << l;
      std::vector<int64_t> all = {0, 1, 2, 3, 4, 5};
      EXPECT_LT(subset_error(y, full.decision.logits, full.y, all, 2, cfg.router.renormalize), 1e-10);
    }
  }
}

TEST(NaeePrune, BadKeepAndRoutersAreRefused) {
  torch::manual_seed(1);
  model::MoEVLM model(tiny_config(), kVocab, kImage);
  auto b = batches();
  PruneOptions o;
  o.keep = 6;
  EXPECT_NE(error_of([&] { choose_experts(*model, b, o); }).find("prunes nothing: r must be below E"),
            std::string::npos);
  o.keep = 1;
  EXPECT_NE(error_of([&] { choose_experts(*model, b, o); }).find("below moe.top_k = 2"), std::string::npos);
  model::MoEVLM smar(tiny_config("smar"), kVocab, kImage);
  o.keep = 3;
  EXPECT_NE(error_of([&] { choose_experts(*smar, b, o); }).find("router 'smar' is not supported"), std::string::npos);
  auto cfg = tiny_config();
  cfg.moe.layer_experts = {4};
  EXPECT_NE(error_of([&] { cfg.validate(); }).find("moe.layer_experts: lists 1 layers, the model has 2"),
            std::string::npos);
  cfg.moe.layer_experts = {4, 1};
  EXPECT_NE(error_of([&] { cfg.validate(); }).find("moe.layer_experts[1]"), std::string::npos);
}
