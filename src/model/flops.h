// Analytic FLOP count of one forward pass (2 FLOPs per multiply-add), from
// the config: what the throughput benchmark divides by time. Training costs
// ~3x forward (backward = 2x). Counts matmuls only; elementwise ops are noise.
#pragma once
#include <nlohmann/json_fwd.hpp>

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

// ViT + projector FLOPs of one image.
double vision_flops_per_image(const ModelConfig& m);

// FLOPs actually executed, tallied while the model runs (set
// MoEVLMImpl::flop_meter): by phase (prefill = a forward with an empty
// cache, decode = one that extends a cached past), by the modality of the
// token that did the work (ViT and projector count as vision), and by part.
// Only real tokens count: padding is batching overhead, not the model's
// work. Attention counts the keys each token attends (causal, valid), not
// the masked square the dense kernel fills; a skipped or dropped expert slot
// counts nothing. Not counted: the optional box pointer and object tags.
struct ExecutedFlops {
  enum Phase { prefill, decode, kPhases };
  enum Part { attention, dense_ffn, router, experts, shared_experts, vision_encoder, lm_head, kParts };
  static const char* part_name(int part);
  double flops[kPhases][2][kParts] = {};  // [phase][modality 0 text / 1 vision][part]
  double tokens[kPhases][2] = {};         // decoder tokens [phase][modality]
  double images = 0;
  // Sums over the phases/modalities/parts given, or all of them for -1.
  double sum(int phase = -1, int modality = -1, int part = -1) const;
  double token_count(int phase = -1, int modality = -1) const;
  // {"gflops", "gflops_per_token", "tokens", "images", "prefill": {...}, "decode": {...}}
  nlohmann::json to_json() const;
};

}  // namespace smoes::model
