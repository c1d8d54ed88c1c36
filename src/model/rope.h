// Rotary position embeddings (RoPE), rotate-half form, applied at explicit
// positions so a KV cache and left-padded batches get the right angles.
#pragma once
#include <torch/torch.h>

namespace smoes::model {

// cos and sin at each token's position, [B, 1, S, Dh]: looked up once per
// forward and shared by every layer.
struct RoPEAngles {
  torch::Tensor cos, sin;
};

class RoPE {
 public:
  RoPE(int64_t head_dim, int64_t max_positions, double theta);
  // positions: [B, S] int64, each < max_positions (the model checks this once
  // per forward, not per layer).
  RoPEAngles angles(const torch::Tensor& positions) const;
  // x: [..., B, H, S, Dh]: leading dimensions broadcast, so q and k stacked
  // as [2, B, H, S, Dh] rotate together.
  static torch::Tensor rotate(const torch::Tensor& x, const RoPEAngles& angles);
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& positions) const {
    return rotate(x, angles(positions));
  }

  int64_t max_positions() const { return cos_.size(0); }

 private:
  torch::Tensor cos_, sin_;  // [max_positions, Dh]
};

}  // namespace smoes::model
