#include "moe/bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "moe/moe_layer.h"

namespace smoes::moe {

nlohmann::json MoEBenchResult::to_json() const {
  return {{"tokens", shape.tokens},  {"d_model", shape.d_model},   {"ffn_hidden", shape.ffn_hidden},
          {"experts", shape.experts}, {"top_k", shape.top_k},       {"moe_ms", moe_ms},
          {"dense_ms", dense_ms},     {"loop_ms", loop_ms},         {"ratio_vs_dense", ratio_vs_dense()},
          {"ratio_vs_loop", ratio_vs_loop()}};
}

std::vector<MoEBenchCase> default_moe_cases() {
  std::vector<MoEBenchCase> cases;
  for (int64_t t : {512, 4096})
    for (int64_t e : {8, 64})
      for (int64_t k : {2, 8})
        cases.push_back({t, 256, 512, e, k});
  return cases;
}

namespace {

// The baseline a Python MoE block runs: per expert, find its tokens, gather,
// run the expert with ordinary autograd ops, scatter-add weighted outputs.
torch::Tensor naive_loop(MoELayer& layer, const torch::Tensor& x, const torch::Tensor& modality) {
  auto d = layer->router->route({x, modality, {}}).decision;
  auto out = torch::zeros_like(x);
  const int64_t f = layer->experts->ffn_hidden;
  for (int64_t e = 0; e < layer->experts->num_experts; ++e) {
    auto hit = d.indices.eq(e).nonzero();  // [n, 2]: token, rank
    if (hit.size(0) == 0) continue;
    auto tokens = hit.select(1, 0);
    auto w = d.weights.index({tokens, hit.select(1, 1)}).unsqueeze(1);
    auto h = torch::mm(x.index_select(0, tokens), layer->experts->w13[e]);
    auto y = torch::mm(torch::silu(h.narrow(1, 0, f)) * h.narrow(1, f, f), layer->experts->w2[e]);
    out = out.index_add(0, tokens, y * w);
  }
  return out;
}

template <class F>
double time_ms(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

MoEBenchResult bench_moe_case(const MoEBenchCase& s, int repeats) {
  torch::manual_seed(0);
  MoEConfig cfg;
  cfg.num_experts = int(s.experts);
  cfg.top_k = int(s.top_k);
  cfg.ffn_hidden = int(s.ffn_hidden);
  RouterConfig router;
  MoELayer layer(cfg, router, s.d_model, "bench");
  SwiGLU dense(s.d_model, s.top_k * s.ffn_hidden);
  auto x = torch::randn({s.tokens, s.d_model}, torch::requires_grad());
  auto modality = torch::zeros({s.tokens}, torch::kLong);
  auto grad = torch::randn({s.tokens, s.d_model});

  auto run_moe = [&] { (layer->forward(x, modality).y * grad).sum().backward(); };
  auto run_dense = [&] { (dense(x) * grad).sum().backward(); };
  auto run_loop = [&] { (naive_loop(layer, x, modality) * grad).sum().backward(); };
  run_moe(), run_dense(), run_loop();  // warm-up: allocator, thread pool, packing buffers
  std::vector<double> moe, dense_t, loop;
  for (int r = 0; r < repeats; ++r) {
    moe.push_back(time_ms(run_moe));
    dense_t.push_back(time_ms(run_dense));
    loop.push_back(time_ms(run_loop));
  }
  MoEBenchResult result;
  result.shape = s;
  result.moe_ms = median(moe);
  result.dense_ms = median(dense_t);
  result.loop_ms = median(loop);
  return result;
}

}  // namespace smoes::moe
