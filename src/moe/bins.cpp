#include "moe/bins.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace smoes::moe {

int64_t expert_capacity(double capacity_factor, int64_t tokens, int64_t top_k, int64_t num_experts) {
  if (capacity_factor <= 0) return 0;
  return static_cast<int64_t>(std::ceil(capacity_factor * double(tokens * top_k) / double(num_experts)));
}

// A counting sort in one pass over the slots, in priority order (all first
// choices in token order, then all second choices, ...): it visits slots
// already sorted by (rank, token) within each expert, so placing each at its
// expert's next free row gives the order (expert, rank, token) and keeps the
// first `capacity` of each expert, without a sort or a dozen small ATen ops.
ExpertBins bin_by_expert(const torch::Tensor& indices, int64_t num_experts, int64_t capacity,
                         const torch::Tensor& keep) {
  const int64_t t = indices.size(0), k = indices.size(1), n = t * k;
  auto ids = indices.to(torch::kLong).contiguous();
  const int64_t* id = ids.data_ptr<int64_t>();
  if (keep.defined() && (keep.sizes() != indices.sizes() || keep.scalar_type() != torch::kBool))
    throw Error("expert bins: keep mask " + c10::str(keep.sizes()) + " must be bool shaped like the indices " +
                c10::str(indices.sizes()));
  auto keep_c = keep.defined() ? keep.contiguous() : keep;
  const bool* kept_slot = keep.defined() ? keep_c.data_ptr<bool>() : nullptr;
  ExpertBins bins;
  bins.total_slots = n;
  std::vector<int64_t> all(num_experts, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (id[i] < 0 || id[i] >= num_experts)
      throw Error("expert bins: expert id " + std::to_string(id[i]) + " outside [0, " + std::to_string(num_experts) + ")");
    if (kept_slot && !kept_slot[i]) {
      ++bins.skipped;
      continue;
    }
    ++all[id[i]];
  }
  bins.counts.resize(num_experts);
  bins.offsets.resize(num_experts);
  int64_t kept = 0;
  for (int64_t e = 0; e < num_experts; ++e) {
    bins.counts[e] = capacity > 0 ? std::min(all[e], capacity) : all[e];
    bins.offsets[e] = kept;
    kept += bins.counts[e];
    bins.dropped += all[e] - bins.counts[e];
  }
  bins.slot = torch::empty({kept}, torch::kLong);
  bins.token = torch::empty({kept}, torch::kLong);
  bins.position = torch::full({t, k}, -1, torch::kLong);
  int64_t *slot = bins.slot.data_ptr<int64_t>(), *token = bins.token.data_ptr<int64_t>(),
          *position = bins.position.data_ptr<int64_t>();
  std::vector<int64_t> next = bins.offsets, placed(num_experts, 0);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t tok = 0; tok < t; ++tok) {
      const int64_t s = tok * k + r, e = id[s];
      if (kept_slot && !kept_slot[s]) continue;  // skipped: no row, no capacity
      if (placed[e]++ >= bins.counts[e]) continue;  // over capacity: dropped
      const int64_t row = next[e]++;
      slot[row] = s, token[row] = tok, position[s] = row;
    }
  return bins;
}

}  // namespace smoes::moe
