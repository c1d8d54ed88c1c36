// Each skipping method of `smoes skip` turned into what runs: a rule per
// MoE layer (or a smaller top-k) chosen on the calibration to skip a target
// share of the routed slots.
//   modes            MoDES: s = alpha(l) * pi against a text and a vision
//                    threshold, the pair found by frontier search on the
//                    calibration KL (skip/frontier.h)
//   blind-threshold  the same importance against one threshold for both modalities
//   naee-skip        NAEE dynamic skipping, w_i < gamma * beta(l) * w_1; gamma = 1
//                    is the paper's rule (--ratio 0), else gamma reaches the ratio
//                    as far as sparing the first choice allows ((k-1)/k at most)
//   top-p            top-p / adaptive-k routing: a token's experts run in order
//                    of router probability until they hold p; p from the ratio
//   random           every slot skipped with probability ratio
//   top1             top-k reduced to 1 (skips (k-1)/k of the slots)
//   naee-prune       NAEE expert pruning (skip/prune.h): a smaller model, not a rule;
//                    run_skip handles it, plan_method refuses it
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "moe/moe_layer.h"
#include "skip/calibration.h"

namespace smoes::skip {

const std::vector<std::string>& skip_methods();
// Whether the method reads a calibration.
bool needs_calibration(const std::string& method);

struct Plan {
  std::vector<moe::SkipRule> rules;  // one per MoE layer (empty rule: all slots run)
  int top_k = 0;                     // > 0: run with this top-k instead
  double expected_ratio = 0;         // the skip ratio the calibration predicts
  nlohmann::json params;             // thresholds / gamma / seed, for the report
};

// What calibrate() measured is enough for all but MoDES, whose frontier
// search evaluates the KL of candidate pairs on `batches` against
// `reference` (and remembers the answer in calibration.searched).
struct PlanInputs {
  model::MoEVLMImpl* model = nullptr;
  const std::vector<tasks::Batch>* batches = nullptr;  // may be null when MoDES's answer is remembered
  const std::vector<torch::Tensor>* reference = nullptr;
  int candidates = 32;  // thresholds per modality for the frontier search
  uint64_t seed = 1;
};

// Throws naming the method for an unknown one, a ratio outside [0, 1), and
// MoDES on a calibration without text or vision slots.
Plan plan_method(const std::string& method, double ratio, Calibration& calibration, const PlanInputs& in);

// Whether MoDES's thresholds for `ratio` are already in calibration.searched.
bool modes_remembered(const Calibration& calibration, double ratio);

// Read from the quantiles: the share of values below `threshold`.
double share_below(const std::vector<double>& quantiles, double threshold);

}  // namespace smoes::skip
