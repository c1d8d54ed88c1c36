#include "model/flops.h"

namespace smoes::model {

FlopCount forward_flops(const Config& cfg, int64_t vocab, int64_t seq_len, int64_t images) {
  const auto& m = cfg.model;
  const double d = m.d_model, s = double(seq_len);
  FlopCount f;
  for (int layer = 0; layer < m.n_layers; ++layer) {
    const bool moe = cfg.moe.enabled && (layer % m.moe_every == m.moe_every - 1);
    double per_token = 2 * d * 3 * d + 2 * d * d  // qkv + output projection
                       + 2 * 2 * s * d;           // q.k^T and p.v over the full (masked) square
    if (moe)
      per_token += 2 * d * cfg.moe.num_experts  // router
                   + (cfg.moe.top_k + cfg.moe.shared_experts) * 3 * 2 * d * cfg.moe.ffn_hidden;
    else
      per_token += 3 * 2 * d * m.dense_ffn_hidden;
    f.decoder += per_token * s;
  }
  f.lm_head = 2 * d * double(vocab) * s;
  const double w = m.vit_width, p = double(m.image_size / m.patch_size) * (m.image_size / m.patch_size);
  const double vit_per_patch = 2 * 3.0 * m.patch_size * m.patch_size * w +
                               m.vit_layers * (2 * w * 3 * w + 2 * w * w + 2 * 2 * p * w + 2 * 2 * w * 4 * w);
  f.vision = images * p * (vit_per_patch + 2 * w * d + 2 * d * d);
  return f;
}

}  // namespace smoes::model
