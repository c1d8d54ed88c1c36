// Analytic FLOP count of one forward pass (2 FLOPs per multiply-add), from
// the config: what the throughput benchmark divides by time. Training costs
// ~3x forward (backward = 2x). Counts matmuls only; elementwise ops are noise.
#pragma once
#include <cstdint>

#include "core/config.h"

namespace smoes::model {

struct FlopCount {
  double decoder = 0;  // attention projections + attention scores + FFNs (+ router)
  double lm_head = 0;
  double vision = 0;   // ViT + projector
  double total() const { return decoder + lm_head + vision; }
};

// One sequence of `seq_len` tokens containing `images` images.
FlopCount forward_flops(const Config& cfg, int64_t vocab, int64_t seq_len, int64_t images);

}  // namespace smoes::model
