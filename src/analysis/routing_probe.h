// `smoes analyze routing`: which experts serve image tokens and which serve
// text, measured on a trained run. Each example's prompt (image + prompt
// text) runs as prefill with a KV cache, then greedy decoding feeds the
// answer one token at a time; every forward's routing feeds the counts of
// analysis/routing_metrics.h (docs/analysis.md defines each number).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"

namespace smoes::analysis {

struct RoutingProbeOptions {
  std::string split = "val";
  int examples = 100;  // per task: the split's first N
  int batch_size = 8;  // left-padded prompts (padding is never routed)
  int max_text_len = 40;
  int new_tokens = 0;  // decode length; 0 = by task kind, as eval (captions 24, boxes 6, answers 8)
  std::vector<int> devices = {2, 4, 8};
  int bytes_per_element = 2;  // bf16 activations
  std::string trace;          // JSONL routing trace, empty = none
  // Only this rank's contiguous share of each task's examples (expert-parallel
  // measurement: every rank runs as many forwards; the count must divide).
  int shard = 0, shards = 1;
};

// The `expert_bin` buffer ([E] int64) of each MoE layer's router, by layer;
// empty unless every MoE layer's router has one (SMoES).
std::map<int, std::vector<int64_t>> router_bins(model::MoEVLM& model);

// Every number of docs/analysis.md as JSON. Throws smoes::Error naming
// --devices when a device count does not divide the experts, before any forward.
nlohmann::json probe_routing(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                             const std::string& root, const std::vector<std::string>& tasks,
                             const RoutingProbeOptions& o);

}  // namespace smoes::analysis
