// The router's logits x w^T ([T, d] x [E, d]^T) on moe::gemm. OpenBLAS,
// behind at::linear, threads a GEMM this narrow (E columns) badly: on two
// threads it took longer than on one, forward and for the input gradient.
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

// hidden [T, d], weight [E, d] (a Linear's weight, no bias): [T, E], differentiable in both.
torch::Tensor router_logits(const torch::Tensor& hidden, const torch::Tensor& weight);

}  // namespace smoes::moe
