// x w^T ([T, d] x [out, d]^T, nn::Linear's layout, no bias) on moe::gemm,
// differentiable in both: the routers' logits, and the per-expert loop that
// `smoes bench moe` compares against. OpenBLAS, behind at::linear, threads a
// GEMM as narrow as the router's (E columns) badly: on two threads it took
// longer than on one, forward and for the input gradient.
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

// x [T, d], weight [out, d] (any strides moe::gemm takes, e.g. a transposed view): [T, out].
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight);

// x [..., in] through an nn::Linear's weight and bias (if any), on moe::gemm:
// the attention projections, the LM head and the ViT's layers take the same
// faster GEMM as the experts. At one row (a decoded token) ATen's OpenBLAS
// packed the whole weight on every call: 12% of a batch-1 decode profile
// (docs/PERFORMANCE.md).
torch::Tensor linear(const torch::Tensor& x, const torch::nn::Linear& layer);

}  // namespace smoes::moe
