// MoE layer fwd+bwd against a dense SwiGLU of equal active FLOPs and a
// per-expert loop, measured interleaved in the same run (moe/bench.h).
// Counters: ratio_vs_dense, ratio_vs_loop, gemm_ratio (expert GEMMs alone vs the
// dense FFN's GEMMs) and the medians in ms. BM_SoftmaxTopK: the routers' fused
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
#include "moe/gemm.h"
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

// rows x d inputs, hidden = SwiGLU width (w13 is d x 2 hidden); weight
// gradients accumulate (beta = 1), as the experts add into .grad.
void BM_SwiGLUGemms(benchmark::State& state) {
  const int64_t rows = state.range(0), hidden = state.range(1), threads = state.range(2), d = 256;
  const int previous_threads = at::get_num_threads();
  at::set_num_threads(int(threads));
  torch::manual_seed(0);
  auto x = torch::randn({rows, d}), w13 = torch::randn({d, 2 * hidden}), w2 = torch::randn({hidden, d});
  auto h = torch::randn({rows, 2 * hidden}), a = torch::randn({rows, hidden}), dy = torch::randn({rows, d});
  auto y = torch::empty({rows, d}), da = torch::empty({rows, hidden}), dx = torch::empty({rows, d});
  auto dw2 = torch::zeros({hidden, d}), dw13 = torch::zeros({d, 2 * hidden});
  auto onednn = [&] {
    using smoes::moe::gemm;
    gemm(h, x, w13), gemm(y, a, w2), gemm(da, dy, w2.t()), gemm(dx, h, w13.t());
    gemm(dw2, a.t(), dy, 1), gemm(dw13, x.t(), h, 1);
  };
  auto aten = [&] {
    at::mm_out(h, x, w13), at::mm_out(y, a, w2), at::mm_out(da, dy, w2.t()), at::mm_out(dx, h, w13.t());
    dw2.addmm_(a.t(), dy), dw13.addmm_(x.t(), h);
  };
  onednn(), aten();
  std::pair<double, double> ms;
  for (auto _ : state) ms = alternate_medians(onednn, aten, 41);
  at::set_num_threads(previous_threads);
  state.counters["onednn_ms"] = ms.first;
  state.counters["aten_ms"] = ms.second;
  state.counters["onednn_ratio"] = ms.first / ms.second;
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
