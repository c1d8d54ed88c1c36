// The MoE layer benchmark (`smoes bench moe`, bench/bench_moe.cpp): forward +
// backward time of the MoE layer against (a) a dense SwiGLU with the same
// active FLOPs (hidden = top_k * ffn) and (b) a naive per-expert loop
// (index_select per expert, as a Python Mixtral block does), all measured
// interleaved in the same process.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace smoes::moe {

struct MoEBenchCase {
  int64_t tokens = 4096, d_model = 256, ffn_hidden = 512, experts = 8, top_k = 2;
};

struct MoEBenchResult {
  MoEBenchCase shape;
  double moe_ms = 0, dense_ms = 0, loop_ms = 0;  // medians of fwd+bwd
  // The six GEMMs of a SwiGLU fwd+bwd alone: per expert on T*k/E rows each,
  // spread over threads as the layer does, and for the dense FFN. Their ratio
  // is the floor under ratio_vs_dense that routing, gather and scatter add to.
  double expert_gemm_ms = 0, dense_gemm_ms = 0;
  // Medians of the per-repeat ratios (each repeat times every variant back to
  // back), so a machine that speeds up or slows down mid-run moves both sides.
  double dense_ratio = 0, loop_ratio = 0, gemms_ratio = 0;
  // The expert GEMMs again with each thread reusing one expert's weights (in
  // its cache), against the dense GEMMs: gemm_ratio minus this is what moving
  // E experts' weights and gradients through memory costs.
  double cached_gemms_ratio = 0;
  double ratio_vs_dense() const { return dense_ratio; }
  double ratio_vs_loop() const { return loop_ratio; }
  double gemm_ratio() const { return gemms_ratio; }
  double cached_gemm_ratio() const { return cached_gemms_ratio; }
  nlohmann::json to_json() const;
};

// The grid: T in {512, 4096} x E in {8, 64} x top-k in {2, 8}, d 256, ffn 512.
std::vector<MoEBenchCase> default_moe_cases();

// Times each variant `repeats` times (after one warm-up), interleaved.
// Reported times are medians; ratios are medians of per-repeat ratios.
MoEBenchResult bench_moe_case(const MoEBenchCase& shape, int repeats);

// The six GEMMs of a SwiGLU fwd + bwd (rows x d_model inputs, width hidden)
// on moe::gemm (oneDNN) against ATen's mm (OpenBLAS), alternating, on
// `threads` threads (BM_SwiGLUGemms). Medians; ratio = median per-repeat ratio.
struct GemmLibraryResult {
  double onednn_ms = 0, aten_ms = 0, onednn_ratio = 0;
};
GemmLibraryResult bench_swiglu_gemms(int64_t rows, int64_t d_model, int64_t hidden, int threads, int repeats);

}  // namespace smoes::moe
