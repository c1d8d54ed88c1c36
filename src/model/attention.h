// Multi-head attention for the ViT (bidirectional) and the decoder (causal,
// RoPE, KV cache). Can return the head-averaged attention probabilities,
// which SMoES's attention-propagated modality score needs.
//
// Every head has a learned attention sink: one extra logit in the softmax
// whose value vector is zero, so a head can attend to "nothing" (gpt-oss;
// Sun et al. 2024 show an explicit attention bias removes the massive
// activations models otherwise grow in a few tokens to serve as one). Our
// decoder, without it, drowned the 64 visual tokens in one such constant
// vector and stopped reading the image (docs/RESULTS.md).
#pragma once
#include <torch/torch.h>

#include "model/rope.h"

namespace smoes::model {

// Keys and values seen so far by one decoder layer: [B, H, S_past, Dh].
struct LayerKV {
  torch::Tensor k, v;  // views of the first length() positions of k_room / v_room when those are set
  torch::Tensor soft;  // [B, S_past, 2] the keys' SMoES attention-propagated modality scores entering the layer
  int64_t length() const { return k.defined() ? k.size(2) : 0; }
  // Adds [B, H, S, Dh] keys and values after the cached ones. Outside
  // autograd they go into buffers with room to spare (capacity doubles), so a
  // decoding step copies its own position instead of the whole cache.
  void append(const torch::Tensor& new_k, const torch::Tensor& new_v);
  // Keeps (and repeats) batch rows, for beam search and scoring choices.
  void select_rows(const torch::Tensor& rows) {
    for (auto* t : {&k, &v, &soft})
      if (t->defined()) *t = t->index_select(0, rows);
    k_room = v_room = torch::Tensor();  // the next append starts new buffers
  }
  torch::Tensor k_room, v_room;  // [B, H, capacity, Dh]
};

struct AttentionOutput {
  torch::Tensor out;    // [B, S, d]
  // [B, S, S_keys] averaged over heads, over the real keys (the sink's share
  // taken out and each row renormalised to 1); undefined unless asked.
  torch::Tensor probs;
};

// softmax([q k^T / sqrt(Dh) + bias, sink]) [v; 0] for q [B,H,Sq,Dh], k/v
// [B,H,Sk,Dh], an additive bias broadcastable to [B,H,Sq,Sk] and per-head sink
// logits [H] (bias and sink may be undefined: no mask, no sink).
AttentionOutput scaled_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& bias, bool want_probs, const torch::Tensor& sink = {});

// Additive mask for causal attention of Sq new queries over past + new keys:
// 0 where allowed, a large negative number where not (finite, so a fully
// masked padding row gives a uniform row instead of NaN). key_valid: [B, Sk]
// bool (undefined = all valid). Returns [B, 1, Sq, Sk].
torch::Tensor causal_bias(int64_t past, int64_t sq, const torch::Tensor& key_valid, int64_t batch);

struct SelfAttentionImpl : torch::nn::Module {
  SelfAttentionImpl(int64_t d_model, int64_t n_heads);
  // x: [B, S, d]. rope: the tokens' angles, only for the decoder. cache:
  // appended to when given (generation). bias: from causal_bias (or
  // undefined for ViT).
  AttentionOutput forward(const torch::Tensor& x, const torch::Tensor& bias, const RoPEAngles* rope = nullptr,
                          LayerKV* cache = nullptr, bool want_probs = false);

  int64_t n_heads, head_dim;
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  torch::Tensor sink;  // [H] sink logits, start at 0 (a key as likely as any other)
};
TORCH_MODULE(SelfAttention);

}  // namespace smoes::model
