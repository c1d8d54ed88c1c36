// Expert parallelism for one MoE layer: every expert lives on one rank
// (analysis::expert_placement: a SMoES bin stays on one rank, else index
// order), each routed slot's token row is sent to its expert's rank with an
// all-to-all (c10d alltoall_base with split sizes), processed there, sent
// back and combined with its routing weight. Both all-to-alls are autograd
// functions whose backward is the reverse all-to-all, so gradients flow to
// the tokens, the routing weights and the owning rank's expert weights.
//
// Every rank keeps all weights (the expert weights' gradients are summed
// across ranks with the data-parallel allreduce); only the owner computes an
// expert, and the token traffic is the real one.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "dist/group.h"
#include "moe/experts.h"

namespace smoes::expert_parallel {

// Rows (tokens) and bytes this rank sent to other ranks, summed over calls.
struct Traffic {
  int64_t dispatch_rows = 0, combine_rows = 0, local_rows = 0;
  int64_t dispatch_bytes = 0, combine_bytes = 0;
  int64_t slots = 0;  // routed slots of this rank's tokens
};

class ExpertParallel {
 public:
  // device_of[e]: the rank of expert e.
  ExpertParallel(dist::Group& group, std::vector<int64_t> device_of);
  // y[t] = sum_j weights[t, j] * expert_{indices[t, j]}(x[t]) for this rank's
  // tokens x [T, d]; indices, weights [T, k].
  torch::Tensor forward(moe::GroupedExpertsImpl& experts, const torch::Tensor& x, const torch::Tensor& indices,
                        const torch::Tensor& weights);
  Traffic traffic;
  int64_t top_k() const { return top_k_; }

 private:
  int64_t top_k_ = 1;
  dist::Group& group_;
  torch::Tensor device_of_;
};

}  // namespace smoes::expert_parallel
