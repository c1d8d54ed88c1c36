#include "model/flops.h"

#include <nlohmann/json.hpp>

namespace smoes::model {

FlopCount forward_flops(const Config& cfg, int64_t vocab, int64_t seq_len, int64_t images) {
  const auto& m = cfg.model;
  const double d = m.d_model, s = double(seq_len);
  FlopCount f;
  for (int layer = 0; layer < m.n_layers; ++layer) {
    const bool moe = cfg.moe.enabled && m.is_moe_layer(layer);
    double per_token = 2 * d * 3 * d + 2 * d * d  // qkv + output projection
                       + 2 * 2 * s * d;           // q.k^T and p.v over the full (masked) square
    if (moe)
      per_token += 2 * d * cfg.moe.experts_in(layer / m.moe_every)  // router
                   + (cfg.moe.top_k + cfg.moe.shared_experts) * 3 * 2 * d * cfg.moe.ffn_hidden;
    else
      per_token += 3 * 2 * d * m.dense_ffn_hidden;
    f.decoder += per_token * s;
  }
  f.lm_head = 2 * d * double(vocab) * s;
  f.vision = double(images) * vision_flops_per_image(m);
  return f;
}

double vision_flops_per_image(const ModelConfig& m) {
  const double d = m.d_model, w = m.vit_width, p = double(m.image_size / m.patch_size) * (m.image_size / m.patch_size);
  const double vit_per_patch = 2 * 3.0 * m.patch_size * m.patch_size * w +
                               m.vit_layers * (2 * w * 3 * w + 2 * w * w + 2 * 2 * p * w + 2 * 2 * w * 4 * w);
  return p * (vit_per_patch + 2 * w * d + 2 * d * d);
}

const char* ExecutedFlops::part_name(int part) {
  static const char* names[kParts] = {"attention",      "dense_ffn",      "router", "experts",
                                      "shared_experts", "vision_encoder", "lm_head"};
  return names[part];
}

double ExecutedFlops::sum(int phase, int modality, int part) const {
  double total = 0;
  for (int p = 0; p < kPhases; ++p)
    for (int m = 0; m < 2; ++m)
      for (int q = 0; q < kParts; ++q)
        if ((phase < 0 || p == phase) && (modality < 0 || m == modality) && (part < 0 || q == part))
          total += flops[p][m][q];
  return total;
}

double ExecutedFlops::token_count(int phase, int modality) const {
  double total = 0;
  for (int p = 0; p < kPhases; ++p)
    for (int m = 0; m < 2; ++m)
      if ((phase < 0 || p == phase) && (modality < 0 || m == modality)) total += tokens[p][m];
  return total;
}

nlohmann::json ExecutedFlops::to_json() const {
  auto per_token = [](double f, double t) { return t > 0 ? f / t / 1e9 : 0.0; };
  auto phase_json = [&](int p) {
    nlohmann::json parts;
    for (int q = 0; q < kParts; ++q) parts[part_name(q)] = sum(p, -1, q) / 1e9;
    return nlohmann::json{{"gflops", sum(p) / 1e9},
                          {"gflops_per_token", per_token(sum(p), token_count(p))},
                          {"tokens", {{"text", tokens[p][0]}, {"vision", tokens[p][1]}}},
                          {"gflops_by_modality", {{"text", sum(p, 0) / 1e9}, {"vision", sum(p, 1) / 1e9}}},
                          {"gflops_by_part", parts}};
  };
  return {{"gflops", sum() / 1e9},
          {"gflops_per_token", per_token(sum(), token_count())},
          {"tokens", token_count()},
          {"images", images},
          {"prefill", phase_json(prefill)},
          {"decode", phase_json(decode)}};
}

}  // namespace smoes::model
