// `smoes bench decode`: what it counts (not how fast; timings are benches).
#include "model/decode_bench.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

using smoes::model::bench_decode;

namespace {

smoes::Config decode_config() {
  smoes::Config c;
  c.model.d_model = 32;
  c.model.n_layers = 2;
  c.model.n_heads = 4;
  c.model.max_seq_len = 24;
  c.model.image_size = 16;
  c.model.patch_size = 8;  // 4 visual tokens
  c.model.vit_layers = 1;
  c.model.vit_width = 16;
  c.model.vit_heads = 2;
  c.moe.num_experts = 4;
  c.moe.top_k = 2;
  c.moe.ffn_hidden = 24;
  return c;
}

}  // namespace

TEST(DecodeBench, EveryRowGeneratesEveryStepAndTheRatesCountTheirTokens) {
  for (int64_t batch : {1, 3}) {
    auto r = bench_decode(decode_config(), 64, batch, /*prompt_tokens=*/7, /*new_tokens=*/5, /*repeats=*/2);
    EXPECT_EQ(r.generated_tokens, batch * 5);
    EXPECT_EQ(r.batch, batch);
    EXPECT_GE(r.threads, 1);
    EXPECT_GT(r.prefill_ms, 0);
    EXPECT_GT(r.generate_ms, r.decode_ms);
    EXPECT_NEAR(r.prefill_tokens_per_s, batch * 7 / (r.prefill_ms / 1e3), 1e-6 * std::abs(r.prefill_tokens_per_s));
    EXPECT_NEAR(r.decode_tokens_per_s, batch * 4 / (r.decode_ms / 1e3), 1e-6 * std::abs(r.decode_tokens_per_s));
    EXPECT_EQ(r.to_json().at("generated_tokens"), batch * 5);
  }
}

TEST(DecodeBench, PromptsThatCannotRunAreRefused) {
  auto cfg = decode_config();
  EXPECT_THROW(bench_decode(cfg, 64, 1, 4, 5, 1), smoes::Error);   // no text after the 4 visual tokens
  EXPECT_THROW(bench_decode(cfg, 64, 1, 20, 5, 1), smoes::Error);  // 25 > max_seq_len 24
  EXPECT_THROW(bench_decode(cfg, 64, 1, 7, 1, 1), smoes::Error);   // no decode step to time
}
