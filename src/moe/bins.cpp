#include "moe/bins.h"

#include <cmath>

namespace smoes::moe {

int64_t expert_capacity(double capacity_factor, int64_t tokens, int64_t top_k, int64_t num_experts) {
  if (capacity_factor <= 0) return 0;
  return static_cast<int64_t>(std::ceil(capacity_factor * double(tokens * top_k) / double(num_experts)));
}

ExpertBins bin_by_expert(const torch::Tensor& indices, int64_t num_experts, int64_t capacity) {
  const int64_t t = indices.size(0), k = indices.size(1), n = t * k;
  ExpertBins bins;
  bins.total_slots = n;
  // Sort key (expert, rank, token): unique per slot, so the order is fully determined.
  auto slot_ids = torch::arange(n, torch::kLong);
  auto rank = slot_ids.remainder(k), token = slot_ids.div(k, "floor");
  auto expert = indices.reshape(-1);
  auto key = expert * n + rank * t + token;
  auto order = std::get<1>(key.sort());
  auto counts = torch::bincount(expert, {}, num_experts);
  auto counts_acc = counts.accessor<int64_t, 1>();

  std::vector<int64_t> all(num_experts);
  for (int64_t e = 0; e < num_experts; ++e) all[e] = counts_acc[e];
  if (capacity > 0) {
    // Keep the first `capacity` rows of each expert's block.
    auto keep = torch::zeros({n}, torch::kBool);
    int64_t start = 0;
    for (int64_t e = 0; e < num_experts; ++e) {
      keep.narrow(0, start, std::min(all[e], capacity)).fill_(true);
      start += all[e];
    }
    order = order.masked_select(keep);
  }
  bins.counts.resize(num_experts);
  bins.offsets.resize(num_experts);
  int64_t offset = 0;
  for (int64_t e = 0; e < num_experts; ++e) {
    bins.counts[e] = capacity > 0 ? std::min(all[e], capacity) : all[e];
    bins.offsets[e] = offset;
    offset += bins.counts[e];
    bins.dropped += all[e] - bins.counts[e];
  }
  bins.slot = order;
  bins.token = order.div(k, "floor");
  // The inverse of `slot`, so combine can gather each token's k rows instead of scattering.
  bins.position = torch::full({n}, -1, torch::kLong).index_put_({order}, torch::arange(order.size(0))).view({t, k});
  return bins;
}

}  // namespace smoes::moe
