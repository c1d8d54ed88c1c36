// Expert parallelism on a whole model: every MoE layer's experts placed on
// the ranks (by the router's bins when it has them, SMoES: a bin stays on one
// rank; else index order) and its dispatch hook set, so training and
// inference run their experts on the owning rank. `smoes train --nproc N
// --expert-parallel` uses it.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "dist/group.h"
#include "expert_parallel/dispatch.h"
#include "model/vlm.h"

namespace smoes::expert_parallel {

struct Installed {
  std::vector<int> layers;  // decoder layer of each MoE layer
  std::vector<std::vector<int64_t>> placement;
  std::vector<std::shared_ptr<ExpertParallel>> dispatch;
  // Traffic summed over the ranks (a collective: every rank calls it):
  // per layer and in all, the rows and bytes sent to other ranks for
  // dispatch and combine, and bytes per routed token.
  nlohmann::json traffic(dist::Group& group) const;
};

// Throws naming the layer when the ranks do not divide its experts.
std::shared_ptr<Installed> install(model::MoEVLM& model, dist::Group& group);

}  // namespace smoes::expert_parallel
