// Executed-FLOP counting (ExecutedFlops, MoEVLMImpl::flop_meter) against a
// brute-force tally: a loop over every real token, layer and expert slot.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/flops.h"
#include "model/vlm.h"
#include "../tiny_run.h"

using namespace smoes::model;

namespace {

constexpr int64_t kFlopsVocab = 40, kFlopsImage = 3;

// tiny_run's small model with layer 0 dense, layer 1 MoE (4 experts, top-2, one shared expert).
smoes::Config flops_config() {
  auto c = tiny_run::small_config("", "");
  c.model.moe_every = 2;
  c.moe.shared_experts = 1;
  return c;
}

// Per-token FLOPs of one real token that attends `keys` keys and runs `slots` expert slots.
double token_flops(const smoes::Config& c, double keys, double slots, bool logits) {
  const double d = c.model.d_model, f = c.moe.ffn_hidden;
  double total = 2 * (2 * 4 * d * d + 2 * 2 * d * keys);  // two layers of attention
  total += 2 * 3 * d * c.model.dense_ffn_hidden;          // layer 0 dense
  total += 2 * d * c.moe.num_experts + (slots + c.moe.shared_experts) * 2 * 3 * d * f;  // layer 1 MoE
  if (logits) total += 2 * d * kFlopsVocab;
  return total;
}

}  // namespace

// A left-padded batch with an image, then one cached decode step; the MoE
// layer skips every text token's second slot, so the expert work per token is
// known without reading the routing.
TEST(ExecutedFlops, MatchBruteForceTallyOverTokensLayersAndSlots) {
  torch::manual_seed(0);
  auto c = flops_config();
  MoEVLM model(c, kFlopsVocab, kFlopsImage);
  model->eval();
  auto* moe = model->blocks[1]->as<DecoderBlock>()->moe.get();
  moe->skip = [](const smoes::moe::RoutingDecision& d, const torch::Tensor& modality) {
    auto keep = torch::ones(d.indices.sizes(), torch::kBool);
    keep.select(1, 1).copy_(modality.eq(1));  // text tokens run their first choice only
    return keep;
  };
  ExecutedFlops meter;
  model->flop_meter = &meter;
  // Row 0: two pads, image (4 slots), 2 text. Row 1: image, 4 text.
  auto ids = torch::tensor(std::vector<int64_t>{0, 0, kFlopsImage, kFlopsImage, kFlopsImage, kFlopsImage, 10, 11,  //
                                                kFlopsImage, kFlopsImage, kFlopsImage, kFlopsImage, 10, 11, 12, 13})
                 .view({2, 8});
  auto mask = ids.ne(0);
  VLMInput in{ids, ids.eq(kFlopsImage).to(torch::kLong), mask, torch::randn({2, 3, 16, 16}), {}};
  KVCache cache;
  torch::NoGradGuard no_grad;
  model->forward(in, &cache);
  auto step = torch::tensor(std::vector<int64_t>{14, 15}).view({2, 1});
  model->forward({step, torch::zeros({2, 1}, torch::kLong), torch::ones({2, 1}, torch::kBool), {}, {}}, &cache);

  double expect[2][2] = {}, tokens[2][2] = {};
  for (int64_t b = 0; b < 2; ++b) {
    int64_t seen = 0;
    for (int64_t t = 0; t < 8; ++t) {
      if (!mask[b][t].item<bool>()) continue;
      ++seen;  // a token attends every real key up to and including itself
      const int m = ids[b][t].item<int64_t>() == kFlopsImage;
      expect[0][m] += token_flops(c, seen, m ? 2 : 1, true);
      tokens[0][m] += 1;
    }
    expect[1][0] += token_flops(c, seen + 1, 1, true);
    tokens[1][0] += 1;
  }
  expect[0][1] += 2 * vision_flops_per_image(c.model);
  for (int p = 0; p < 2; ++p)
    for (int m = 0; m < 2; ++m) {
      EXPECT_NEAR(meter.sum(p, m), expect[p][m], 1e-6 * expect[p][m]) << "phase " << p << " modality " << m;
      EXPECT_EQ(meter.tokens[p][m], tokens[p][m]);
    }
  EXPECT_EQ(meter.images, 2);
  // The text tokens' skipped slots are missing from the expert count.
  const double slot = 2 * 3 * 32.0 * 24;  // d_model x ffn_hidden of small_config
  EXPECT_DOUBLE_EQ(meter.sum(-1, 0, ExecutedFlops::experts), slot * tokens[0][0] + slot * tokens[1][0]);
  EXPECT_DOUBLE_EQ(meter.sum(-1, 1, ExecutedFlops::experts), 2 * slot * tokens[0][1]);
}

// Without padding, cache or skipping, the executed count is the analytic
// forward_flops less the masked half of the attention square.
TEST(ExecutedFlops, FullSequenceIsAnalyticCountMinusMaskedAttention) {
  torch::manual_seed(1);
  auto c = flops_config();
  MoEVLM model(c, kFlopsVocab, kFlopsImage);
  model->eval();
  ExecutedFlops meter;
  model->flop_meter = &meter;
  auto ids = torch::tensor(std::vector<int64_t>{kFlopsImage, kFlopsImage, kFlopsImage, kFlopsImage, 10, 11, 12}).view({1, 7});
  torch::NoGradGuard no_grad;
  model->forward({ids, ids.eq(kFlopsImage).to(torch::kLong), {}, torch::randn({1, 3, 16, 16}), {}});
  auto analytic = forward_flops(c, kFlopsVocab, 7, 1);
  const double masked = c.model.n_layers * 2 * 2 * 32.0 * (7 * 7 - 7 * 8 / 2);
  EXPECT_NEAR(meter.sum(), analytic.total() - masked, 1e-9 * analytic.total());
  EXPECT_EQ(meter.sum(ExecutedFlops::decode), 0);
  auto j = meter.to_json();
  EXPECT_NEAR(j["gflops"].get<double>(), meter.sum() / 1e9, 1e-12);
  EXPECT_NEAR(j["prefill"]["gflops_per_token"].get<double>(), meter.sum() / 7 / 1e9, 1e-12);
}
