// MoE layer fwd+bwd against a dense SwiGLU of equal active FLOPs and a
// per-expert loop, measured interleaved in the same run (moe/bench.h).
// Counters: ratio_vs_dense, ratio_vs_loop, gemm_ratio (expert GEMMs alone vs the
// dense FFN's GEMMs) and the medians in ms.
#include <benchmark/benchmark.h>

#include "core/runtime.h"
#include "moe/bench.h"

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

}  // namespace

int main(int argc, char** argv) {
  smoes::init_runtime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
