#include "model/vlm.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace smoes::model {

namespace {

// Unit RMS per vector: the pointer's scores start as sqrt(d) x cosine whatever
// the states' scale (at the embeddings' N(0, 0.02) they start near 0 and learn slowly).
torch::Tensor unit_rms(const torch::Tensor& v) { return v * torch::rsqrt(v.pow(2).mean(-1, /*keepdim=*/true) + 1e-12); }

}  // namespace

DecoderBlockImpl::DecoderBlockImpl(const Config& cfg, int layer_, bool use_moe) : layer(layer_) {
  attn_norm = register_module("attn_norm", RMSNorm(cfg.model.d_model));
  attn = register_module("attn", SelfAttention(cfg.model.d_model, cfg.model.n_heads));
  ffn_norm = register_module("ffn_norm", RMSNorm(cfg.model.d_model));
  if (use_moe)
    moe = register_module("moe", moe::MoELayer(cfg.moe, cfg.router, cfg.model.d_model,
                                               "layer " + std::to_string(layer) + " MoE"));
  else
    dense = register_module("dense", moe::SwiGLU(cfg.model.d_model, cfg.model.dense_ffn_hidden));
}

torch::Tensor DecoderBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& modality,
                                        const torch::Tensor& valid, const torch::Tensor& bias, const RoPE& rope,
                                        const torch::Tensor& positions, LayerKV* cache, VLMOutput& out,
                                        bool want_attention) {
  auto a = attn->forward(attn_norm(x), bias, &rope, positions, cache, want_attention);
  if (want_attention) out.attention_probs.push_back(a.probs);
  auto h = x + a.out;
  if (!moe) return h + dense(ffn_norm(h));
  auto m = moe->forward(ffn_norm(h), modality, /*soft_modality=*/{}, valid);
  out.aux_loss = out.aux_loss + m.aux_loss;
  for (auto& [name, value] : m.losses)
    out.losses[name] = out.losses.count(name) ? out.losses[name] + value : value;
  out.routing.push_back({layer, std::move(m.decision), std::move(m.modality), m.dropped_slots, m.total_slots});
  return h + m.y;
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
  const int64_t tags = m.object_tags == "projector" ? object_tag_width(m.vision_classes, m.vision_attributes) : 0;
  projector = register_module("projector", Projector(m.vit_width + tags, m.d_model, m.projector_norm == "batch"));
  if (m.object_tags == "words" || m.object_tags == "words_boxes")
    tag_words = register_buffer("tag_words",
                                torch::full({m.vision_classes + m.vision_attributes, kMaxTagPieces}, -1, torch::kLong));
  if (m.object_tags == "words_boxes") {
    tag_locations = register_buffer("tag_locations", torch::full({m.location_bins}, -1, torch::kLong));
    box_roles = register_parameter("box_roles", torch::empty({4, m.d_model, m.d_model}));
  }
  if (m.vision_classes > 0)
    vision_head = register_module(
        "vision_head", DenseHead(m.vit_width, m.vision_classes, m.location_bins, m.vision_attributes));
  if (m.box_pointer) {
    auto no_bias = torch::nn::LinearOptions(m.d_model, m.d_model).bias(false);
    pointer_query = register_module("pointer_query", torch::nn::Linear(no_bias));
    pointer_key = register_module("pointer_key", torch::nn::Linear(no_bias));
    if (m.pointer_readout) pointer_value = register_module("pointer_value", torch::nn::Linear(no_bias));
  }
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < m.n_layers; ++i)
    blocks->push_back(DecoderBlock(cfg, i, cfg.moe.enabled && (i % m.moe_every == m.moe_every - 1)));
  final_norm = register_module("final_norm", RMSNorm(m.d_model));
  // GPT-2 style small init keeps the decoder's early logits calm. The ViT keeps
  // its own (MAE) init: at N(0, 0.02) its patch embedding was 4x weaker than
  // the position table, and the image content drowned before training began.
  for (auto& p : named_parameters())
    if (p.key().rfind("vit.", 0) != 0 && p.key().find("norm") == std::string::npos && p.value().dim() >= 2)
      torch::nn::init::normal_(p.value(), 0.0, 0.02);
  // Orthogonal roles keep each coordinate's location embedding at its own
  // norm, so the box reaches the decoder as strongly as the words do.
  if (box_roles.defined())
    for (int64_t c = 0; c < 4; ++c) torch::nn::init::orthogonal_(box_roles[c]);
  // The pointer starts as the plain cosine match of words and tags.
  if (pointer_query) {
    torch::NoGradGuard no_grad;
    torch::nn::init::eye_(pointer_query->weight);
    torch::nn::init::eye_(pointer_key->weight);
    if (pointer_value) torch::nn::init::zeros_(pointer_value->weight);  // the readout starts as a no-op
  }
}

torch::Tensor MoEVLMImpl::see(const torch::Tensor& images) {
  // A blind baseline sees blank images: same tokens and compute, no visual information.
  return vit(cfg.model.blind ? torch::zeros_like(images) : images);
}

VisualTokens MoEVLMImpl::encode_images(const torch::Tensor& images) {
  VisualTokens v;
  v.patches = see(images);
  const auto& tags = cfg.model.object_tags;
  if (tags == "projector") {
    v.projected = projector(torch::cat({v.patches, object_tags(vision_head(v.patches))}, -1));
    return v;
  }
  v.projected = projector(v.patches);
  if (tags == "words" || tags == "words_boxes") {
    auto head = vision_head(v.patches);
    v.tags = tag_word_embeddings(head);
    if (tags == "words_boxes") v.tags = v.tags + tag_box_embeddings(head);
  }
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

void MoEVLMImpl::set_tag_words(const std::vector<std::vector<int>>& pieces) {
  if (!tag_words.defined()) throw Error("model: tag words need model.object_tags = words or words_boxes");
  if (int64_t(pieces.size()) != tag_words.size(0))
    throw Error("model: " + std::to_string(pieces.size()) + " tag names for a dense head of " +
                std::to_string(tag_words.size(0)) + " classes + attributes");
  torch::NoGradGuard no_grad;
  tag_words.fill_(-1);
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (int64_t(pieces[i].size()) > kMaxTagPieces)
      throw Error("model: tag " + std::to_string(i) + " is " + std::to_string(pieces[i].size()) +
                  " token pieces; at most " + std::to_string(kMaxTagPieces) + " fit");
    for (size_t j = 0; j < pieces[i].size(); ++j) {
      if (pieces[i][j] < 0 || pieces[i][j] >= vocab_size)
        throw Error("model: tag " + std::to_string(i) + " has token id " + std::to_string(pieces[i][j]) +
                    " outside the vocabulary of " + std::to_string(vocab_size));
      tag_words[int64_t(i)][int64_t(j)] = pieces[i][j];
    }
  }
}

torch::Tensor MoEVLMImpl::tag_word_embeddings(const DenseHeadOutput& head) {
  // A tag's word is the mean embedding of its name's pieces; no pieces, no word.
  auto valid = tag_words.ge(0);
  auto pieces = embed(tag_words.clamp_min(0)) * valid.unsqueeze(-1);  // [T, K, d]
  auto words = pieces.sum(1) / valid.sum(1, /*keepdim=*/true).clamp_min(1);  // [T, d]
  std::vector<torch::Tensor> probs = {head.classes.softmax(-1)};
  if (head.attributes.defined()) probs.push_back(head.attributes.sigmoid());
  return torch::matmul(torch::cat(probs, -1), words);
}

void MoEVLMImpl::set_tag_locations(const std::vector<int>& ids) {
  if (!tag_locations.defined()) throw Error("model: tag locations need model.object_tags = words_boxes");
  if (int64_t(ids.size()) != tag_locations.size(0))
    throw Error("model: " + std::to_string(ids.size()) + " location tokens for a dense head of " +
                std::to_string(tag_locations.size(0)) + " box bins");
  for (int id : ids)
    if (id < 0 || id >= vocab_size)
      throw Error("model: location token id " + std::to_string(id) + " outside the vocabulary of " +
                  std::to_string(vocab_size));
  torch::NoGradGuard no_grad;
  tag_locations.copy_(torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())));
}

torch::Tensor MoEVLMImpl::tag_box_embeddings(const DenseHeadOutput& head) {
  if (tag_locations.lt(0).any().item<bool>()) throw Error("model: words_boxes tags before set_tag_locations");
  auto per_coordinate = torch::matmul(head.boxes.softmax(-1), embed(tag_locations));  // [N, P, 4, d]
  return torch::einsum("npcd,cde->npe", {per_coordinate, box_roles});
}

torch::Tensor MoEVLMImpl::pointer_words(const torch::Tensor& input_ids, const torch::Tensor& modality) {
  auto text = modality.eq(0);
  if (!tag_words.defined()) return text;
  auto names = tag_words.flatten();
  names = names.index({names.ge(0)});
  return text.logical_and(input_ids.unsqueeze(-1).eq(names).any(-1));
}

torch::Tensor MoEVLMImpl::pointer_logits(const torch::Tensor& embedded, const torch::Tensor& modality,
                                         const torch::Tensor& words, const torch::Tensor& from) {
  if (!pointer_query) throw Error("model: pointer logits need model.box_pointer = true");
  if (embedded.dim() != 3 || modality.sizes() != embedded.sizes().slice(0, 2) || words.sizes() != modality.sizes() ||
      from.dim() != 1 || from.size(0) != embedded.size(0))
    throw Error("model: pointer over states " + c10::str(embedded.sizes()) + ", modality " +
                c10::str(modality.sizes()) + " and query positions " + c10::str(from.sizes()) + " that do not fit");
  if (from.numel() > 0 && (from.min().item<int64_t>() < 0 || from.max().item<int64_t>() >= embedded.size(1)))
    throw Error("model: pointer query position outside the sequence of " + std::to_string(embedded.size(1)));
  // The decoder's input, not its output: there each word is its own embedding
  // and each visual token carries its tags, so the match is lexical and fast
  // to learn (docs/RESULTS.md, "Box pointer": final states stayed near 0.3).
  auto at = torch::arange(embedded.size(1), from.options()).unsqueeze(0);         // [1, S]
  auto last_visual = (at * modality.eq(1)).amax(1, /*keepdim=*/true);            // [B, 1]
  auto text = words.logical_and(at.gt(last_visual)).logical_and(at.le(from.unsqueeze(1))).to(embedded.dtype());
  auto bag = torch::einsum("bs,bsd->bd", {text, embedded}) / text.sum(1, /*keepdim=*/true).clamp_min(1);
  auto q = pointer_query(unit_rms(bag));                                            // [B, d]
  auto scores = torch::einsum("bd,bsd->bs", {q, pointer_key(unit_rms(embedded))}) / std::sqrt(double(embedded.size(-1)));
  return scores.masked_fill(modality.ne(1), -std::numeric_limits<double>::infinity());
}

torch::Tensor MoEVLMImpl::pointer_readout(const torch::Tensor& x, const torch::Tensor& modality,
                                          const torch::Tensor& words, const torch::Tensor& valid, KVCache* cache) {
  const int64_t b = x.size(0), s = x.size(1), d = x.size(2);
  auto vis = modality.eq(1).logical_and(valid);
  auto text = modality.eq(0).logical_and(valid).to(x.dtype());
  auto bagged = words.logical_and(valid).to(x.dtype());
  // The bag of text since the last visual token: running sums that restart at
  // each visual token, or continue the cache's when none came in this chunk.
  auto sums = (x * bagged.unsqueeze(-1)).cumsum(1);                                // [B, s, d]
  auto counts = bagged.cumsum(1);                                                  // [B, s]
  auto at = torch::arange(s, modality.options()).unsqueeze(0).expand({b, s});
  auto seen_visual = std::get<0>(vis.to(torch::kLong).cummax(1)).to(torch::kBool);      // a visual token at or before t
  auto last = std::get<0>((at * vis).cummax(1));                                   // ... at this position
  auto carry_sum = (cache && cache->pointer_bag.defined()) ? cache->pointer_bag : torch::zeros({b, d}, x.options());
  auto carry_count = (cache && cache->pointer_bag.defined()) ? cache->pointer_bag_count : torch::zeros({b}, x.options());
  auto bag_sum = torch::where(seen_visual.unsqueeze(-1), sums - sums.gather(1, last.unsqueeze(-1).expand({b, s, d})),
                              sums + carry_sum.unsqueeze(1));
  auto bag_count = torch::where(seen_visual, counts - counts.gather(1, last), counts + carry_count.unsqueeze(1));
  // Keys and values of every position so far; only visual ones can be read.
  auto keys = pointer_key(unit_rms(x)), values = unit_rms(x), key_visual = vis;
  if (cache) {
    if (cache->pointer_keys.defined()) {
      keys = torch::cat({cache->pointer_keys, keys}, 1);
      values = torch::cat({cache->pointer_values, values}, 1);
      key_visual = torch::cat({cache->pointer_visual, key_visual}, 1);
    }
    cache->pointer_keys = keys;
    cache->pointer_values = values;
    cache->pointer_visual = key_visual;
    cache->pointer_bag = bag_sum.select(1, s - 1);
    cache->pointer_bag_count = bag_count.select(1, s - 1);
  }
  const int64_t past = keys.size(1) - s;
  auto q = pointer_query(unit_rms(bag_sum / bag_count.clamp_min(1).unsqueeze(-1)));  // [B, s, d]
  auto scores = torch::einsum("bsd,btd->bst", {q, keys}) / std::sqrt(double(d));
  auto key_at = torch::arange(keys.size(1), modality.options()).unsqueeze(0);
  auto causal = key_at.le(torch::arange(s, modality.options()).unsqueeze(1) + past);  // [s, T]
  auto allowed = key_visual.unsqueeze(1).logical_and(causal.unsqueeze(0));          // [B, s, T]
  // A finite fill keeps a row with no visual token yet free of NaN; `any` then zeroes it.
  auto probs = scores.masked_fill(allowed.logical_not(), -1e9).softmax(-1) * allowed.any(-1, /*keepdim=*/true);
  return pointer_value(torch::matmul(probs, values)) * text.unsqueeze(-1);
}

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
  for (size_t i = 0; i < blocks->size(); ++i)
    x = blocks[i]->as<DecoderBlock>()->forward(x, modality, valid, bias, rope, positions,
                                               cache ? &cache->layers[i] : nullptr, out, want_attention);
  auto h = final_norm(x);
  // The readout joins at the output, next to the tied embeddings: a tag word
  // it carries ("red") can reach its own logit without passing every layer.
  if (pointer_value) h = h + pointer_readout(out.embedded, modality, pointer_words(in.input_ids, modality), valid, cache);
  if (in.logits_at.defined()) {
    if (in.logits_at.sizes() != in.input_ids.sizes() || in.logits_at.scalar_type() != torch::kBool)
      throw Error("model: logits_at must be a bool mask shaped like the input ids " + c10::str(in.input_ids.sizes()));
    h = h.index({in.logits_at});  // [M, d], row-major
  }
  out.logits = torch::matmul(h, embed->weight.t());  // tied input/output embeddings
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
  if (name.rfind("projector.", 0) == 0 || name == "box_roles") return "projector";
  if (name.rfind("vision_head.", 0) == 0) return "vision_head";
  if (name.rfind("pointer_", 0) == 0) return "pointer";
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
