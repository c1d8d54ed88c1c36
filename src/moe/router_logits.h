// The router's logits x w^T ([T, d] x [E, d]^T) on moe::gemm. OpenBLAS,
// behind at::linear, threads a GEMM this narrow (E = 8 columns) so badly
// that it took ~4x longer on two threads than on one: 0.2 ms of a 15 ms MoE
// layer step at T = 512 forward, as much again for the input gradient.
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

// hidden [T, d], weight [E, d] (a Linear's weight, no bias): [T, E], differentiable in both.
torch::Tensor router_logits(const torch::Tensor& hidden, const torch::Tensor& weight);

}  // namespace smoes::moe
