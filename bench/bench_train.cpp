// Training throughput of the VLM (fwd + bwd + AdamW) against the fp32 matmul
// rate measured in the same run. Counters: tokens/s, achieved GFLOP/s and the
// fractions of the matmul rate on ATen and on moe::gemm.
#include <benchmark/benchmark.h>

#include "core/runtime.h"
#include "train/throughput.h"

namespace {

void BM_TrainStep(benchmark::State& state) {
  smoes::Config cfg;
  cfg.model.d_model = int(state.range(0));
  cfg.model.n_heads = cfg.model.d_model / 64;
  cfg.model.dense_ffn_hidden = 2 * cfg.model.d_model;
  cfg.moe.enabled = state.range(1) != 0;
  cfg.moe.ffn_hidden = cfg.model.d_model * 2;
  smoes::train::ThroughputResult r;
  for (auto _ : state) r = smoes::train::measure_train_throughput(cfg, /*vocab=*/2048, /*batch=*/8, /*seq_len=*/128, 5);
  state.counters["tokens_per_s"] = r.tokens_per_s;
  state.counters["gflops"] = r.achieved_gflops;
  state.counters["matmul_gflops"] = r.matmul_gflops;
  state.counters["fraction_of_matmul"] = r.fraction_of_matmul();
  state.counters["gemm_gflops"] = r.gemm_gflops;
  state.counters["fraction_of_gemm"] = r.fraction_of_gemm();
}
BENCHMARK(BM_TrainStep)->ArgsProduct({{256, 512}, {0, 1}})->ArgNames({"d", "moe"})->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  smoes::init_runtime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
