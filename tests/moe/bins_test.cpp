#include "moe/bins.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

using smoes::moe::bin_by_expert;

namespace {

// Reference: list every slot as (expert, rank, token), sort, apply capacity per expert.
std::vector<std::tuple<int64_t, int64_t, int64_t>> naive_order(const torch::Tensor& idx, int64_t capacity) {
  std::vector<std::tuple<int64_t, int64_t, int64_t>> slots;
  for (int64_t t = 0; t < idx.size(0); ++t)
    for (int64_t r = 0; r < idx.size(1); ++r) slots.emplace_back(idx[t][r].item<int64_t>(), r, t);
  std::sort(slots.begin(), slots.end());
  if (capacity == 0) return slots;
  std::vector<std::tuple<int64_t, int64_t, int64_t>> kept;
  std::map<int64_t, int64_t> used;
  for (auto& s : slots)
    if (used[std::get<0>(s)]++ < capacity) kept.push_back(s);
  return kept;
}

}  // namespace

TEST(Bins, SortedOrderCountsAndOffsetsMatchNaive) {
  torch::manual_seed(0);
  for (int64_t capacity : {0, 1, 3}) {
    auto idx = torch::randint(0, 5, {11, 2}, torch::kLong);
    auto bins = bin_by_expert(idx, 5, capacity);
    auto expected = naive_order(idx, capacity);
    ASSERT_EQ(bins.slot.size(0), int64_t(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      auto [e, r, t] = expected[i];
      EXPECT_EQ(bins.slot[i].item<int64_t>(), t * 2 + r);
      EXPECT_EQ(bins.token[i].item<int64_t>(), t);
      EXPECT_EQ(bins.position[t][r].item<int64_t>(), int64_t(i));
    }
    EXPECT_EQ(bins.position.lt(0).sum().item<int64_t>(), bins.dropped);
    int64_t total = 0;
    for (int64_t e = 0; e < 5; ++e) {
      EXPECT_EQ(bins.offsets[e], total);
      total += bins.counts[e];
    }
    EXPECT_EQ(total + bins.dropped, 22);
  }
}

TEST(Bins, CapacityDropsSecondChoicesFirst) {
  // Every token picks expert 0 first and expert 1 second; expert 0 also gets
  // token 2's second choice. Capacity 2: expert 0 keeps tokens 0 and 1's first choices.
  auto idx = torch::tensor({0, 1, 0, 1, 1, 0}, torch::kLong).view({3, 2});
  auto bins = bin_by_expert(idx, 2, 2);
  EXPECT_EQ(bins.counts, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(bins.dropped, 2);
  // expert 0: token 0 rank 0 (slot 0), token 1 rank 0 (slot 2); token 2's rank-1 slot 5 dropped.
  EXPECT_EQ(bins.slot[0].item<int64_t>(), 0);
  EXPECT_EQ(bins.slot[1].item<int64_t>(), 2);
  // expert 1: token 2 rank 0 (slot 4) first, then token 0 rank 1 (slot 1); token 1 rank 1 dropped.
  EXPECT_EQ(bins.slot[2].item<int64_t>(), 4);
  EXPECT_EQ(bins.slot[3].item<int64_t>(), 1);
  EXPECT_EQ(smoes::moe::expert_capacity(1.5, 3, 2, 2), 5);
  EXPECT_EQ(smoes::moe::expert_capacity(0, 3, 2, 2), 0);
}

TEST(Bins, ExpertIdOutsideTheLayerIsAnError) {
  auto idx = torch::tensor({0, 3}, torch::kLong).view({1, 2});
  EXPECT_THROW(bin_by_expert(idx, 3), smoes::Error);
  EXPECT_NO_THROW(bin_by_expert(idx, 4));
}

TEST(Bins, SkippedSlotsTakeNoRowAndNoCapacity) {
  // Expert 0 gets three first choices; skipping token 0's frees capacity 2
  // for tokens 1 and 2, and the skipped slot is neither kept nor dropped.
  auto idx = torch::tensor({0, 1, 0, 1, 0, 1}, torch::kLong).view({3, 2});
  auto keep = torch::tensor({false, true, true, false, true, true}).view({3, 2});
  auto bins = bin_by_expert(idx, 2, 2, keep);
  EXPECT_EQ(bins.skipped, 2);
  EXPECT_EQ(bins.dropped, 0);
  EXPECT_EQ(bins.counts, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(bins.position[0][0].item<int64_t>(), -1);
  EXPECT_EQ(bins.position[1][1].item<int64_t>(), -1);
  EXPECT_EQ(bins.slot[0].item<int64_t>(), 2);  // token 1 rank 0
  EXPECT_EQ(bins.slot[1].item<int64_t>(), 4);  // token 2 rank 0
  // Without a capacity, skipping == binning only the kept slots.
  torch::manual_seed(3);
  auto ids = torch::randint(0, 4, {9, 3}, torch::kLong);
  auto mask = torch::rand({9, 3}).lt(0.5);
  auto skipped = bin_by_expert(ids, 4, 0, mask);
  EXPECT_EQ(skipped.skipped, (~mask).sum().item<int64_t>());
  EXPECT_TRUE(torch::equal(skipped.position.ge(0), mask));
  EXPECT_THROW(bin_by_expert(ids, 4, 0, mask.to(torch::kLong)), smoes::Error);
}
