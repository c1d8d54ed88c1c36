// The router's selection step as one fused op: softmax over each token's
// router logits (experts where `allowed` is false get probability 0), the k
// most probable experts and their combine weights (renormalised to sum to 1
// if asked). One pass per token forward and backward, where the unfused
// composition is ~8 small ATen ops each way (masked_fill, softmax, topk,
// sum, div and their backwards), which cost more than their arithmetic at
// small T (docs/PERFORMANCE.md).
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

struct SoftmaxTopK {
  torch::Tensor probs;    // [T, E] full routing distribution (differentiable)
  torch::Tensor weights;  // [T, k] combine weights (differentiable)
  torch::Tensor indices;  // [T, k] int64, most probable first; ties go to the lower expert id
};

// logits [T, E] floating; allowed: undefined or [T, E] bool with at least k
// true per row (the routers validate their partitions).
SoftmaxTopK softmax_topk(const torch::Tensor& logits, const torch::Tensor& allowed, int64_t k, bool renormalize);

}  // namespace smoes::moe
