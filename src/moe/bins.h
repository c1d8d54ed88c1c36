// Index bookkeeping of dropless (or capacity-limited) dispatch, kept apart
// and tested on its own like MegaBlocks' indices_and_bins: which token-slot
// goes where once slots are sorted by expert.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace smoes::moe {

struct ExpertBins {
  torch::Tensor slot;            // [N] flat slot ids (token * k + rank) of kept slots, sorted by expert
  torch::Tensor token;           // [N] token of each sorted slot
  torch::Tensor position;        // [T, k] where slot (token, rank) sits in the sorted order, -1 if dropped or skipped
  std::vector<int64_t> counts;   // kept slots per expert (host; the one sync dispatch needs)
  std::vector<int64_t> offsets;  // start of each expert's rows in the sorted order
  int64_t dropped = 0;           // slots over capacity
  int64_t skipped = 0;           // slots left out by `keep` (inference-time expert skipping)
  int64_t total_slots = 0;       // T * k
};

// `indices` [T, k] expert ids. capacity 0 = dropless. With a capacity,
// each expert keeps its first `capacity` slots in priority order: all first
// choices before second choices, then token order (GShard). keep: optional
// [T, k] bool; a slot with keep false is skipped: it takes no row, no
// capacity and no expert work (its position is -1, like a dropped slot).
ExpertBins bin_by_expert(const torch::Tensor& indices, int64_t num_experts, int64_t capacity = 0,
                         const torch::Tensor& keep = {});

// Slots per expert for a capacity factor: ceil(factor * T * k / E).
int64_t expert_capacity(double capacity_factor, int64_t tokens, int64_t top_k, int64_t num_experts);

}  // namespace smoes::moe
