// Real expert-parallel traffic of a trained model, beside `analyze routing`'s
// simulation on the same checkpoint and data (docs/analysis.md, "Measured
// traffic"). A collective: every rank calls it. Each rank runs the prefill of
// its contiguous share of every task's first N examples, with the experts
// placed as `install` places them (SMoES: by bin), so the all-to-alls carry
// the real rows; then rank 0 runs all N without expert parallelism for the
// probe's simulated traffic at D = ranks, where each modality's tokens sit on
// their home device.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/routing_probe.h"
#include "dist/group.h"

namespace smoes::expert_parallel {

// On rank 0: {"ranks", "real" (Installed::traffic), "simulated" (the probe's
// expert_parallel block for D = ranks), "layers": per MoE layer the remote
// expert slots per routed token, real and simulated}. Other ranks: null.
nlohmann::json measure_traffic(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                               const std::string& root, const std::vector<std::string>& tasks,
                               analysis::RoutingProbeOptions o, dist::Group& group);

}  // namespace smoes::expert_parallel
