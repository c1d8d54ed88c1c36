// What flows between the parts of an MoE layer: the router's input and its
// decision (which experts, with which weights, from which probabilities),
// and its auxiliary losses.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

namespace smoes::moe {

struct RouterInput {
  torch::Tensor hidden;         // [T, d]
  torch::Tensor modality;       // [T] int64: 0 text, 1 vision
  torch::Tensor soft_modality;  // [T, 2] soft (text, vision) score, optional (SMoES)
  // False where nothing will read the losses (generation), so a decode step
  // does not compute a dozen small tensors per layer.
  bool want_losses = true;
};

struct RoutingDecision {
  torch::Tensor indices;  // [T, k] int64 expert ids
  torch::Tensor weights;  // [T, k] combine weights
  torch::Tensor probs;    // [T, E] full routing distribution
  torch::Tensor logits;   // [T, E]
};

struct RouterOutput {
  RoutingDecision decision;
  std::map<std::string, torch::Tensor> losses;  // unweighted auxiliary losses, by name
  torch::Tensor soft_modality;                  // [T, 2] the (text, vision) score smoes used; else undefined
};

}  // namespace smoes::moe
