#include "model/flops.h"

#include <gtest/gtest.h>

TEST(Flops, HandCountedTinyDenseModel) {
  smoes::Config c;
  c.moe.enabled = false;
  c.model.n_layers = 1;
  c.model.d_model = 4;
  c.model.n_heads = 1;
  c.model.dense_ffn_hidden = 8;
  // Per token: qkv 2*4*12=96, proj 2*4*4=32, attention 2*2*S*4=16S, ffn 3*2*4*8=192.
  auto f = smoes::model::forward_flops(c, /*vocab=*/10, /*seq_len=*/3, /*images=*/0);
  EXPECT_DOUBLE_EQ(f.decoder, 3 * (96 + 32 + 16 * 3 + 192));
  EXPECT_DOUBLE_EQ(f.lm_head, 2 * 4 * 10 * 3);
  EXPECT_DOUBLE_EQ(f.vision, 0);
}

TEST(Flops, MoECountsOnlyActiveExperts) {
  smoes::Config c;
  c.moe.num_experts = 64;
  c.moe.top_k = 2;
  auto f64 = smoes::model::forward_flops(c, 100, 16, 0);
  c.moe.num_experts = 8;
  auto f8 = smoes::model::forward_flops(c, 100, 16, 0);
  // Only the router grows with E: 2*d*(64-8) per token per layer.
  EXPECT_DOUBLE_EQ(f64.decoder - f8.decoder, 2.0 * 256 * 56 * 16 * c.model.n_layers);
}
