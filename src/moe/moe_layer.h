// The MoE layer: router -> bin by expert -> grouped experts -> weighted
// combine (+ shared always-on experts). Usable on its own:
//   smoes::moe::MoELayer layer(cfg.moe, cfg.router, d_model, "layer3.moe");
//   auto out = layer->forward(x, modality);   // out.y, out.aux_loss, out.losses
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

#include "core/config.h"
#include "moe/swiglu.h"
#include "moe/experts.h"
#include "moe/router.h"

namespace smoes::moe {

// Inference-time expert skipping (skip/ builds the rules): given a layer's
// routing decision and its tokens' hard modality labels, which routed slots
// run ([T, k] bool). Skipped slots leave the dispatch, so they cost nothing.
using SkipRule = std::function<torch::Tensor(const RoutingDecision&, const torch::Tensor& modality)>;

struct MoEOutput {
  torch::Tensor y;                              // same shape as the input
  torch::Tensor aux_loss;                       // coefficient-weighted sum of `losses`
  std::map<std::string, torch::Tensor> losses;  // unweighted: balance, z (and smar)
  RoutingDecision decision;                     // over the routed tokens (the valid ones, in order)
  torch::Tensor modality;                       // [T_routed] hard label of each routed token
  torch::Tensor soft_modality;                  // [T_routed, 2] (text, vision) score the router used (smoes), else undefined
  torch::Tensor executed;                       // [T_routed, k] bool: slots that ran (not dropped, not skipped)
  int64_t dropped_slots = 0, skipped_slots = 0, total_slots = 0;
};

struct MoELayerImpl : torch::nn::Module {
  MoELayerImpl(const MoEConfig& moe, const RouterConfig& router, int64_t d_model, std::string name);
  // x: [T, d] or [B, S, d]; modality: [T] or [B, S] int64 in {0, 1};
  // soft_modality: optional [.., 2] for modality-aware routers; valid:
  // optional [T] or [B, S] bool (undefined = all). Padding (valid false) never
  // reaches the router: it is left out of routing, statistics and every
  // auxiliary loss, and its output is zero. want_losses false: no router
  // losses and an aux_loss of 0 (generation reads none).
  MoEOutput forward(const torch::Tensor& x, const torch::Tensor& modality, const torch::Tensor& soft_modality = {},
                    const torch::Tensor& valid = {}, bool want_losses = true);

  // Takes the inference-time fields of `moe` (top_k, capacity_factor);
  // throws naming the layer if its router cannot route that top_k.
  void set_inference_config(const MoEConfig& moe);

  MoEConfig cfg;
  RouterConfig router_cfg;
  std::string name;
  std::shared_ptr<RouterImpl> router;
  GroupedExperts experts{nullptr};
  SwiGLU shared{nullptr};  // the shared experts fused into one SwiGLU (sum of S experts == one S*ffn wide)
  SkipRule skip;           // empty = every routed slot runs
  // Expert parallelism (src/expert_parallel/): when set, the routed tokens
  // [T_routed, d] go to their experts through this instead of the local
  // grouped computation; it returns sum_j weights[t, j] * expert(x[t]).
  std::function<torch::Tensor(GroupedExpertsImpl& experts, const torch::Tensor& x, const torch::Tensor& indices,
                              const torch::Tensor& weights)>
      dispatch;
  // Inference tools (NAEE pruning) read the routed tokens [T_routed, d] and their decision here.
  std::function<void(const torch::Tensor& routed, const RoutingDecision& decision)> observe;
  double forward_seconds = 0;  // wall time spent in forward() (smoes skip times the MoE layers with it)

 private:
  void check_inputs(const torch::Tensor& x, const torch::Tensor& modality) const;
  void check_logits(const torch::Tensor& logits) const;
};
TORCH_MODULE(MoELayer);

}  // namespace smoes::moe
