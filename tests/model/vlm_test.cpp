#include "model/vlm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>

#include "core/error.h"
#include "../error_of.h"
#include "model/generate.h"
#include "model/vision.h"
#include "moe/smoes.h"

using namespace smoes::model;
namespace moe = smoes::moe;

namespace {

smoes::Config tiny_config() {
  smoes::Config c;
  c.model.d_model = 32;
  c.model.n_layers = 2;
  c.model.n_heads = 4;
  c.model.max_seq_len = 64;
  c.model.dense_ffn_hidden = 48;
  c.model.image_size = 16;
  c.model.patch_size = 8;
  c.model.vit_layers = 1;
  c.model.vit_width = 16;
  c.model.vit_heads = 2;
  c.moe.num_experts = 4;
  c.moe.top_k = 2;
  c.moe.ffn_hidden = 24;
  return c;
}

// The SMoES router with attention-propagated scores, which the KV cache carries.
smoes::Config smoes_attention_config() {
  auto c = tiny_config();
  c.router.name = "smoes";
  c.router.soft_scores = "attention";
  return c;
}

constexpr int64_t kVocab = 40, kImage = 3, kEos = 2;

// tiny_config with a dense head and the box pointer.
smoes::Config pointer_config() {
  auto c = tiny_config();
  c.model.vision_classes = 5;
  c.model.box_pointer = true;
  return c;
}

// A prompt with one image (4 patches) then text.
VLMInput prompt_with_image(int64_t batch) {
  auto ids = torch::tensor(std::vector<int64_t>{kImage, kImage, kImage, kImage, 10, 11, 12}).repeat({batch, 1});
  auto modality = ids.eq(kImage).to(torch::kLong);
  return {ids, modality, torch::ones(ids.sizes(), torch::kBool), torch::randn({batch, 3, 16, 16}), {}};
}

// Greedy decoding by full recompute at every step: the reference for the cache.
std::vector<int64_t> greedy_without_cache(MoEVLM& m, VLMInput in, int steps) {
  torch::NoGradGuard ng;
  std::vector<int64_t> out;
  for (int i = 0; i < steps; ++i) {
    int64_t next = m->forward(in).logits[0][-1].argmax().item<int64_t>();
    if (next == kEos) break;
    out.push_back(next);
    auto tok = torch::tensor({{next}});
    in.input_ids = torch::cat({in.input_ids, tok}, 1);
    in.modality = torch::cat({in.modality, torch::zeros_like(tok)}, 1);
    in.attention_mask = torch::ones(in.input_ids.sizes(), torch::kBool);
  }
  return out;
}

}  // namespace

TEST(VLM, ForwardShapesAndVisualTokensChangeOutput) {
  torch::manual_seed(0);
  MoEVLM m(tiny_config(), kVocab, kImage);
  EXPECT_EQ(m->image_tokens(), 4);
  auto in = prompt_with_image(2);
  auto out = m->forward(in, nullptr, /*want_attention=*/true);
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 7, kVocab}));
  ASSERT_EQ(out.attention_probs.size(), 2u);
  EXPECT_TRUE(torch::allclose(out.attention_probs[0].sum(-1), torch::ones({2, 7}), 1e-5, 1e-5));
  auto other = in;
  other.images = torch::randn({2, 3, 16, 16});
  EXPECT_FALSE(torch::allclose(m->forward(other).logits, out.logits));
}

TEST(VLM, ForwardLossOnLabelledPositionsEqualsTheFullLogitsLossWithTheSameGradients) {
  torch::manual_seed(0);
  MoEVLM m(tiny_config(), kVocab, kImage);
  auto in = prompt_with_image(2);
  auto labels = torch::full({2, 7}, -100, torch::kLong);
  labels[0][5] = 11, labels[0][6] = 12, labels[1][6] = 7;
  auto grads = [&] {
    std::vector<torch::Tensor> g;
    for (auto& p : m->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    m->zero_grad();
    return g;
  };
  auto full = answer_loss(m->forward(in).logits, labels);
  full.backward();
  auto g_full = grads();
  auto part = m->forward_loss(in, labels);
  EXPECT_EQ(part.logits.sizes(), (std::vector<int64_t>{3, kVocab}));
  EXPECT_NEAR(part.loss.item<double>(), full.item<double>(), 1e-6);
  part.loss.backward();
  auto g_part = grads();
  auto names = m->named_parameters().keys();
  for (size_t i = 0; i < g_full.size(); ++i)
    EXPECT_TRUE(torch::allclose(g_part[i], g_full[i], 1e-4, 1e-6))
        << names[i] << " max diff " << (g_part[i] - g_full[i]).abs().max().item<double>() << " of "
        << g_full[i].abs().max().item<double>();
  EXPECT_THROW(m->forward_loss(in, labels.narrow(1, 0, 6)), smoes::Error);

  // Per sequence: row 0's two labels average first, then the two rows.
  auto logp = torch::log_softmax(m->forward(in).logits, -1);
  const double row0 = -(logp[0][5][11] + logp[0][6][12]).item<double>() / 2, row1 = -logp[1][6][7].item<double>();
  EXPECT_NEAR(m->forward_loss(in, labels, /*per_sequence=*/true).loss.item<double>(), (row0 + row1) / 2, 1e-5);
  EXPECT_NEAR(full.item<double>(), (2 * row0 + row1) / 3, 1e-5);  // the token mean, for contrast
  labels[1][6] = -100;  // a sequence without labels does not count
  EXPECT_NEAR(m->forward_loss(in, labels, true).loss.item<double>(), row0, 1e-5);
}

TEST(VLM, WrongImageCountIsAnError) {
  MoEVLM m(tiny_config(), kVocab, kImage);
  auto in = prompt_with_image(2);
  in.images = torch::randn({1, 3, 16, 16});
  EXPECT_THROW(m->forward(in), smoes::Error);
}

TEST(Generate, KVCacheGreedyEqualsFullRecompute) {
  torch::manual_seed(3);
  MoEVLM m(tiny_config(), kVocab, kImage);
  m->eval();
  auto in = prompt_with_image(1);
  auto cached = greedy_generate(m, in, 8, kEos);
  EXPECT_EQ(cached[0], greedy_without_cache(m, in, 8));
}

TEST(Generate, LeftPaddedBatchMatchesSingleRows) {
  torch::manual_seed(4);
  MoEVLM m(tiny_config(), kVocab, kImage);
  m->eval();
  auto a = prompt_with_image(1);
  auto b = a;
  b.input_ids = torch::tensor(std::vector<int64_t>{kImage, kImage, kImage, kImage, 13}).unsqueeze(0);
  b.modality = b.input_ids.eq(kImage).to(torch::kLong);
  b.attention_mask = torch::ones({1, 5}, torch::kBool);
  b.images = torch::randn({1, 3, 16, 16});
  // Batch: b left-padded by two tokens.
  VLMInput batch;
  auto pad = torch::zeros({1, 2}, torch::kLong);
  batch.input_ids = torch::cat({a.input_ids, torch::cat({pad, b.input_ids}, 1)}, 0);
  batch.modality = torch::cat({a.modality, torch::cat({pad, b.modality}, 1)}, 0);
  batch.attention_mask = torch::cat({a.attention_mask, torch::cat({pad.to(torch::kBool), b.attention_mask}, 1)}, 0);
  batch.images = torch::cat({a.images, b.images}, 0);
  auto together = greedy_generate(m, batch, 6, kEos);
  EXPECT_EQ(together[0], greedy_generate(m, a, 6, kEos)[0]);
  EXPECT_EQ(together[1], greedy_generate(m, b, 6, kEos)[0]);
}

TEST(Generate, BeamOfOneIsGreedyAndScoresMatchForward) {
  for (const auto& cfg : {tiny_config(), smoes_attention_config()}) {
    torch::manual_seed(5);
    MoEVLM m(cfg, kVocab, kImage);
    m->eval();
    auto in = prompt_with_image(1);
    EXPECT_EQ(beam_search(m, in, 1, 6, kEos), greedy_generate(m, in, 6, kEos)[0]);
    auto wide = beam_search(m, in, 4, 6, kEos);
    EXPECT_LE(wide.size(), 6u);

    // score_choices == sum of log-probs from one full forward per choice.
    std::vector<std::vector<int64_t>> choices = {{20, 21}, {22}, {23, 24, 25}};
    auto scores = score_choices(m, in, choices);
    torch::NoGradGuard ng;
    for (size_t c = 0; c < choices.size(); ++c) {
      auto full = in;
      auto extra = torch::tensor(choices[c]).unsqueeze(0);
      full.input_ids = torch::cat({in.input_ids, extra}, 1);
      full.modality = torch::cat({in.modality, torch::zeros_like(extra)}, 1);
      full.attention_mask = torch::ones(full.input_ids.sizes(), torch::kBool);
      auto logp = torch::log_softmax(m->forward(full).logits[0], -1);
      double expected = 0;
      for (size_t t = 0; t < choices[c].size(); ++t) expected += logp[6 + t][choices[c][t]].item<double>();
      EXPECT_NEAR(scores[c], expected, 1e-4) << cfg.router.name << " choice " << c;
    }
  }
}

TEST(VLM, ParameterGroupsCoverEveryParameter) {
  auto cfg = pointer_config();  // and every other optional part: word and box tags, the pointer's readout
  cfg.model.location_bins = 4;
  cfg.model.object_tags = "words_boxes";
  cfg.model.pointer_readout = true;
  MoEVLM m(cfg, kVocab, kImage);
  for (const auto& p : m->named_parameters()) EXPECT_NO_THROW(parameter_group(p.key())) << p.key();
  EXPECT_EQ(parameter_group("vit.blocks.0.attn.qkv.weight"), "encoder");
  EXPECT_EQ(parameter_group("blocks.1.attn.qkv.weight"), "attention");
  EXPECT_EQ(parameter_group("projector.fc1.weight"), "projector");
  EXPECT_EQ(parameter_group("pointer.key.weight"), "pointer");
  EXPECT_EQ(parameter_group("pointer.value.weight"), "pointer");
  EXPECT_EQ(parameter_group("tags.box_roles"), "projector");
}

TEST(VLM, BlindBaselineIgnoresTheImage) {
  auto cfg = tiny_config();
  cfg.model.blind = true;
  torch::manual_seed(2);
  MoEVLM blind(cfg, kVocab, kImage);
  blind->eval();
  auto in = prompt_with_image(1);
  auto other = in;
  other.images = torch::randn_like(in.images);
  torch::NoGradGuard ng;
  EXPECT_TRUE(blind->forward(in).logits.equal(blind->forward(other).logits));
  cfg.model.blind = false;  // the same weights with sight: the image changes the logits
  torch::manual_seed(2);
  MoEVLM seeing(cfg, kVocab, kImage);
  seeing->eval();
  EXPECT_FALSE(seeing->forward(in).logits.equal(seeing->forward(other).logits));
}

// model.blind (what `smoes eval --blank-images` sets) must close every path
// from pixels: encoder, dense head, word and box tags, pointer readout.
TEST(VLM, BlindClosesEveryPathFromPixelsIncludingTagsAndPointer) {
  auto cfg = pointer_config();
  cfg.model.vision_attributes = 2;
  cfg.model.location_bins = 4;
  cfg.model.object_tags = "words_boxes";
  cfg.model.pointer_readout = true;
  torch::manual_seed(4);
  MoEVLM m(cfg, kVocab, kImage);
  m->tags->set_words({{5}, {6}, {7}, {8}, {9}, {10}, {11}}, kVocab);
  m->tags->set_locations({20, 21, 22, 23}, kVocab);
  torch::NoGradGuard ng;
  torch::nn::init::normal_(m->pointer->value->weight, 0.0, 0.5);  // a trained readout, not the zero init
  m->eval();
  auto in = prompt_with_image(1);
  auto other = in;
  other.images = torch::randn_like(in.images);
  auto visual = [&](const VLMInput& x) { return m->encode_images(x.images); };
  EXPECT_FALSE(m->forward(in).logits.equal(m->forward(other).logits));  // with sight, the image matters
  EXPECT_FALSE(visual(in).tags.equal(visual(other).tags));
  m->cfg.model.blind = true;
  EXPECT_TRUE(m->forward(in).logits.equal(m->forward(other).logits));
  EXPECT_TRUE(visual(in).tags.equal(visual(other).tags));
  EXPECT_TRUE(m->see(in.images).equal(m->see(other.images)));
  EXPECT_EQ(greedy_generate(m, in, 4, kEos), greedy_generate(m, other, 4, kEos));
}

// Padding never reaches a router: a padded row gives the routed tokens,
// statistics inputs and auxiliary losses of the same row alone.
TEST(VLM, PaddingIsLeftOutOfRoutingAndAuxiliaryLosses) {
  torch::manual_seed(5);
  MoEVLM m(tiny_config(), kVocab, kImage);
  m->eval();
  torch::NoGradGuard ng;
  auto alone = prompt_with_image(1);
  auto padded = alone;
  auto pad_ids = torch::tensor(std::vector<int64_t>{30, 31, 32}).unsqueeze(0);  // garbage after the row
  padded.input_ids = torch::cat({alone.input_ids, pad_ids}, 1);
  padded.modality = torch::cat({alone.modality, torch::zeros_like(pad_ids)}, 1);
  padded.attention_mask = torch::cat({alone.attention_mask, torch::zeros(pad_ids.sizes(), torch::kBool)}, 1);
  auto a = m->forward(alone), b = m->forward(padded);
  ASSERT_EQ(a.routing.size(), b.routing.size());
  for (size_t l = 0; l < a.routing.size(); ++l) {
    EXPECT_EQ(b.routing[l].decision.indices.size(0), 7) << "padding was routed in layer " << l;
    EXPECT_TRUE(a.routing[l].decision.indices.equal(b.routing[l].decision.indices));
    EXPECT_TRUE(torch::allclose(a.routing[l].decision.probs, b.routing[l].decision.probs, 1e-5, 1e-6));
    EXPECT_TRUE(a.routing[l].modality.equal(b.routing[l].modality));
  }
  for (const char* name : {"balance", "z"})
    EXPECT_NEAR(a.losses.at(name).item<double>(), b.losses.at(name).item<double>(), 1e-5) << name;
  EXPECT_NEAR(a.aux_loss.item<double>(), b.aux_loss.item<double>(), 1e-5);
  EXPECT_TRUE(torch::allclose(a.logits[0], b.logits[0].narrow(0, 0, 7), 1e-4, 1e-5));
}

TEST(VLM, SmoesAttentionScoresStartAsLabelsAndMixWithDepth) {
  torch::manual_seed(7);
  MoEVLM m(smoes_attention_config(), kVocab, kImage);
  m->eval();
  torch::NoGradGuard ng;
  auto in = prompt_with_image(1);
  auto out = m->forward(in, nullptr, /*want_attention=*/true);
  ASSERT_EQ(out.routing.size(), 2u);
  // Layer 0's router sees the labels mixed by layer 0's attention, by hand.
  auto labels = moe::hard_soft_modality(in.modality);
  for (const auto& r : out.routing) {
    ASSERT_TRUE(r.soft_modality.defined());
    EXPECT_TRUE((r.soft_modality >= 0).all().item<bool>() && (r.soft_modality <= 1).all().item<bool>());
    EXPECT_TRUE(torch::allclose(r.soft_modality.sum(-1), torch::ones({7}), 1e-5, 1e-6));
  }
  // The first token attends only to itself: it keeps its label in every layer.
  for (const auto& r : out.routing) EXPECT_TRUE(torch::allclose(r.soft_modality[0], labels[0][0], 1e-6, 1e-6));
  // Text tokens after the image have picked up some vision.
  auto last = out.routing[0].soft_modality[6];
  EXPECT_EQ(in.modality[0][6].item<int64_t>(), 0);
  EXPECT_GT(last[1].item<double>(), 0.0);
  // A non-SMoES model reports none.
  MoEVLM plain(tiny_config(), kVocab, kImage);
  plain->eval();
  EXPECT_FALSE(plain->forward(in).routing[0].soft_modality.defined());
}

TEST(Generate, SmoesAttentionScoresWithTheKVCacheEqualFullRecompute) {
  torch::manual_seed(8);
  MoEVLM m(smoes_attention_config(), kVocab, kImage);
  m->eval();
  torch::NoGradGuard ng;
  auto in = prompt_with_image(1);
  auto cached = greedy_generate(m, in, 6, kEos);
  EXPECT_EQ(cached[0], greedy_without_cache(m, in, 6));
  // Prompt through the cache, then one token: its scores equal the full pass's last row.
  KVCache cache;
  m->forward(in, &cache);
  VLMInput next;
  next.input_ids = torch::tensor(std::vector<int64_t>{17}).unsqueeze(0);
  next.modality = torch::zeros({1, 1}, torch::kLong);
  next.attention_mask = torch::ones({1, 1}, torch::kBool);
  auto step = m->forward(next, &cache);
  VLMInput whole = in;
  whole.input_ids = torch::cat({in.input_ids, next.input_ids}, 1);
  whole.modality = torch::cat({in.modality, next.modality}, 1);
  whole.attention_mask = torch::cat({in.attention_mask, next.attention_mask}, 1);
  auto full = m->forward(whole);
  for (size_t l = 0; l < full.routing.size(); ++l)
    EXPECT_TRUE(torch::allclose(step.routing[l].soft_modality[0], full.routing[l].soft_modality[-1], 1e-5, 1e-6))
        << "layer " << l;
}

TEST(ViT, SinCosPositionTableEncodesColumnThenRow) {
  // grid 3, width 8: quarter = 2 frequencies {1, 1e-2}; patch 5 is row 1, column 2.
  auto t = sincos_position_table(3, 8);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{9, 8}));
  const std::vector<float> want = {std::sin(2.f), std::sin(0.02f), std::cos(2.f), std::cos(0.02f),
                                   std::sin(1.f), std::sin(0.01f), std::cos(1.f), std::cos(0.01f)};
  for (int c = 0; c < 8; ++c) EXPECT_NEAR(t[5][c].item<float>(), want[c], 1e-6) << c;
  // Every patch gets its own code.
  EXPECT_GT(torch::cdist(t, t).add(torch::eye(9) * 10).min().item<float>(), 0.1f);
  EXPECT_THROW(sincos_position_table(3, 6), smoes::Error);
}

TEST(VLM, ModelInitKeepsTheSinCosPositionTable) {
  auto cfg = tiny_config();
  MoEVLM m(cfg, kVocab, kImage);
  EXPECT_TRUE(torch::equal(m->vit->pos_embed, sincos_position_table(2, 16)));
}

TEST(Projector, TokensAreCentredOverPatchesWithTheLearnedGainAsTheirScale) {
  torch::manual_seed(4);
  Projector proj(16, 8);
  {
    torch::NoGradGuard ng;
    proj->gain.copy_(torch::linspace(0.5, 4.0, 8));
  }
  auto feats = torch::randn({3, 5, 16});
  auto out = proj->forward(feats);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 5, 8}));
  EXPECT_LT(out.mean(1).abs().max().item<float>(), 1e-5);  // zero mean per image and channel
  // RMS over patches = gain * sqrt(v / (v + eps)), v the MLP output's variance over patches.
  auto h = proj->fc2(torch::gelu(proj->fc1(feats)));
  auto v = (h - h.mean(1, true)).pow(2).mean(1);
  auto rms = out.pow(2).mean(1).sqrt();  // [3, 8]
  EXPECT_TRUE(torch::allclose(rms, proj->gain.detach() * (v / (v + 1e-5)).sqrt(), 1e-4, 1e-5));
  EXPECT_GT(rms.min().item<float>(), 0.45f);
  // The collapse guard: a constant pushed onto every patch after the MLP
  // (here through fc2's bias) cannot reach the decoder.
  {
    torch::NoGradGuard ng;
    proj->fc2->bias.add_(torch::randn({8}) * 100);
  }
  EXPECT_TRUE(torch::allclose(proj->forward(feats), out, 1e-3, 1e-3));
}

TEST(Projector, BatchStatisticsKeepEachImagesMeanAndEvalUsesTheRunningOnes) {
  torch::manual_seed(5);
  Projector proj(16, 8, /*batch_stats=*/true);
  auto feats = torch::randn({4, 6, 16});
  auto h = proj->fc2(torch::gelu(proj->fc1(feats))).detach();
  auto out = proj->forward(feats);
  // Zero mean and variance gain^2 * v/(v+eps) over every patch of the batch...
  EXPECT_LT(out.mean(std::vector<int64_t>{0, 1}).abs().max().item<float>(), 1e-5);
  auto v = h.var(std::vector<int64_t>{0, 1}, /*unbiased=*/false);
  auto want = torch::full({8}, 0.02) * (v / (v + 1e-5)).sqrt();
  EXPECT_TRUE(torch::allclose(out.pow(2).mean(std::vector<int64_t>{0, 1}).sqrt(), want, 1e-4, 1e-6));
  // ...but not per image: an image's own mean (its "what is in it" summary) survives.
  EXPECT_GT(out.mean(1).abs().max().item<float>(), 1e-3);
  // Running statistics: momentum 0.1 from (0, 1), unbiased variance.
  const double n = 24;
  EXPECT_TRUE(torch::allclose(proj->norm->running_mean, 0.1 * h.mean(std::vector<int64_t>{0, 1}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(proj->norm->running_var, 0.9 + 0.1 * v * n / (n - 1), 1e-5, 1e-6));
  // Eval mode normalises with them (a single image works) and does not update them.
  proj->eval();
  auto running = proj->norm->running_mean.clone();
  auto one = proj->forward(feats.slice(0, 0, 1));
  auto expect = (h.slice(0, 0, 1) - proj->norm->running_mean) * torch::rsqrt(proj->norm->running_var + 1e-5) * 0.02;
  EXPECT_TRUE(torch::allclose(one, expect, 1e-4, 1e-6));
  EXPECT_TRUE(torch::equal(proj->norm->running_mean, running));
  // The collapse guard holds in training mode: a constant added after the MLP is removed.
  proj->train();
  {
    torch::NoGradGuard ng;
    proj->fc2->bias.add_(torch::randn({8}) * 100);
  }
  EXPECT_TRUE(torch::allclose(proj->forward(feats), out, 1e-3, 1e-3));
}

TEST(ViT, BatchNormOutputRemovesAVectorSharedByEveryToken) {
  torch::manual_seed(6);
  ViT vit(16, 8, 16, 1, 2, /*batch_norm_output=*/true);
  auto images = torch::randn({3, 3, 16, 16});
  auto out = vit->forward(images);
  EXPECT_LT(out.mean(std::vector<int64_t>{0, 1}).abs().max().item<float>(), 1e-5);
  EXPECT_NEAR(out.var(std::vector<int64_t>{0, 1}, /*unbiased=*/false).mean().item<float>(), 1.0f, 1e-3);
  // A vector added to every token at the end of the residual stream (here
  // through the last block's MLP bias: the collapse) changes nothing, where a
  // LayerNorm shrinks the content by it.
  auto last_bias = [](ViT& v) { return v->blocks->ptr<ViTBlockImpl>(0)->fc2->bias; };
  {
    torch::NoGradGuard ng;
    last_bias(vit).add_(torch::randn({16}) * 100);
  }
  EXPECT_TRUE(torch::allclose(vit->forward(images), out, 1e-3, 1e-3));
  ViT layer(16, 8, 16, 1, 2);
  {
    torch::NoGradGuard ng;
    last_bias(layer).add_(torch::randn({16}) * 100);
  }
  auto shrunk = layer->forward(images);
  auto content = (shrunk - shrunk.mean(std::vector<int64_t>{0, 1})).pow(2).mean().item<float>();
  EXPECT_LT(content, 0.05f);  // what the LayerNorm leaves of the image content
}

TEST(Model, InitGivesTheViTContentTheScaleOfItsPositions) {
  // MAE (Xavier) init of the patch embedding: a patch's content is not drowned
  // by the sin-cos table (at N(0, 0.02) it was ~4x weaker).
  MoEVLM m(tiny_config(), kVocab, kImage);
  torch::NoGradGuard ng;
  auto patches = torch::rand({64, 3 * 8 * 8}) * 2 - 1;
  auto content = m->vit->patch_embed(patches).std().item<float>();
  auto position = m->vit->pos_embed.std().item<float>();
  EXPECT_GT(content, 0.5f * position);
  EXPECT_LT(m->blocks[0]->as<DecoderBlock>()->attn->qkv->weight.std().item<float>(), 0.03f);  // decoder: GPT-2 init
}

TEST(VLM, ProjectorTagsFeedTheDenseHeadsPredictionsToTheProjector) {
  auto cfg = tiny_config();
  cfg.model.vision_classes = 3;
  cfg.model.vision_attributes = 2;
  auto in = prompt_with_image(1);
  torch::NoGradGuard ng;
  for (bool tags : {false, true}) {
    cfg.model.object_tags = tags ? "projector" : "none";
    torch::manual_seed(5);
    MoEVLM m(cfg, kVocab, kImage);
    m->eval();
    EXPECT_EQ(m->projector->fc1->weight.size(1), cfg.model.vit_width + (tags ? 3 + 2 + 4 : 0));
    auto before = m->forward(in).logits;
    m->vision_head->attribute->bias.add_(3.0);  // the head now predicts other attributes
    EXPECT_EQ(m->forward(in).logits.equal(before), !tags) << "tags " << tags;
  }
  cfg.model.vision_classes = cfg.model.vision_attributes = 0;
  EXPECT_THROW(cfg.validate(), smoes::Error);  // tags without a head
}

TEST(VLM, WordTagsAreTheProbabilityWeightedMeanEmbeddingsOfTheTagNames) {
  auto cfg = tiny_config();
  cfg.model.vision_classes = 2;
  cfg.model.vision_attributes = 1;
  cfg.model.object_tags = "words";
  torch::manual_seed(6);
  MoEVLM m(cfg, kVocab, kImage);
  EXPECT_THROW(m->tags->set_words({{5}, {6}}, kVocab), smoes::Error);                    // 2 names for 3 tags
  EXPECT_THROW(m->tags->set_words({{}, {6}, {7, 99}}, kVocab), smoes::Error);            // outside the vocabulary
  EXPECT_THROW(m->tags->set_words({{}, {6}, {7, 8, 9, 10, 11}}, kVocab), smoes::Error);  // too many pieces
  m->tags->set_words({{}, {6}, {7, 8}}, kVocab);  // background has no word; the attribute's name is 2 pieces
  torch::NoGradGuard ng;
  DenseHeadOutput head;
  head.classes = torch::tensor({0.0, std::log(3.0)}).view({1, 1, 2});  // p = 1/4 background, 3/4 class 1
  head.attributes = torch::zeros({1, 1, 1});                            // p = 1/2
  auto e = m->embed->weight;
  auto expected = 0.75 * e[6] + 0.5 * (e[7] + e[8]) / 2;
  EXPECT_TRUE(torch::allclose(m->tags->word_embeddings(head, m->embed->weight)[0][0], expected, 1e-5, 1e-6));
  // In the model: the head's predictions reach the logits through the words.
  m->eval();
  auto in = prompt_with_image(1);
  auto before = m->forward(in).logits;
  m->vision_head->attribute->bias.add_(3.0);
  EXPECT_FALSE(m->forward(in).logits.equal(before));
  cfg.model.object_tags = "none";
  MoEVLM plain(cfg, kVocab, kImage);
  EXPECT_FALSE(plain->tags);  // no tag words without "words"
}

TEST(VLM, BoxTagsAreEachCoordinatesExpectedLocationEmbeddingThroughItsRole) {
  auto cfg = tiny_config();
  cfg.model.vision_classes = 2;
  cfg.model.location_bins = 3;
  cfg.model.object_tags = "words_boxes";
  torch::manual_seed(7);
  MoEVLM m(cfg, kVocab, kImage);
  EXPECT_EQ(parameter_group("tags.box_roles"), "projector");
  for (int64_t c = 0; c < 4; ++c)  // orthogonal at init: the box arrives at the location embeddings' own norm
    EXPECT_TRUE(torch::allclose(torch::matmul(m->tags->box_roles[c], m->tags->box_roles[c].t()), torch::eye(32), 1e-4, 1e-5));
  DenseHeadOutput head;
  head.classes = torch::zeros({1, 1, 2});
  head.boxes = torch::randn({1, 1, 4, 3});
  EXPECT_THROW(m->tags->box_embeddings(head, m->embed->weight), smoes::Error);  // location ids not set yet
  EXPECT_THROW(m->tags->set_locations({10, 11}, kVocab), smoes::Error);      // 2 ids for 3 bins
  EXPECT_THROW(m->tags->set_locations({10, 11, 40}, kVocab), smoes::Error);  // outside the vocabulary
  m->tags->set_locations({10, 11, 12}, kVocab);
  m->tags->set_words({{}, {6}}, kVocab);
  torch::NoGradGuard ng;
  // Naive reference: one coordinate, one bin at a time.
  auto expected = torch::zeros({32});
  auto e = m->embed->weight;
  for (int64_t c = 0; c < 4; ++c) {
    auto p = head.boxes[0][0][c].softmax(0);
    for (int64_t b = 0; b < 3; ++b) expected += p[b] * torch::matmul(e[10 + b], m->tags->box_roles[c]);
  }
  EXPECT_TRUE(torch::allclose(m->tags->box_embeddings(head, m->embed->weight)[0][0], expected, 1e-5, 1e-6));
  // In the model: the head's box predictions reach the logits.
  m->eval();
  auto in = prompt_with_image(1);
  auto before = m->forward(in).logits;
  m->vision_head->box->bias.add_(torch::randn_like(m->vision_head->box->bias) * 3);
  EXPECT_FALSE(m->forward(in).logits.equal(before));
  cfg.model.object_tags = "words";
  MoEVLM words(cfg, kVocab, kImage);
  EXPECT_THROW(words->tags->set_locations({10, 11, 12}, kVocab), smoes::Error);  // no box tags without "words_boxes"
}

TEST(VLM, PointerMatchesTheBagOfPromptWordsToEveryVisualTokenAtUnitScale) {
  torch::manual_seed(3);
  MoEVLM m(pointer_config(), kVocab, kImage);
  torch::NoGradGuard no_grad;
  for (auto* w : {&m->pointer->query->weight, &m->pointer->key->weight}) w->normal_(0, 0.3);  // not the identity
  auto in = prompt_with_image(2);
  in.modality[1][3] = 0;  // row 1: its last slot is not visual here, so it joins the words and cannot be chosen
  auto embedded = m->forward(in).embedded;
  ASSERT_EQ(embedded.sizes(), (std::vector<int64_t>{2, 7, 32}));
  auto from = torch::tensor({int64_t(6), int64_t(5)});
  auto scores = m->pointer->logits(embedded, in.modality, in.modality.eq(0), from);
  auto unit = [](const torch::Tensor& v) { return v / v.pow(2).mean().sqrt(); };
  const std::vector<std::vector<int64_t>> words = {{4, 5, 6}, {3, 4, 5}};  // after the last visual token, up to from
  for (int64_t b = 0; b < 2; ++b) {
    auto bag = torch::zeros({32});
    for (int64_t t : words[size_t(b)]) bag += embedded[b][t] / double(words[size_t(b)].size());
    auto q = torch::mv(m->pointer->query->weight, unit(bag));
    for (int64_t s = 0; s < 7; ++s) {
      const double got = scores[b][s].item<double>();
      if (in.modality[b][s].item<int64_t>() != 1) {
        EXPECT_TRUE(std::isinf(got) && got < 0) << b << " " << s;
        continue;
      }
      auto k = torch::mv(m->pointer->key->weight, unit(embedded[b][s]));
      EXPECT_NEAR(got, q.dot(k).item<double>() / std::sqrt(32.0), 1e-4) << b << " " << s;
    }
  }
  EXPECT_THROW(m->pointer->logits(embedded, in.modality, in.modality.eq(0), torch::tensor({int64_t(7), int64_t(0)})), smoes::Error);
  MoEVLM plain(tiny_config(), kVocab, kImage);
  EXPECT_FALSE(plain->pointer);  // no pointer head
}

namespace {

MoEVLM readout_model() {
  auto cfg = pointer_config();
  cfg.model.pointer_readout = true;
  MoEVLM m(cfg, kVocab, kImage);
  torch::NoGradGuard no_grad;
  for (auto* w : {&m->pointer->query->weight, &m->pointer->key->weight, &m->pointer->value->weight}) w->normal_(0, 0.3);
  return m;
}

}  // namespace

TEST(VLM, PointerReadoutIsTheSoftmaxOverEarlierVisualTokensOfTheBagSinceTheLastImage) {
  torch::manual_seed(4);
  auto m = readout_model();
  torch::NoGradGuard no_grad;
  // Two images' worth of visual tokens with text between and after: the bag restarts at position 4.
  auto modality = torch::tensor(std::vector<int64_t>{1, 1, 0, 0, 1, 0, 0}).unsqueeze(0);
  auto valid = torch::ones({1, 7}, torch::kBool);
  valid[0][5] = false;  // a padded slot is neither a word nor a visual token
  auto x = torch::randn({1, 7, 32}) * 0.05;
  auto got = m->pointer->readout(x, modality, modality.eq(0), valid, nullptr)[0];
  auto unit = [](const torch::Tensor& v) { return v / v.pow(2).mean().sqrt(); };
  const std::map<int64_t, std::vector<int64_t>> bags = {{2, {2}}, {3, {2, 3}}, {6, {6}}};
  for (int64_t t = 0; t < 7; ++t) {
    if (!bags.count(t)) {
      EXPECT_TRUE(got[t].abs().max().item<double>() == 0) << t;  // visual or padding: nothing read
      continue;
    }
    auto bag = torch::zeros({32});
    for (int64_t w : bags.at(t)) bag += x[0][w] / double(bags.at(t).size());
    auto q = torch::mv(m->pointer->query->weight, unit(bag));
    std::vector<int64_t> visual;
    for (int64_t j = 0; j <= t; ++j)
      if (modality[0][j].item<int64_t>() == 1) visual.push_back(j);
    auto scores = torch::zeros({int64_t(visual.size())});
    for (size_t j = 0; j < visual.size(); ++j)
      scores[int64_t(j)] = q.dot(torch::mv(m->pointer->key->weight, unit(x[0][visual[j]]))) / std::sqrt(32.0);
    auto weights = scores.softmax(0);
    auto read = torch::zeros({32});
    for (size_t j = 0; j < visual.size(); ++j) read += weights[int64_t(j)] * unit(x[0][visual[j]]);
    EXPECT_TRUE(torch::allclose(got[t], torch::mv(m->pointer->value->weight, read), 1e-4, 1e-5)) << t;
  }
  auto no_image = torch::zeros({1, 7}, torch::kLong);
  EXPECT_EQ(m->pointer->readout(x, no_image, no_image.eq(0), valid, nullptr).abs().max().item<double>(), 0);  // nothing to read yet
}

TEST(Generate, KVCacheGreedyEqualsFullRecomputeWithThePointerReadout) {
  torch::manual_seed(5);
  auto m = readout_model();
  m->eval();
  auto in = prompt_with_image(1);
  auto reference = greedy_without_cache(m, in, 6);
  auto cached = greedy_generate(m, in, 6, kEos);
  EXPECT_EQ(cached[0], reference);
}

TEST(VLM, PointerReadoutStartsAsANoOp) {
  torch::manual_seed(6);
  auto cfg = pointer_config();
  MoEVLM plain(cfg, kVocab, kImage);
  cfg.model.pointer_readout = true;
  MoEVLM readout(cfg, kVocab, kImage);
  torch::NoGradGuard no_grad;
  auto from = plain->named_parameters();
  for (auto& p : readout->named_parameters())
    if (auto* t = from.find(p.key())) p.value().copy_(*t);
  auto buffers = plain->named_buffers();
  for (auto& b : readout->named_buffers())
    if (auto* t = buffers.find(b.key())) b.value().copy_(*t);
  plain->eval();
  readout->eval();
  auto in = prompt_with_image(2);
  EXPECT_TRUE(torch::equal(plain->forward(in).logits, readout->forward(in).logits));
}

TEST(VLM, PointerBagsOnlyTagNamesWhenTheModelHasWordTags) {
  auto cfg = pointer_config();
  cfg.model.vision_classes = 3;
  MoEVLM untagged(cfg, kVocab, kImage);
  cfg.model.object_tags = "words";
  MoEVLM tagged(cfg, kVocab, kImage);
  tagged->tags->set_words({{}, {10}, {11, 12}}, kVocab);  // background, then two names (one of two pieces)
  auto ids = torch::tensor(std::vector<int64_t>{kImage, kImage, kImage, kImage, 10, 13, 12}).unsqueeze(0);
  auto modality = ids.eq(kImage).to(torch::kLong);
  auto expect = [](const torch::Tensor& got, std::vector<int64_t> want) {
    EXPECT_TRUE(got.to(torch::kLong).equal(torch::tensor(want).unsqueeze(0))) << got;
  };
  expect(pointer_words(ids, modality, tagged->tags), {0, 0, 0, 0, 1, 0, 1});  // 13 names no tag
  expect(pointer_words(ids, modality, untagged->tags), {0, 0, 0, 0, 1, 1, 1});  // every text token
}

// smoes eval --set: inference-time fields change how the loaded model runs;
// a field that would change tensors is refused and the model is left alone.
TEST(InferenceOverrides, TopKChangesRoutingAndTensorFieldsAreRefused) {
  torch::manual_seed(4);
  MoEVLM model(tiny_config(), kVocab, kImage);
  model->eval();
  torch::NoGradGuard no_grad;
  auto in = prompt_with_image(2);
  auto before = model->forward(in);
  EXPECT_EQ(before.routing[0].decision.indices.size(1), 2);
  apply_inference_overrides(*model, {"moe.top_k=1", "moe.capacity_factor=1.5"});
  EXPECT_EQ(model->cfg.moe.top_k, 1);
  auto after = model->forward(in);
  for (const auto& r : after.routing) EXPECT_EQ(r.decision.indices.size(1), 1);
  // Layer 0 sees the same input: top-1 of the same logits is the old first choice.
  EXPECT_TRUE(after.routing[0].decision.indices.select(1, 0).equal(before.routing[0].decision.indices.select(1, 0)));
  EXPECT_NE(error_of([&] { apply_inference_overrides(*model, {"moe.num_experts=2"}); })
                .find("--set moe.num_experts: not an inference-time field"),
            std::string::npos);
  auto too_many = error_of([&] { apply_inference_overrides(*model, {"moe.top_k=5"}); });
  EXPECT_NE(too_many.find("--set: moe.top_k: top_k = 5 exceeds moe.num_experts = 4"), std::string::npos) << too_many;
  EXPECT_EQ(model->cfg.moe.top_k, 1);
  EXPECT_EQ(model->cfg.moe.num_experts, 4);
  EXPECT_TRUE(model->forward(in).logits.equal(after.logits));
}

// A forward with a KV cache is generation or scoring: no router loss is
// computed (they cost a dozen small ops a layer per decoded token), while
// the same forward without a cache still reports them.
TEST(VLM, CachedForwardsComputeNoRouterLosses) {
  torch::manual_seed(5);
  MoEVLM m(tiny_config(), kVocab, kImage);
  m->eval();
  torch::NoGradGuard ng;
  auto in = prompt_with_image(1);
  EXPECT_FALSE(m->forward(in).losses.empty());
  KVCache cache;
  auto cached = m->forward(in, &cache);
  EXPECT_TRUE(cached.losses.empty());
  EXPECT_EQ(cached.aux_loss.item<double>(), 0.0);
  EXPECT_FALSE(cached.routing.empty());
}
