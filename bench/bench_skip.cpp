// Expert skipping on the clock (issue 26): prefill of the study's model
// shape (d 192, 4 MoE layers, E 16, top-4, batch 16 of 16 visual + 40 text
// tokens) with a MoDES-style rule that skips the lowest-probability share
// `ratio` of the routed slots (the rule's threshold is that batch's
// quantile), against the same model unskipped, timed alternately in the same
// run. Counters: moe_speedup (time in the MoE layers), model_speedup (the
// whole prefill), skip (the achieved ratio). Weights are random: the time a
// skipped slot saves does not depend on what the model learned.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "model/vlm.h"
#include "skip/rules.h"

namespace {

constexpr int64_t kVocab = 1000, kImage = 3;

smoes::Config study_shape(int experts, int top_k) {
  smoes::Config c;
  c.model.d_model = 192;
  c.model.n_layers = 4;
  c.model.n_heads = 6;
  c.model.max_seq_len = 128;
  c.model.image_size = 64;
  c.model.patch_size = 16;
  c.model.vit_layers = 2;
  c.model.vit_width = 128;
  c.model.vit_heads = 4;
  c.moe.num_experts = experts;
  c.moe.top_k = top_k;
  c.moe.ffn_hidden = 384 * 2 / top_k;  // active FFN width fixed as k varies
  return c;
}

// Skips the slots whose routing probability is below the batch's `ratio` quantile.
smoes::moe::SkipRule lowest_share(double ratio) {
  return [ratio](const smoes::moe::RoutingDecision& d, const torch::Tensor&) {
    auto pi = d.probs.gather(1, d.indices);
    if (ratio <= 0) return torch::ones(pi.sizes(), torch::kBool);
    auto tau = pi.reshape(-1).quantile(ratio);
    return pi > tau;
  };
}

void BM_SkipPrefill(benchmark::State& state) {
  torch::manual_seed(0);
  const double ratio = double(state.range(2)) / 100;
  auto cfg = study_shape(int(state.range(0)), int(state.range(1)));
  smoes::model::MoEVLM model(cfg, kVocab, kImage);
  model->eval();
  const int64_t batch = 16, visual = model->image_tokens(), text = 40;
  auto ids = torch::cat({torch::full({batch, visual}, kImage, torch::kLong), torch::randint(10, kVocab, {batch, text})}, 1);
  smoes::model::VLMInput in{ids, ids.eq(kImage).to(torch::kLong), {}, torch::randn({batch, 3, 64, 64}), {}};
  auto layers = smoes::skip::moe_layers(*model);
  auto moe_seconds = [&] {
    double t = 0;
    for (auto* l : layers) t += l->forward_seconds;
    return t;
  };
  auto prefill = [&](bool skipping, double& moe) {
    std::vector<smoes::moe::SkipRule> rules(layers.size(), skipping ? lowest_share(ratio) : nullptr);
    auto counts = std::make_shared<smoes::skip::SkipCounts>();
    smoes::skip::InstallRules installed(*model, rules, skipping ? nullptr : counts);
    torch::NoGradGuard no_grad;
    const double before = moe_seconds();
    auto start = std::chrono::steady_clock::now();
    model->forward(in);
    moe = moe_seconds() - before;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<double> model_ratio, moe_ratio;
  double moe_base = 0, moe_skip = 0;
  prefill(true, moe_skip);  // warm-up
  for (auto _ : state) {
    for (int r = 0; r < 7; ++r) {
      const double base = prefill(false, moe_base), fast = prefill(true, moe_skip);
      model_ratio.push_back(base / fast);
      moe_ratio.push_back(moe_base / moe_skip);
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  // The achieved ratio, from one counted pass.
  auto counts = std::make_shared<smoes::skip::SkipCounts>();
  {
    smoes::skip::InstallRules installed(*model, std::vector<smoes::moe::SkipRule>(layers.size(), lowest_share(ratio)),
                                        counts);
    torch::NoGradGuard no_grad;
    model->forward(in);
  }
  state.counters["skip"] = counts->ratio();
  state.counters["moe_speedup"] = median(moe_ratio);
  state.counters["model_speedup"] = median(model_ratio);
}
BENCHMARK(BM_SkipPrefill)
    ->ArgsProduct({{16}, {2, 4}, {0, 50, 80}})
    ->ArgNames({"E", "k", "ratio_pct"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
