// Decoding with the KV cache: greedy, beam search, and log-likelihood scoring
// of multiple-choice continuations.
#pragma once
#include <cstdint>
#include <vector>

#include "model/vlm.h"

namespace smoes::model {

// Greedy decoding of a left-padded prompt batch; returns each row's new
// tokens, cut after `eos_id` (not included).
std::vector<std::vector<int64_t>> greedy_generate(MoEVLM& model, const VLMInput& prompts, int max_new_tokens,
                                                  int64_t eos_id);

// Beam search for one prompt (batch 1). Scores are summed log-probabilities
// divided by length^length_penalty (finished beams only compete on that).
std::vector<int64_t> beam_search(MoEVLM& model, const VLMInput& prompt, int beams, int max_new_tokens,
                                 int64_t eos_id, double length_penalty = 1.0);

// Sum of log p(choice tokens | prompt) for each choice (batch-1 prompt).
// The prompt runs once; its cache is shared by all choices.
std::vector<double> score_choices(MoEVLM& model, const VLMInput& prompt,
                                  const std::vector<std::vector<int64_t>>& choices);

}  // namespace smoes::model
