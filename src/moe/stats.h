// Routing-health statistics of one MoE layer, accumulated cheaply over
// batches (bincounts of the decisions already made): slots per expert split
// by modality, gate entropy, dropped %, unused experts, co-activation; and
// the optional JSONL routing trace (one line per token) for later analysis.
#pragma once
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace smoes::moe {

class RoutingStats {
 public:
  explicit RoutingStats(int64_t num_experts);
  // indices [T, k], probs [T, E], modality [T] (0 text, 1 vision).
  void add(const at::Tensor& indices, const at::Tensor& probs, const at::Tensor& modality, int64_t dropped_slots,
           int64_t total_slots);
  nlohmann::json to_json(bool with_coactivation = true) const;
  void reset();

  int64_t num_experts;
  std::vector<int64_t> text_load, vision_load;  // slots routed to each expert, by the token's modality
  std::vector<int64_t> coactivation;            // [E * E]: tokens that chose both i and j (i != j)
  double entropy_sum = 0;                       // sum over tokens of the routing entropy (nats)
  int64_t text_tokens = 0, vision_tokens = 0, dropped_slots = 0, total_slots = 0;
};

// Where the routed tokens of one forward come from, one entry per routed
// token in routed order; empty vectors (and an empty phase) are left out of
// the lines.
struct TraceTokens {
  std::string phase;                // "prefill" or "decode"
  std::vector<int64_t> example;     // example index
  std::vector<int64_t> positions;   // position in its sequence
  std::vector<int64_t> token_ids;
  std::vector<int64_t> modality;    // 0 text, 1 vision
};

// One JSON line per routed token and layer: {"example", "phase", "layer",
// "pos", "token", "modality", "experts", "weights", "soft" (text, vision)}.
// Lines go to a temp file that commit() renames to `path`, so a reader never
// sees a half-written trace; without commit() the temp file is removed.
class RoutingTraceWriter {
 public:
  explicit RoutingTraceWriter(const std::string& path);
  ~RoutingTraceWriter();
  RoutingTraceWriter(const RoutingTraceWriter&) = delete;
  RoutingTraceWriter& operator=(const RoutingTraceWriter&) = delete;
  // indices/weights [T, k]; soft_modality [T, 2] or undefined.
  void write(int layer, const TraceTokens& tokens, const at::Tensor& indices, const at::Tensor& weights,
             const at::Tensor& soft_modality);
  void commit();

 private:
  std::string path_, temp_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace smoes::moe
