// Typed run configuration: model, MoE, router, training and data sections.
// Every field has a default, a one-line help and a rule; JSON load/save,
// `--set a.b=value` overrides and validation all go through `fields()`.
// The resolved config is written next to every output (run dir, checkpoint).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config_fields.h"
#include "core/router_table.h"

namespace smoes {

struct ModelConfig {
  int vocab_size = 0;  // 0 = take it from the tokenizer
  int d_model = 256;
  int n_layers = 4;
  int n_heads = 4;
  int max_seq_len = 256;
  int moe_every = 1;        // MoE FFN in every n-th decoder layer, dense FFN elsewhere
  bool is_moe_layer(int layer) const { return layer % moe_every == moe_every - 1; }
  int moe_layers() const { return n_layers / moe_every; }
  int dense_ffn_hidden = 1024;
  double rope_theta = 10000.0;
  double dropout = 0.0;
  int image_size = 64;
  int patch_size = 8;
  int vit_layers = 2;
  int vit_width = 128;
  int vit_heads = 4;
  int location_bins = 32;
  // How the projector output is normalised per channel: "image" centres over
  // each image's patches, "batch" over every patch of the batch (running
  // statistics at eval, like BatchNorm) and so keeps each image's own mean.
  std::string projector_norm = "image";
  std::string vit_norm = "layer";  // the ViT's final norm: "layer" (LayerNorm) or "batch" (over all tokens)
  bool blind = false;  // baseline: every image is replaced by a blank one
  // Detection categories (incl. background 0) of the ViT's dense head, trained
  // by train.stage = "vision"; 0 = no head. COCO ids go up to 90 (use 91).
  int vision_classes = 0;
  // Attribute ids the dense head predicts per patch (multi-hot; the files'
  // PACO-style attribute_ids: colour, material, ...); 0 = none.
  int vision_attributes = 0;
  // Oscar-style object tags from the dense head's per-patch predictions, so
  // what the head reads is explicit rather than a small direction next to
  // objectness and position. "projector": class and attribute probabilities
  // and the expected box go into the projector beside the ViT features.
  // "words": each visual token also gets the probability-weighted decoder
  // embeddings of the class and attribute names (Oscar feeds tags as words),
  // so a question's "blue" can find the patch that reads "blue".
  std::string object_tags = "none";
  // A pointer head (MDETR / two-stage REC style): from the prompt's words it
  // scores every visual token as the referred object. A diagnostic only
  // (`smoes analyze grounding`): evaluation boxes are always the decoder's
  // generated location tokens (docs/training.md, "Box pointer").
  bool box_pointer = false;
  // With box_pointer: every text token also reads the visual token the
  // pointer picks for the words so far (since the last image), through a
  // zero-initialised map added to its input, so "what color is the small
  // circle" can answer from the circle's tags (docs/training.md).
  bool pointer_readout = false;

  template <class V>
  void fields(V& v) {
    using namespace config_detail;
    v("vocab_size", vocab_size, "decoder vocabulary (0 = from tokenizer)", Range(0, 1 << 22));
    v("d_model", d_model, "decoder width", Range(8, 65536));
    v("n_layers", n_layers, "decoder layers", Range(1, 512));
    v("n_heads", n_heads, "attention heads (must divide d_model)", Range(1, 1024));
    v("max_seq_len", max_seq_len, "longest sequence incl. visual tokens", Range(8, 1 << 20));
    v("moe_every", moe_every, "MoE FFN every n-th layer (1 = all)", Range(1, 512));
    v("dense_ffn_hidden", dense_ffn_hidden, "hidden size of dense FFN layers", Range(1, 1 << 20));
    v("rope_theta", rope_theta, "RoPE base", Range(1, 1e9));
    v("dropout", dropout, "dropout probability", Range(0, 0.9));
    v("image_size", image_size, "square input image side in pixels", Range(8, 4096));
    v("patch_size", patch_size, "ViT patch side (must divide image_size)", Range(1, 1024));
    v("vit_layers", vit_layers, "ViT encoder layers", Range(0, 128));
    v("vit_width", vit_width, "ViT width", Range(8, 65536));
    v("vit_heads", vit_heads, "ViT heads (must divide vit_width)", Range(1, 1024));
    v("location_bins", location_bins, "grounding location tokens per axis", Range(2, 4096));
    v("projector_norm", projector_norm, "projector output centring: per image or per batch",
      OneOf({"image", "batch"}));
    v("vit_norm", vit_norm, "ViT output norm: LayerNorm per token or batch statistics per channel",
      OneOf({"layer", "batch"}));
    v("blind", blind, "blind baseline: images are blanked before the encoder");
    v("vision_classes", vision_classes, "ViT dense detection head: category ids + 1 (0 = no head)",
      Range(0, 1 << 16));
    v("vision_attributes", vision_attributes, "ViT dense head: attribute ids per patch, multi-hot (0 = none)",
      Range(0, 1 << 16));
    v("object_tags", object_tags,
      "dense-head predictions per patch: none, into the projector, as name embeddings added to visual tokens, "
      "or names plus the predicted box as location-token embeddings",
      OneOf({"none", "projector", "words", "words_boxes"}));
    v("box_pointer", box_pointer,
      "pointer head over the visual tokens (a diagnostic in analyze grounding; eval boxes are always generated)");
    v("pointer_readout", pointer_readout,
      "text tokens also read the visual token the pointer picks for the words so far (needs box_pointer)");
  }
};

struct MoEConfig {
  bool enabled = true;  // false = dense FFN baseline of equal active parameters
  int num_experts = 8;
  int top_k = 2;
  int ffn_hidden = 512;      // per-expert SwiGLU hidden size
  int shared_experts = 0;    // always-on experts (DeepSeekMoE)
  double capacity_factor = 0.0;  // 0 = dropless
  double aux_loss_coef = 0.01;   // Switch/GShard load balancing
  double z_loss_coef = 0.001;    // router z-loss
  double upcycle_noise = 0.0;    // std of noise added when upcycling a dense FFN
  bool record_trace = false;     // write the JSONL routing trace during eval
  std::vector<int> layer_experts;  // routed experts of each MoE layer, in order (empty = num_experts each; NAEE pruning)
  int experts_in(int moe_layer) const {
    return layer_experts.empty() ? num_experts : layer_experts[size_t(moe_layer)];
  }

  template <class V>
  void fields(V& v) {
    using namespace config_detail;
    v("enabled", enabled, "MoE FFNs (false = dense baseline)");
    v("num_experts", num_experts, "routed experts per MoE layer", Range(1, 4096));
    v("top_k", top_k, "experts per token", Range(1, 4096));
    v("ffn_hidden", ffn_hidden, "per-expert SwiGLU hidden size", Range(1, 1 << 20));
    v("shared_experts", shared_experts, "always-on shared experts", Range(0, 64));
    v("capacity_factor", capacity_factor, "expert capacity factor (0 = dropless)", Range(0, 64));
    v("aux_loss_coef", aux_loss_coef, "load-balancing loss coefficient", Range(0, 100));
    v("z_loss_coef", z_loss_coef, "router z-loss coefficient", Range(0, 100));
    v("upcycle_noise", upcycle_noise, "noise std when upcycling a dense FFN", Range(0, 10));
    v("record_trace", record_trace, "write a JSONL routing trace in eval");
    v("layer_experts", layer_experts, "routed experts per MoE layer (empty = num_experts each; set by NAEE pruning)");
  }
};

struct RouterConfig {
  std::string name = "topk";        // one of core/router_table.cpp's kinds
  bool renormalize = true;          // topk: renormalise the k weights (Mixtral) or not (DeepSeek)
  double bias_update_rate = 1e-3;   // sigmoid_bias: per-step bias nudge
  int text_experts = 0;             // hard_modality / moiie: text partition (0 = half of the rest)
  int vision_experts = 0;           // hard_modality / moiie: vision partition
  int cross_modal_experts = 0;      // moiie: shared cross-modal experts
  double smar_band_lo = 0.1;        // smar: symmetric-KL band
  double smar_band_hi = 0.5;
  double smar_loss_coef = 0.01;
  // smoes (METHOD.md section 3): the soft modality score each token brings to
  // the router, the expert bins, and the loss that ties modality to bins.
  std::string soft_scores = "attention";  // attention-propagated, per-layer Gaussians, or the hard label
  int num_bins = 2;                       // expert bins (one per expert-parallel device); must divide E
  std::string binning = "adaptive";       // adaptive: sorted by text fraction; fixed: index order
  int64_t rebin_every = 100;              // adaptive: training forwards between re-binnings (K)
  double load_ema = 0.99;                 // adaptive: EMA decay of each expert's text/vision load
  double gaussian_momentum = 0.99;        // gaussian: EMA Welford beta
  std::string bin_loss = "mi";            // mi, kl (symmetric KL between bins, an ablation) or none
  double mi_loss_coef = 1e-4;             // weight of the mi / kl loss (paper: 1e-4)

  template <class V>
  void fields(V& v) {
    using namespace config_detail;
    v("name", name, "router policy (smoes router list: every name with its help)", OneOf(router_names()));
    v("renormalize", renormalize, "topk/smoes: renormalise top-k weights to sum to 1");
    v("bias_update_rate", bias_update_rate, "sigmoid_bias: bias update speed", Range(0, 1));
    v("text_experts", text_experts, "hard_modality/moiie: experts for text tokens", Range(0, 4096));
    v("vision_experts", vision_experts, "hard_modality/moiie: experts for vision tokens", Range(0, 4096));
    v("cross_modal_experts", cross_modal_experts, "moiie: experts shared by both modalities", Range(0, 4096));
    v("smar_band_lo", smar_band_lo, "smar: lower edge of the symmetric-KL band", Range(0, 100));
    v("smar_band_hi", smar_band_hi, "smar: upper edge of the symmetric-KL band", Range(0, 100));
    v("smar_loss_coef", smar_loss_coef, "smar: hinge loss coefficient", Range(0, 100));
    v("soft_scores", soft_scores, "smoes: soft modality score (attention-propagated, Gaussian, or hard label)",
      OneOf({"attention", "gaussian", "binary"}));
    v("num_bins", num_bins, "smoes: expert bins per layer (must divide moe.num_experts)", Range(1, 4096));
    v("binning", binning, "smoes: bins by text fraction (adaptive) or index order (fixed)",
      OneOf({"adaptive", "fixed"}));
    v("rebin_every", rebin_every, "smoes: training forwards between adaptive re-binnings (K)", Range(1, 1e12));
    v("load_ema", load_ema, "smoes: EMA decay of the per-expert text/vision loads", Range(0, 0.999999));
    v("gaussian_momentum", gaussian_momentum, "smoes: EMA decay of the Gaussian soft-score statistics",
      Range(0, 0.999999));
    v("bin_loss", bin_loss, "smoes: modality-bin loss: mutual information, symmetric KL between bins, or none",
      OneOf({"mi", "kl", "none"}));
    v("mi_loss_coef", mi_loss_coef, "smoes: weight of the modality-bin loss", Range(0, 100));
  }
};

struct TrainConfig {
  int64_t seed = 1234;
  int64_t steps = 1000;
  int batch_size = 16;
  int grad_accum = 1;
  double lr = 3e-4;
  double min_lr_ratio = 0.1;  // cosine decays to lr * min_lr_ratio
  int64_t warmup_steps = 100;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double grad_clip = 1.0;  // 0 = off
  int64_t eval_every = 200;
  int64_t ckpt_every = 200;
  int keep_last = 3;
  int64_t log_every = 10;
  std::string stage = "finetune";
  // How the answer loss averages: "token" over every answer token of the
  // batch, "sequence" over sequences of each one's mean, so a one-word VQA
  // answer weighs as much as a 15-token caption.
  std::string loss_average = "token";
  std::vector<std::string> freeze;  // parameter groups to freeze
  // Grounding-attention supervision (docs/training.md): on every grounding
  // example, the head-averaged attention of one decoder layer from the last
  // prompt token is pulled onto the referred object's visual tokens, with
  // this weight next to the answer loss (0 = off).
  double grounding_attention = 0;
  int grounding_attention_layer = 2;
  std::string grounding_attention_from = "prompt";  // which positions look: the prompt's text or the box's writers
  double box_pointer = 1.0;  // weight of the pointer head's cross-entropy on grounding examples (model.box_pointer)
  std::string out_dir = "runs/default";
  std::string init_from;  // checkpoint (or run dir) whose weights start this run; dense -> MoE upcycles
  int threads = 0;  // 0 = all cores (or SMOES_THREADS)

  template <class V>
  void fields(V& v) {
    using namespace config_detail;
    v("seed", seed, "seed of every RNG in the run", Range(0, 9.2e18));
    v("steps", steps, "optimizer steps", Range(1, 1e12));
    v("batch_size", batch_size, "sequences per micro-batch", Range(1, 1 << 20));
    v("grad_accum", grad_accum, "micro-batches per optimizer step", Range(1, 1 << 16));
    v("lr", lr, "peak learning rate", Range(0, 10));
    v("min_lr_ratio", min_lr_ratio, "final lr as a fraction of peak", Range(0, 1));
    v("warmup_steps", warmup_steps, "linear warmup steps", Range(0, 1e12));
    v("weight_decay", weight_decay, "AdamW weight decay", Range(0, 10));
    v("beta1", beta1, "AdamW beta1", Range(0, 0.999999));
    v("beta2", beta2, "AdamW beta2", Range(0, 0.999999));
    v("grad_clip", grad_clip, "global grad-norm clip (0 = off)", Range(0, 1e6));
    v("eval_every", eval_every, "steps between evaluations (0 = off)", Range(0, 1e12));
    v("ckpt_every", ckpt_every, "steps between checkpoints (0 = end only)", Range(0, 1e12));
    v("keep_last", keep_last, "checkpoints kept on disk", Range(1, 1000));
    v("log_every", log_every, "steps between metric lines", Range(1, 1e12));
    v("stage", stage, "training stage", OneOf({"lm", "align", "finetune", "moe", "vision"}));
    v("loss_average", loss_average, "answer loss: mean over answer tokens or over sequences",
      OneOf({"token", "sequence"}));
    v("freeze", freeze, "parameter groups to freeze (experts, routers, attention, encoder, projector, embeddings)");
    v("grounding_attention", grounding_attention,
      "weight of -log(attention mass on the referred object's patches) on grounding examples (0 = off)", Range(0, 1e3));
    v("grounding_attention_layer", grounding_attention_layer, "decoder layer (from 0) that loss supervises",
      Range(0, 1 << 16));
    v("grounding_attention_from", grounding_attention_from,
      "positions that must look at the object: the prompt text after the image, or those that predict the box's "
      "location tokens",
      OneOf({"prompt", "box"}));
    v("box_pointer", box_pointer,
      "weight of the box pointer's cross-entropy over visual tokens on grounding examples (needs model.box_pointer)",
      Range(0, 1e3));
    v("out_dir", out_dir, "run directory");
    v("init_from", init_from, "checkpoint or run dir to start from (a dense one is upcycled into MoE)");
    v("threads", threads, "intra-op threads (0 = all cores)", Range(0, 4096));
  }
};

struct DataConfig {
  std::string root = "data/world";
  std::map<std::string, double> mixture = {{"coco_captions", 1.0}};
  std::string tokenizer = "";  // SentencePiece model path ("" = <root>/tokenizer.model)
  int max_text_len = 64;
  int turns_per_image = 1;  // training: up to this many examples of one task and image in one sequence
  std::string image_position = "first";  // "last": visual tokens after the prompt text (tasks::arranged_prompt)
  std::string image_cache = "runs/image_cache";  // decoded images on disk ("" = memory only)
  std::vector<std::string> eval_tasks;            // tasks scored every train.eval_every steps
  int eval_examples = 200;                        // examples per task in that periodic eval

  template <class V>
  void fields(V& v) {
    using namespace config_detail;
    v("root", root, "dataset root directory");
    v("mixture", mixture, "task (or task/question_type, e.g. vqa_v2/what color is the) -> sampling weight");
    v("tokenizer", tokenizer, "SentencePiece model path");
    v("max_text_len", max_text_len, "max text tokens per example", Range(1, 1 << 20));
    v("image_position", image_position, "visual tokens before (first) or after (last) the prompt text",
      OneOf({"first", "last"}));
    v("turns_per_image", turns_per_image, "examples of the same image packed as turns of one training sequence",
      Range(1, 64));
    v("image_cache", image_cache, "directory of decoded images (\"\" = memory only)");
    v("eval_tasks", eval_tasks, "tasks scored during training");
    v("eval_examples", eval_examples, "examples per task in the periodic eval", Range(1, 1 << 30));
  }
};

struct Config {
  ModelConfig model;
  MoEConfig moe;
  RouterConfig router;
  TrainConfig train;
  DataConfig data;

  template <class V>
  void fields(V& v) {
    v.section("model", model);
    v.section("moe", moe);
    v.section("router", router);
    v.section("train", train);
    v.section("data", data);
  }

  // Throws smoes::Error naming the field and the problem; `source` names the
  // file (or "config") in the message.
  void validate(const std::string& source = "config") const;

  nlohmann::json to_json() const;
  // Parses and validates; unknown keys, wrong types and bad values throw.
  static Config from_json(const nlohmann::json& j, const std::string& source = "config");
  // Loads `path` ("" = defaults), applies `a.b=value` overrides, validates.
  static Config load(const std::string& path, const std::vector<std::string>& overrides = {});
  // Writes the resolved config as pretty JSON, atomically.
  void save(const std::string& path) const;

  // The fields that fix the model's parameter shapes; checkpoints refuse to
  // load into a config that differs here. Returns "" when compatible, else
  // the differing fields.
  std::string architecture_diff(const Config& other) const;
};

// Applies one `a.b.c=value` override to a JSON config (value parsed as JSON,
// else taken as a string). Throws on a malformed override.
void apply_override(nlohmann::json& j, const std::string& assignment);

}  // namespace smoes
