// Training throughput of a model config on synthetic batches: tokens/s and
// achieved GFLOP/s against the fp32 matmul rate measured in the same run
// (what `smoes bench train` reports).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/config.h"

namespace smoes::train {

struct ThroughputResult {
  double tokens_per_s = 0;
  double step_seconds = 0;
  double achieved_gflops = 0;  // 3 x analytic forward FLOPs / step time
  double matmul_gflops = 0;    // 1024^3 fp32 matmul (ATen, OpenBLAS), same process
  // The same product on moe::gemm (oneDNN), which every linear layer of the
  // step now runs on: the rate the step could reach if it were all GEMM.
  double gemm_gflops = 0;
  double fraction_of_matmul() const { return achieved_gflops / matmul_gflops; }
  double fraction_of_gemm() const { return achieved_gflops / gemm_gflops; }
  nlohmann::json to_json() const;
};

// Times `steps` optimizer steps (after 2 warm-up steps) on batches of
// `batch` sequences of `seq_len` tokens with one image each.
ThroughputResult measure_train_throughput(const Config& cfg, int64_t vocab, int64_t batch, int64_t seq_len,
                                          int steps);

}  // namespace smoes::train
