#include "moe/bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "moe/gemm.h"
#include "moe/linear.h"
#include "moe/moe_layer.h"
#include "moe/parallel.h"

namespace smoes::moe {

nlohmann::json MoEBenchResult::to_json() const {
  return {{"tokens", shape.tokens},  {"d_model", shape.d_model},   {"ffn_hidden", shape.ffn_hidden},
          {"experts", shape.experts}, {"top_k", shape.top_k},       {"moe_ms", moe_ms},
          {"dense_ms", dense_ms},     {"loop_ms", loop_ms},         {"ratio_vs_dense", ratio_vs_dense()},
          {"ratio_vs_loop", ratio_vs_loop()}, {"expert_gemm_ms", expert_gemm_ms}, {"dense_gemm_ms", dense_gemm_ms},
          {"gemm_ratio", gemm_ratio()}, {"cached_gemm_ratio", cached_gemm_ratio()}};
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
// Its matmuls run on moe::gemm like the layer's, so the two differ only in
// how they dispatch, not in the GEMM library.
torch::Tensor naive_loop(MoELayer& layer, const torch::Tensor& x, const torch::Tensor& modality) {
  auto d = layer->router->route({x, modality, {}}).decision;
  auto out = torch::zeros_like(x);
  const int64_t f = layer->experts->ffn_hidden;
  for (int64_t e = 0; e < layer->experts->num_experts; ++e) {
    auto hit = d.indices.eq(e).nonzero();  // [n, 2]: token, rank
    if (hit.size(0) == 0) continue;
    auto tokens = hit.select(1, 0);
    auto w = d.weights.index({tokens, hit.select(1, 1)}).unsqueeze(1);
    auto h = moe::linear(x.index_select(0, tokens), layer->experts->w13[e].t());
    auto y = moe::linear(torch::silu(h.narrow(1, 0, f)) * h.narrow(1, f, f), layer->experts->w2[e].t());
    out = out.index_add(0, tokens, y * w);
  }
  return out;
}

// Forward h = x w13, y = a w2; backward da = dy w2^T, dw2 = a^T dy, dx = dh w13^T,
// dw13 = x^T dh. Buffers are reused: only the GEMMs' own cost is timed.
struct SwiGLUGemms {
  torch::Tensor x, w13, w2, h, a, y, dy, da, dw2, dx, dw13;
  SwiGLUGemms(int64_t rows, int64_t d, int64_t hidden)
      : x(torch::randn({rows, d})), w13(torch::randn({d, 2 * hidden})), w2(torch::randn({hidden, d})),
        h(torch::randn({rows, 2 * hidden})), a(torch::randn({rows, hidden})), y(torch::empty({rows, d})),
        dy(torch::randn({rows, d})), da(torch::empty({rows, hidden})), dw2(torch::empty({hidden, d})),
        dx(torch::empty({rows, d})), dw13(torch::empty({d, 2 * hidden})) {}
  void run() {
    gemm(h, x, w13), gemm(y, a, w2);
    gemm(da, dy, w2.t()), gemm(dw2, a.t(), dy), gemm(dx, h, w13.t()), gemm(dw13, x.t(), h);
  }
  // The same six on ATen's mm (OpenBLAS): the library moe::gemm replaced.
  void run_aten() {
    at::mm_out(h, x, w13), at::mm_out(y, a, w2);
    at::mm_out(da, dy, w2.t()), at::mm_out(dw2, a.t(), dy), at::mm_out(dx, h, w13.t()), at::mm_out(dw13, x.t(), h);
  }
};

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

GemmLibraryResult bench_swiglu_gemms(int64_t rows, int64_t d_model, int64_t hidden, int threads, int repeats) {
  const int previous_threads = at::get_num_threads();
  at::set_num_threads(threads);
  torch::manual_seed(0);
  SwiGLUGemms g(rows, d_model, hidden);
  g.run(), g.run_aten();  // warm-up: JIT kernels, packing buffers
  std::vector<double> onednn, aten, ratio;
  for (int r = 0; r < repeats; ++r) {
    onednn.push_back(time_ms([&] { g.run(); }));
    aten.push_back(time_ms([&] { g.run_aten(); }));
    ratio.push_back(onednn.back() / aten.back());
  }
  at::set_num_threads(previous_threads);
  return {median(onednn), median(aten), median(ratio)};
}

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
  SwiGLUGemms dense_gemms(s.tokens, s.d_model, s.top_k * s.ffn_hidden);
  std::vector<SwiGLUGemms> expert_gemms;
  for (int64_t e = 0; e < s.experts; ++e) expert_gemms.emplace_back(s.tokens * s.top_k / s.experts, s.d_model, s.ffn_hidden);
  auto run_dense_gemms = [&] { dense_gemms.run(); };
  auto run_expert_gemms = [&] {
    at::parallel_for(0, s.experts, 1, [&](int64_t begin, int64_t end) {
      for (int64_t e = begin; e < end; ++e) expert_gemms[e].run();
    });
  };
  // The same GEMMs with each thread reusing the weights of its first expert,
  // which then stay in its cache: the gap to run_expert_gemms is the cost of
  // streaming E experts' weights and weight gradients through memory.
  auto run_cached_expert_gemms = [&] {
    at::parallel_for(0, s.experts, 1, [&](int64_t begin, int64_t end) {
      for (int64_t e = begin; e < end; ++e) expert_gemms[begin].run();
    });
  };
  run_moe(), run_dense(), run_loop(), run_dense_gemms(), run_expert_gemms(), run_cached_expert_gemms();  // warm-up
  std::vector<double> moe, dense_t, loop, dense_g, expert_g, cached_g;
  for (int r = 0; r < repeats; ++r) {
    moe.push_back(time_ms(run_moe));
    dense_t.push_back(time_ms(run_dense));
    loop.push_back(time_ms(run_loop));
    dense_g.push_back(time_ms(run_dense_gemms));
    expert_g.push_back(time_ms(run_expert_gemms));
    cached_g.push_back(time_ms(run_cached_expert_gemms));
  }
  auto ratios = [](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> r(a.size());
    for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] / b[i];
    return median(r);
  };
  MoEBenchResult result;
  result.shape = s;
  result.moe_ms = median(moe);
  result.dense_ms = median(dense_t);
  result.loop_ms = median(loop);
  result.dense_gemm_ms = median(dense_g);
  result.expert_gemm_ms = median(expert_g);
  result.dense_ratio = ratios(moe, dense_t);
  result.loop_ratio = ratios(moe, loop);
  result.gemms_ratio = ratios(expert_g, dense_g);
  result.cached_gemms_ratio = ratios(cached_g, dense_g);
  return result;
}

}  // namespace smoes::moe
