#include "model/vlm.h"

#include <algorithm>

#include "core/error.h"
#include "moe/linear.h"
#include "moe/smoes.h"

namespace smoes::model {

DecoderBlockImpl::DecoderBlockImpl(const Config& cfg, int layer_, bool use_moe) : layer(layer_) {
  attn_norm = register_module("attn_norm", RMSNorm(cfg.model.d_model));
  attn = register_module("attn", SelfAttention(cfg.model.d_model, cfg.model.n_heads));
  ffn_norm = register_module("ffn_norm", RMSNorm(cfg.model.d_model));
  if (use_moe) {
    auto moe_cfg = cfg.moe;  // this layer's expert count (pruned models differ per layer)
    moe_cfg.num_experts = cfg.moe.experts_in(layer_ / cfg.model.moe_every);
    moe = register_module("moe", moe::MoELayer(moe_cfg, cfg.router, cfg.model.d_model,
                                               "layer " + std::to_string(layer) + " MoE"));
  } else {
    dense = register_module("dense", moe::SwiGLU(cfg.model.d_model, cfg.model.dense_ffn_hidden));
  }
}

BlockOutput DecoderBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& soft, const BlockContext& ctx,
                                      LayerKV* cache) {
  BlockOutput out;
  auto a = attn->forward(attn_norm(x), ctx.bias, &ctx.rope, cache, ctx.want_attention || soft.defined());
  if (ctx.want_attention) out.attention_probs = a.probs;
  if (soft.defined()) {
    // The keys' scores: this step's tokens after those of the cached past.
    auto key_soft = (cache && cache->soft.defined()) ? torch::cat({cache->soft, soft}, 1) : soft;
    if (cache) cache->soft = key_soft;
    out.soft_modality = moe::propagate_soft_modality(a.probs, key_soft, soft, x, a.out);
  }
  auto h = x + a.out;
  if (!moe) {
    out.x = h + dense(ffn_norm(h));
    return out;
  }
  auto m = moe->forward(ffn_norm(h), ctx.modality, out.soft_modality, ctx.valid, ctx.want_losses);
  out.x = h + m.y;
  out.aux_loss = m.aux_loss;
  out.losses = std::move(m.losses);
  out.routing = LayerRouting{layer,           std::move(m.decision), std::move(m.modality),
                             std::move(m.soft_modality), std::move(m.executed), m.dropped_slots,
                             m.skipped_slots, m.total_slots};
  return out;
}

MoEVLMImpl::MoEVLMImpl(const Config& cfg_, int64_t vocab, int64_t image_token)
    : cfg(cfg_),
      vocab_size(vocab),
      image_token_id(image_token),
      rope(cfg_.model.d_model / cfg_.model.n_heads, cfg_.model.max_seq_len, cfg_.model.rope_theta) {
  cfg.validate();
  if (image_token_id < 0 || image_token_id >= vocab_size)
    throw Error("model: image token id " + std::to_string(image_token_id) + " outside vocabulary of " +
                std::to_string(vocab_size));
  const auto& m = cfg.model;
  embed = register_module("embed", torch::nn::Embedding(vocab_size, m.d_model));
  vit = register_module("vit", ViT(m.image_size, m.patch_size, m.vit_width, m.vit_layers, m.vit_heads, m.vit_norm == "batch"));
  const int64_t tag_width = m.object_tags == "projector" ? object_tag_width(m.vision_classes, m.vision_attributes) : 0;
  projector = register_module("projector", Projector(m.vit_width + tag_width, m.d_model, m.projector_norm == "batch"));
  if (m.object_tags == "words" || m.object_tags == "words_boxes") tags = register_module("tags", ObjectTags(m));
  if (m.vision_classes > 0)
    vision_head = register_module(
        "vision_head", DenseHead(m.vit_width, m.vision_classes, m.location_bins, m.vision_attributes));
  if (m.box_pointer) pointer = register_module("pointer", BoxPointer(m.d_model, m.pointer_readout));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < m.n_layers; ++i)
    blocks->push_back(DecoderBlock(cfg, i, cfg.moe.enabled && m.is_moe_layer(i)));
  final_norm = register_module("final_norm", RMSNorm(m.d_model));
  // GPT-2 style small init keeps the decoder's early logits calm. The ViT keeps
  // its own (MAE) init: at N(0, 0.02) its patch embedding was 4x weaker than
  // the position table, and the image content drowned before training began.
  // box_roles draws first, as it did when it was the model's own parameter
  // (those come before any submodule's), so a seed still gives the same model.
  auto params = named_parameters().items();
  std::stable_partition(params.begin(), params.end(), [](const auto& p) { return p.key() == "tags.box_roles"; });
  for (auto& p : params)
    if (p.key().rfind("vit.", 0) != 0 && p.key().find("norm") == std::string::npos && p.value().dim() >= 2)
      torch::nn::init::normal_(p.value(), 0.0, 0.02);
  if (tags) tags->reset_parameters();
  if (pointer) pointer->reset_parameters();
}

bool MoEVLMImpl::tracks_soft_modality() const {
  return cfg.moe.enabled && cfg.router.name == "smoes" && cfg.router.soft_scores == "attention";
}

torch::Tensor MoEVLMImpl::see(const torch::Tensor& images) {
  // A blind baseline sees blank images: same tokens and compute, no visual information.
  return vit(cfg.model.blind ? torch::zeros_like(images) : images);
}

VisualTokens MoEVLMImpl::encode_images(const torch::Tensor& images) {
  VisualTokens v;
  v.patches = see(images);
  if (cfg.model.object_tags == "projector") {
    v.projected = projector(torch::cat({v.patches, object_tags(vision_head(v.patches))}, -1));
    return v;
  }
  v.projected = projector(v.patches);
  if (tags) v.tags = tags(vision_head(v.patches), embed->weight);
  return v;
}

torch::Tensor MoEVLMImpl::embed_tokens(const VLMInput& in) {
  auto x = embed(in.input_ids.clamp(0, vocab_size - 1));
  auto slots = in.input_ids.eq(image_token_id);
  if (!in.images.defined()) return x;
  auto vis = encode_images(in.images).tokens();
  vis = vis.reshape({-1, x.size(-1)});  // [N*P, d]
  if (slots.sum().item<int64_t>() != vis.size(0))
    throw Error("model: " + std::to_string(slots.sum().item<int64_t>()) + " image slots in the batch but " +
                std::to_string(in.images.size(0)) + " images x " + std::to_string(image_tokens()) + " tokens");
  // masked_scatter fills slots in row-major order: image i's patches land in the i-th run of slots.
  return x.masked_scatter(slots.unsqueeze(-1), vis.to(x.dtype()));
}

namespace {

// What one forward executed: per real token, attention over the keys it
// sees, the dense FFN or the router plus the expert slots that ran (from the
// routing, so skipped and dropped slots count nothing), and the LM head rows
// computed; the ViT and projector per image.
void count_executed(ExecutedFlops& meter, const Config& cfg, int64_t vocab, const torch::Tensor& modality,
                    const torch::Tensor& valid, const torch::Tensor& key_valid, int64_t past,
                    const torch::Tensor& logit_rows, const std::vector<LayerRouting>& routing, int64_t images) {
  const int phase = past > 0 ? ExecutedFlops::decode : ExecutedFlops::prefill;
  const double d = cfg.model.d_model, ffn = 2.0 * 3 * d * cfg.moe.ffn_hidden;
  const double dense_layers = double(cfg.model.n_layers) - double(routing.size());
  auto seen = key_valid.to(torch::kDouble).cumsum(1).narrow(1, past, valid.size(1));  // keys each query attends
  for (int m = 0; m < 2; ++m) {
    auto mine = valid & modality.eq(m);
    const double n = mine.sum().item<double>(), keys = seen.masked_select(mine).sum().item<double>();
    auto* f = meter.flops[phase][m];
    meter.tokens[phase][m] += n;
    f[ExecutedFlops::attention] += cfg.model.n_layers * (2.0 * 4 * d * d * n + 2.0 * 2 * d * keys);
    f[ExecutedFlops::dense_ffn] += dense_layers * 2.0 * 3 * d * cfg.model.dense_ffn_hidden * n;
    for (const auto& r : routing) {
      auto rows = r.modality.eq(m);
      f[ExecutedFlops::router] += 2.0 * d * r.decision.probs.size(1) * rows.sum().item<double>();
      f[ExecutedFlops::experts] += ffn * r.executed.index({rows}).sum().item<double>();
      f[ExecutedFlops::shared_experts] += ffn * cfg.moe.shared_experts * rows.sum().item<double>();
    }
    f[ExecutedFlops::lm_head] += 2.0 * d * vocab * (logit_rows & mine).sum().item<double>();
  }
  meter.flops[phase][1][ExecutedFlops::vision_encoder] += images * vision_flops_per_image(cfg.model);
  meter.images += images;
}

}  // namespace

VLMOutput MoEVLMImpl::forward(const VLMInput& in, KVCache* cache, bool want_attention) {
  const int64_t b = in.input_ids.size(0), s = in.input_ids.size(1);
  if (in.modality.defined() && in.modality.sizes() != in.input_ids.sizes())
    throw Error("model: modality ids " + c10::str(in.modality.sizes()) + " do not match input ids " +
                c10::str(in.input_ids.sizes()));
  auto valid = in.attention_mask.defined() ? in.attention_mask.to(torch::kBool)
                                           : torch::ones({b, s}, torch::kBool);
  const int64_t past = cache ? cache->length() : 0;
  // Positions count real tokens only, so left-padded prompts start at 0.
  auto start = (cache && cache->next_position.defined()) ? cache->next_position : torch::zeros({b}, torch::kLong);
  auto positions = (start.unsqueeze(1) + valid.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
  if (positions.max().item<int64_t>() >= rope.max_positions())
    throw Error("model: sequence longer than model.max_seq_len = " + std::to_string(rope.max_positions()));
  auto key_valid = (cache && cache->key_valid.defined()) ? torch::cat({cache->key_valid, valid}, 1) : valid;
  auto bias = causal_bias(past, s, key_valid, b);
  if (cache) {
    if (cache->layers.empty()) cache->layers.resize(blocks->size());
    cache->key_valid = key_valid;
    cache->next_position = positions.select(1, s - 1) + 1;
  }

  VLMOutput out;
  out.aux_loss = torch::zeros({});
  auto x = embed_tokens(in);
  out.embedded = x;
  auto modality = in.modality.defined() ? in.modality : torch::zeros({b, s}, torch::kLong);
  // A KV cache means generation or scoring, which read no router loss.
  const BlockContext ctx{modality, valid, bias, rope.angles(positions), want_attention, !cache || is_training()};
  // SMoES's attention-propagated scores start as the hard labels (METHOD.md section 3).
  auto soft = tracks_soft_modality() ? moe::hard_soft_modality(modality) : torch::Tensor();
  for (size_t i = 0; i < blocks->size(); ++i) {
    auto block = blocks[i]->as<DecoderBlock>()->forward(x, soft, ctx, cache ? &cache->layers[i] : nullptr);
    x = block.x;
    soft = block.soft_modality;
    if (want_attention) out.attention_probs.push_back(block.attention_probs);
    if (!block.routing) continue;
    out.aux_loss = out.aux_loss + block.aux_loss;
    for (auto& [name, value] : block.losses)
      out.losses[name] = out.losses.count(name) ? out.losses[name] + value : value;
    out.routing.push_back(std::move(*block.routing));
  }
  auto h = final_norm(x);
  // The readout joins at the output, next to the tied embeddings: a tag word
  // it carries ("red") can reach its own logit without passing every layer.
  if (pointer && pointer->value)
    h = h + pointer->readout(out.embedded, modality, pointer_words(in.input_ids, modality, tags), valid,
                             cache ? &cache->pointer : nullptr);
  if (in.logits_at.defined()) {
    if (in.logits_at.sizes() != in.input_ids.sizes() || in.logits_at.scalar_type() != torch::kBool)
      throw Error("model: logits_at must be a bool mask shaped like the input ids " + c10::str(in.input_ids.sizes()));
    h = h.index({in.logits_at});  // [M, d], row-major
  }
  auto logit_sizes = h.sizes().vec();
  logit_sizes.back() = vocab_size;
  // tied input/output embeddings
  out.logits = moe::linear(h.reshape({-1, h.size(-1)}), embed->weight).view(logit_sizes);
  if (flop_meter)
    count_executed(*flop_meter, cfg, vocab_size, modality, valid, key_valid, past,
                   in.logits_at.defined() ? in.logits_at : torch::ones_like(valid), out.routing,
                   in.images.defined() ? in.images.size(0) : 0);
  return out;
}

VLMOutput MoEVLMImpl::forward_loss(VLMInput in, const torch::Tensor& labels, bool per_sequence,
                                   bool want_attention) {
  if (labels.sizes() != in.input_ids.sizes())
    throw Error("model: labels " + c10::str(labels.sizes()) + " do not match input ids " + c10::str(in.input_ids.sizes()));
  in.logits_at = labels.ne(-100);
  auto out = forward(in, nullptr, want_attention);
  auto targets = labels.index({in.logits_at});
  if (!per_sequence) {
    out.loss = answer_loss(out.logits, targets);
    return out;
  }
  auto per_token = torch::nn::functional::cross_entropy(
      out.logits, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  auto counts = in.logits_at.sum(1);                                     // [B] labels per sequence
  auto row = in.logits_at.nonzero().select(1, 0);                        // [M] sequence of each label
  auto weight = counts.index_select(0, row).to(per_token.dtype()).reciprocal();
  out.loss = (per_token * weight).sum() / counts.gt(0).sum().to(per_token.dtype());
  return out;
}

std::string parameter_group(const std::string& name) {
  auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (name.rfind("vit.", 0) == 0) return "encoder";
  if (name.rfind("projector.", 0) == 0 || name == "tags.box_roles") return "projector";
  if (name.rfind("vision_head.", 0) == 0) return "vision_head";
  if (name.rfind("pointer.", 0) == 0) return "pointer";
  if (name.rfind("embed.", 0) == 0) return "embeddings";
  if (has(".attn.")) return "attention";
  if (has("norm")) return "norms";
  if (has(".moe.router.")) return "routers";
  if (has(".moe.")) return "experts";  // routed and shared experts
  if (has(".dense.")) return "dense_ffn";
  throw Error("parameter_group: no group for parameter '" + name + "'");
}

torch::Tensor answer_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

}  // namespace smoes::model
