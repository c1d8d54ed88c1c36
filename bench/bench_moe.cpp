// MoE layer fwd+bwd against a dense SwiGLU of equal active FLOPs and a
// per-expert loop, measured interleaved in the same run (moe/bench.h).
// Counters: ratio_vs_dense, ratio_vs_loop, gemm_ratio (expert GEMMs alone vs the
// dense FFN's GEMMs), cached_gemm_ratio (the same with each thread's weights in
// its cache) and the medians in ms. BM_SoftmaxTopK: the routers' fused
// selection step against the ATen ops it replaced (fused_ratio < 1: faster).
// BM_SwiGLUGemms: the six GEMMs of a SwiGLU fwd + bwd on moe::gemm (oneDNN)
// against ATen's mm (OpenBLAS), at an expert's shape on one thread (as each
// thread runs its experts) and at the dense FFN's shape on all threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "core/runtime.h"
#include "moe/bench.h"
#include "moe/softmax_topk.h"

namespace {

void BM_MoELayer(benchmark::State& state) {
  smoes::moe::MoEBenchCase shape{state.range(0), 256, 512, state.range(1), state.range(2)};
  smoes::moe::MoEBenchResult r;
  for (auto _ : state) r = smoes::moe::bench_moe_case(shape, 5);
  state.counters["moe_ms"] = r.moe_ms;
  state.counters["dense_ms"] = r.dense_ms;
  state.counters["loop_ms"] = r.loop_ms;
  state.counters["ratio_vs_dense"] = r.ratio_vs_dense();
  state.counters["ratio_vs_loop"] = r.ratio_vs_loop();
  state.counters["gemm_ratio"] = r.gemm_ratio();
  state.counters["cached_gemm_ratio"] = r.cached_gemm_ratio();
}
BENCHMARK(BM_MoELayer)
    ->ArgsProduct({{512, 4096}, {8, 64}, {2, 8}})
    ->ArgNames({"T", "E", "k"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Median ms of `repeats` calls of f, alternating with g so both see the same machine.
template <class F, class G>
std::pair<double, double> alternate_medians(F&& f, G&& g, int repeats) {
  auto time_ms = [](auto&& fn) {
    auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<double> a, b;
  for (int r = 0; r < repeats; ++r) a.push_back(time_ms(f)), b.push_back(time_ms(g));
  std::sort(a.begin(), a.end()), std::sort(b.begin(), b.end());
  return {a[a.size() / 2], b[b.size() / 2]};
}

// Forward + backward (upstream gradients on probabilities and weights) of the
// fused softmax / top-k / renormalise against masked_fill-free ATen softmax, topk, div.
void BM_SoftmaxTopK(benchmark::State& state) {
  const int64_t t = state.range(0), e = state.range(1), k = state.range(2);
  torch::manual_seed(0);
  auto logits = torch::randn({t, e}, torch::requires_grad());
  auto gp = torch::randn({t, e}), gw = torch::randn({t, k});
  auto fused = [&] {
    auto r = smoes::moe::softmax_topk(logits, {}, k, true);
    ((r.probs * gp).sum() + (r.weights * gw).sum()).backward();
  };
  auto aten = [&] {
    auto p = torch::softmax(logits, -1);
    auto w = std::get<0>(p.topk(k, -1));
    ((p * gp).sum() + (w / w.sum(-1, true) * gw).sum()).backward();
  };
  fused(), aten();
  std::pair<double, double> ms;
  for (auto _ : state) ms = alternate_medians(fused, aten, 51);
  state.counters["fused_ms"] = ms.first;
  state.counters["aten_ms"] = ms.second;
  state.counters["fused_ratio"] = ms.first / ms.second;
}
BENCHMARK(BM_SoftmaxTopK)
    ->Args({512, 8, 2})
    ->Args({4096, 8, 2})
    ->Args({4096, 64, 8})
    ->ArgNames({"T", "E", "k"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_SwiGLUGemms(benchmark::State& state) {
  smoes::moe::GemmLibraryResult r;
  for (auto _ : state) r = smoes::moe::bench_swiglu_gemms(state.range(0), 256, state.range(1), int(state.range(2)), 41);
  state.counters["onednn_ms"] = r.onednn_ms;
  state.counters["aten_ms"] = r.aten_ms;
  state.counters["onednn_ratio"] = r.onednn_ratio;
}
BENCHMARK(BM_SwiGLUGemms)
    ->Args({128, 512, 1})   // one expert at T = 512, E = 8, top-2
    ->Args({1024, 512, 1})  // one expert at T = 4096
    ->Args({512, 1024, 2})  // the dense FFN at T = 512
    ->Args({4096, 1024, 2})
    ->ArgNames({"rows", "hidden", "threads"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  smoes::init_runtime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
