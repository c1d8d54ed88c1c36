// Decoding speed of a model config (`smoes bench decode`): prefill tokens/s
// and KV-cached greedy decode tokens/s of a random-weight model on synthetic
// prompts (one image each), both measured through model::greedy_generate,
// the path eval decodes with. bench/peers/mixtral_peer.py measures the same
// two numbers the same way for scripts/peer_bench.sh.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"

namespace smoes::model {

struct DecodeBenchResult {
  int64_t batch = 0, prompt_tokens = 0, new_tokens = 0;
  int64_t generated_tokens = 0;  // tokens the timed greedy runs returned, over all rows (= batch x new_tokens)
  int threads = 0;
  // Medians over the repeats. prefill: greedy_generate of one new token (the
  // prompt's forward and its argmax). generate: of `new_tokens`. decode: the
  // per-repeat difference, i.e. the new_tokens - 1 cached one-token forwards.
  double prefill_ms = 0, generate_ms = 0, decode_ms = 0;
  double prefill_tokens_per_s = 0;  // batch x prompt_tokens / prefill
  double decode_tokens_per_s = 0;   // batch x (new_tokens - 1) / decode
  nlohmann::json to_json() const;
};

// Times `repeats` pairs (prefill alone, then the whole generation) after one
// warm-up generation. Every row runs all new_tokens steps (no EOS token).
// prompt_tokens counts the image's visual tokens; it must exceed them, and
// prompt_tokens + new_tokens must fit model.max_seq_len. profile_path: if
// set, one more generation runs under LibTorch's profiler and its Chrome
// trace (every ATen call with its duration; chrome://tracing or Perfetto) is
// written there, atomically: where a decode step's time goes.
DecodeBenchResult bench_decode(const Config& cfg, int64_t vocab, int64_t batch, int64_t prompt_tokens,
                               int64_t new_tokens, int repeats, const std::string& profile_path = "");

}  // namespace smoes::model
