// Starting a run from another run's weights (`train.init_from`): the next
// stage of a recipe (LM pretraining -> alignment -> fine-tuning), or
// upcycling a dense model into an MoE one (MoE-LLaVA): every expert of an MoE
// layer starts as a copy of that layer's dense FFN (+ moe.upcycle_noise).
#pragma once
#include <string>

#include "core/config.h"
#include "model/vlm.h"

namespace smoes::train {

// A checkpoint file, or a run directory (its checkpoints/latest).
std::string resolve_checkpoint(const std::string& file_or_run_dir);

// Loads weights only (no optimizer, no RNG). Same architecture: every tensor.
// Dense source into an MoE model: the shared tensors, then upcycled experts;
// routers keep their fresh initialisation. A source that differs only in the
// router section (e.g. topk -> smoes): every tensor of the same name and
// shape, and new router state (SMoES Gaussians, loads, bins) starts fresh.
// Any other difference is an error naming the fields.
void init_from(const std::string& file_or_run_dir, model::MoEVLM& model, const Config& cfg);

}  // namespace smoes::train
