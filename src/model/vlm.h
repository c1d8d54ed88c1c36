// The LLaVA-style MoE vision-language model: ViT -> projector -> decoder
// (RMSNorm, RoPE, causal attention with KV cache, MoE or dense FFNs).
// Visual tokens take the place of the `<image>` slots in the token sequence,
// and every token carries a modality id (text 0, vision 1).
#pragma once
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "model/attention.h"
#include "model/box_pointer.h"
#include "model/dense_head.h"
#include "model/flops.h"
#include "model/norm.h"
#include "model/object_tags.h"
#include "model/rope.h"
#include "moe/moe_layer.h"
#include "model/vision.h"

namespace smoes::model {

struct VLMInput {
  torch::Tensor input_ids;       // [B, S] int64; image slots hold image_token_id
  torch::Tensor modality;        // [B, S] int64: 0 text, 1 vision
  torch::Tensor attention_mask;  // [B, S] bool: true for real tokens (undefined = all)
  torch::Tensor images;          // [N, 3, H, W]: one per run of image slots, in order
  // [B, S] bool: the positions whose logits are needed (undefined = all).
  // Training passes its labelled positions: most of a VLM batch is visual
  // tokens and prompt, and their vocabulary projection would be thrown away.
  torch::Tensor logits_at;
};

// Generation state: keys/values per layer plus what the next token needs.
struct KVCache {
  std::vector<LayerKV> layers;
  torch::Tensor key_valid;      // [B, S_past] bool
  torch::Tensor next_position;  // [B] int64
  PointerCache pointer;         // model.pointer_readout
  int64_t length() const { return layers.empty() ? 0 : layers[0].length(); }
};

// One MoE layer's routing in a forward pass (for statistics and analysis).
struct LayerRouting {
  int layer = 0;
  moe::RoutingDecision decision;  // over the routed tokens: the valid ones of the B*S, in order (no padding)
  torch::Tensor modality;         // [T_routed] their hard labels
  torch::Tensor soft_modality;    // [T_routed, 2] the (text, vision) soft score the router used (smoes), else undefined
  torch::Tensor executed;         // [T_routed, k] bool: slots that ran (not dropped by capacity, not skipped)
  int64_t dropped_slots = 0, skipped_slots = 0, total_slots = 0;
};

struct VLMOutput {
  torch::Tensor logits;                          // [B, S, V], or [M, V] for the M positions of logits_at
  torch::Tensor loss;                            // answer loss, from forward_loss only
  torch::Tensor aux_loss;                        // weighted sum of all MoE auxiliary losses
  std::map<std::string, torch::Tensor> losses;   // each auxiliary loss, summed over layers
  std::vector<torch::Tensor> attention_probs;    // per decoder layer [B, S, S_keys], if asked
  torch::Tensor embedded;                        // [B, S, d] the decoder's input: token embeddings and visual tokens
  std::vector<LayerRouting> routing;             // per MoE layer
};

// What every decoder block of one forward pass shares.
struct BlockContext {
  torch::Tensor modality;   // [B, S] hard labels
  torch::Tensor valid;      // [B, S] bool, real tokens
  torch::Tensor bias;       // causal attention bias
  RoPEAngles rope;          // at each token's position
  bool want_attention = false;
  bool want_losses = true;  // router losses (not while generating)
};

// One block's result: its output, what its MoE layer decided and added to
// the loss, and the soft modality scores it hands to the next block.
struct BlockOutput {
  torch::Tensor x;                   // [B, S, d]
  torch::Tensor soft_modality;       // [B, S, 2] attention-propagated scores after this block, if tracked
  torch::Tensor attention_probs;     // [B, S, S_keys] head-averaged, if asked
  torch::Tensor aux_loss;            // weighted auxiliary losses of its MoE layer (undefined without one)
  std::map<std::string, torch::Tensor> losses;
  std::optional<LayerRouting> routing;  // set when the block has an MoE layer
};

struct DecoderBlockImpl : torch::nn::Module {
  DecoderBlockImpl(const Config& cfg, int layer, bool use_moe);
  // soft_modality: [B, S, 2] the tokens' attention-propagated scores entering
  // this block (SMoES with router.soft_scores = attention), else undefined.
  BlockOutput forward(const torch::Tensor& x, const torch::Tensor& soft_modality, const BlockContext& ctx,
                      LayerKV* cache);

  int layer;
  RMSNorm attn_norm{nullptr}, ffn_norm{nullptr};
  SelfAttention attn{nullptr};
  moe::SwiGLU dense{nullptr};  // exactly one of dense / moe is set
  moe::MoELayer moe{nullptr};
};
TORCH_MODULE(DecoderBlock);

// What the model makes of a batch of images, before the decoder.
struct VisualTokens {
  torch::Tensor patches;    // [N, P, vit_width] ViT features
  torch::Tensor projected;  // [N, P, d] the projector's output
  torch::Tensor tags;       // [N, P, d] word/box tag embeddings added to it (model.object_tags words*), else undefined
  torch::Tensor tokens() const { return tags.defined() ? projected + tags : projected; }
};

struct MoEVLMImpl : torch::nn::Module {
  MoEVLMImpl(const Config& cfg, int64_t vocab_size, int64_t image_token_id);

  VLMOutput forward(const VLMInput& in, KVCache* cache = nullptr, bool want_attention = false);
  // forward() with logits only at the labelled positions (label != -100);
  // out.loss is their next-token cross-entropy, averaged over all of them
  // (as answer_loss) or, per_sequence, first within each sequence and then
  // over the sequences that have labels.
  VLMOutput forward_loss(VLMInput in, const torch::Tensor& labels, bool per_sequence = false,
                         bool want_attention = false);
  // The decoder's input for `in`: token embeddings with the visual tokens in
  // the image slots (VLMOutput::embedded, without running the decoder).
  torch::Tensor embed_tokens(const VLMInput& in);
  // The one path from pixels into the model: ViT features of `images`
  // [N, 3, H, W] (blank ones when model.blind, so a blind model or a
  // --blank-images eval reads no pixel anywhere).
  torch::Tensor see(const torch::Tensor& images);
  // see(), then the projector and any tags: the visual tokens the decoder reads.
  VisualTokens encode_images(const torch::Tensor& images);
  // Whether the decoder propagates SMoES attention-based modality scores.
  bool tracks_soft_modality() const;
  // Visual tokens per image (= ViT patches).
  int64_t image_tokens() const { return vit->num_patches(); }
  // When set, every forward adds the FLOPs it executed (model/flops.h).
  ExecutedFlops* flop_meter = nullptr;
  Config cfg;
  int64_t vocab_size, image_token_id;
  torch::nn::Embedding embed{nullptr};
  ViT vit{nullptr};
  Projector projector{nullptr};
  DenseHead vision_head{nullptr};  // only with model.vision_classes > 0 (train.stage = vision)
  ObjectTags tags{nullptr};        // only with model.object_tags = words / words_boxes
  BoxPointer pointer{nullptr};     // only with model.box_pointer
  torch::nn::ModuleList blocks;
  RMSNorm final_norm{nullptr};
  RoPE rope;
};
TORCH_MODULE(MoEVLM);

// Points model.flop_meter at `meter` for one scope (nullptr: counts nothing).
class CountFlops {
 public:
  CountFlops(MoEVLMImpl& model, ExecutedFlops* meter) : model_(model) { model_.flop_meter = meter; }
  ~CountFlops() { model_.flop_meter = nullptr; }
  CountFlops(const CountFlops&) = delete;
  CountFlops& operator=(const CountFlops&) = delete;

 private:
  MoEVLMImpl& model_;
};

// The config fields `smoes eval --set` may change on a trained model: they
// change how it runs, not its tensors (model.blind, moe.top_k, ...).
const std::vector<std::string>& inference_fields();
// Applies `a.b=value` overrides of inference fields to a loaded model (each
// MoE layer included). Any other field is refused, naming it; an impossible
// value (top_k above a layer's experts) throws naming the layer.
void apply_inference_overrides(MoEVLMImpl& model, const std::vector<std::string>& assignments);

// Parameter groups that `train.freeze` can name: embeddings, encoder,
// projector, attention, norms, experts, routers, dense_ffn, vision_head, pointer. Returns the group
// of a parameter name (from named_parameters()).
std::string parameter_group(const std::string& name);

// Next-token cross-entropy on positions whose label is not -100.
// labels: [B, S] already aligned with logits (label[t] = token t+1).
torch::Tensor answer_loss(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace smoes::model
