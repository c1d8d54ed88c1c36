// Routed SwiGLU experts stored stacked, w13 [E, d, 2*ffn] (gate and up
// projections fused) and w2 [E, ffn, d], run as one grouped computation:
// dispatch (gather rows by expert), experts, gate-weighted combine, fused into
// one autograd Function with a hand-written backward (see experts.cpp for why).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "moe/bins.h"
#include "moe/swiglu.h"

namespace smoes::moe {

struct GroupedExpertsImpl : torch::nn::Module {
  GroupedExpertsImpl(int64_t num_experts, int64_t d_model, int64_t ffn_hidden);
  // x: [T, d] tokens; bins: their slots sorted by expert; gate: [N] combine
  // weight of each sorted slot. Returns [T, d]: y[t] = sum over t's kept slots
  // of gate * expert(x[t]).
  torch::Tensor forward(const torch::Tensor& x, const ExpertBins& bins, const torch::Tensor& gate);
  // Expert e alone on x [n, d] (reference path for tests and expert analysis).
  torch::Tensor expert(int64_t e, const torch::Tensor& x) const;
  // Upcycling: every expert becomes a copy of `dense` (+ N(0, noise^2)).
  void upcycle_from(const SwiGLU& dense, double noise);

  int64_t num_experts, d_model, ffn_hidden;
  // When w13/w2 already hold a .grad, backward adds into it in place and hands
  // autograd no weight gradient (Megatron-Core's gradient-accumulation
  // fusion). Turn off to take weight gradients with torch::autograd::grad
  // while .grad is set.
  bool fuse_grad_accumulation = true;
  torch::Tensor w13, w2;
};
TORCH_MODULE(GroupedExperts);

}  // namespace smoes::moe
