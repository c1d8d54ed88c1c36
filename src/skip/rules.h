// The skipping rules of METHOD.md section 4 as moe::SkipRule (which routed
// slots of a layer run), and their installation on a model. A skipped
// slot's weight is not given to the others: the token's output is what its
// executed experts (and any shared expert) make, as in both papers.
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/vlm.h"
#include "moe/moe_layer.h"

namespace smoes::skip {

// NAEE dynamic skipping: a selected expert is skipped when w_i < beta * w_1,
// w_1 the token's largest weight; that first choice always runs.
moe::SkipRule naee_rule(double beta);

// MoDES: slot (token, expert e) runs when alpha * pi_e >= the threshold of
// the token's modality (pi: the router's probability of e). The
// modality-blind baseline is the same rule with one threshold for both.
moe::SkipRule threshold_rule(double alpha, double tau_text, double tau_vision);

// Top-p / adaptive-k routing (Huang et al. 2024, "Harder tasks need more
// experts"): a token's selected experts run in order of router probability
// until their probabilities sum to p; a slot is skipped when the slots ranked
// above it already hold at least p. The first choice always runs.
moe::SkipRule top_p_rule(double p);

// Each slot skipped with probability `ratio` (seeded, reproducible).
moe::SkipRule random_rule(double ratio, uint64_t seed);

// Routed and skipped slots per modality (0 text, 1 vision), counted as the rules run.
struct SkipCounts {
  std::array<int64_t, 2> slots{}, skipped{};
  double ratio(int modality = -1) const;
};

// Installs one rule per MoE layer (in model order; an empty rule = none)
// for the life of this object, each counting into `counts` (may be null);
// the layers' previous rules come back after.
class InstallRules {
 public:
  InstallRules(model::MoEVLMImpl& model, std::vector<moe::SkipRule> rules, std::shared_ptr<SkipCounts> counts);
  ~InstallRules();
  InstallRules(const InstallRules&) = delete;
  InstallRules& operator=(const InstallRules&) = delete;

 private:
  std::vector<moe::MoELayerImpl*> layers_;
  std::vector<moe::SkipRule> previous_;
};

// The model's MoE layers, in order.
std::vector<moe::MoELayerImpl*> moe_layers(model::MoEVLMImpl& model);

}  // namespace smoes::skip
