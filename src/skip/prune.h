// NAEE expert pruning (METHOD.md section 4): per MoE layer, keep the r
// experts whose routed output on calibration tokens stays closest to the
// full layer's, min ||F_S(x) - F(x)||^2 over subsets S of size r, where F_S
// routes by the same gate restricted to S (softmax and top-k over S's
// logits, as the pruned router will). Every subset is scored when C(E, r) is
// at most a limit, else greedy removal (drop the expert whose loss hurts
// least, one at a time). The pruned model has r experts in those layers
// (moe.layer_experts) and its router keeps only their rows.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/vlm.h"
#include "tasks/batch.h"

namespace smoes::skip {

struct PruneOptions {
  int keep = 0;                    // r experts kept per MoE layer
  double exact_limit = 5000;       // enumerate every subset when C(E, r) is at most this
  int64_t tokens = 4096;           // calibration tokens scored per subset (evenly spaced over the set)
};

struct LayerPrune {
  int layer = 0;                   // decoder layer
  std::vector<int64_t> kept;       // expert ids of the original layer, ascending
  double error = 0;                // ||F_S - F||^2 / ||F||^2 on the scored tokens
  std::string search;              // "exact" or "greedy"
  int64_t subsets = 0;             // subsets scored
};

// Throws for r >= E, r < top_k, a model without MoE layers, and routers
// whose selection is not a softmax top-k over the gate's logits.
std::vector<LayerPrune> choose_experts(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches,
                                       const PruneOptions& o);

// The reference search for one layer: relative error of keeping `subset`.
// y: [E, T, d] every expert's output, logits [T, E], full [T, d] the full routed output.
double subset_error(const torch::Tensor& y, const torch::Tensor& logits, const torch::Tensor& full,
                    const std::vector<int64_t>& subset, int64_t top_k, bool renormalize);

// A new model with only the kept experts (moe.layer_experts set, router rows
// and per-expert router state selected, SMoES bins recomputed), equal to the
// original on everything else.
model::MoEVLM pruned_model(model::MoEVLMImpl& model, const std::vector<LayerPrune>& layers);

nlohmann::json prune_json(const std::vector<LayerPrune>& layers);

}  // namespace smoes::skip
