// Rotary position embeddings (RoPE), rotate-half form, applied at explicit
// positions so a KV cache and left-padded batches get the right angles.
#pragma once
#include <torch/torch.h>

namespace smoes::model {

class RoPE {
 public:
  RoPE(int64_t head_dim, int64_t max_positions, double theta);
  // x: [B, H, S, Dh]; positions: [B, S] int64, each < max_positions (the
  // model checks this once per forward, not per layer).
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& positions) const;

  int64_t max_positions() const { return cos_.size(0); }

 private:
  torch::Tensor cos_, sin_;  // [max_positions, Dh]
};

}  // namespace smoes::model
