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

// Writes {"layer", "pos", "modality", "experts", "weights"} per token, one JSON per line.
class RoutingTraceWriter {
 public:
  explicit RoutingTraceWriter(const std::string& path);
  // positions [T] (token position in its sequence), modality [T], indices/weights [T, k].
  void write(int layer, const at::Tensor& positions, const at::Tensor& modality, const at::Tensor& indices,
             const at::Tensor& weights);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace smoes::moe
