#include "model/attention.h"

#include <cmath>

#include "core/error.h"

namespace smoes::model {

namespace {
constexpr double kMasked = -1e9;
}

AttentionOutput scaled_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& bias, bool want_probs, const torch::Tensor& sink) {
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(q.size(-1))));
  if (bias.defined()) scores = scores + bias;
  auto probs = torch::softmax(scores, -1);
  AttentionOutput out;
  out.out = torch::matmul(probs, v);
  if (sink.defined()) {
    // softmax over [scores, sink] with the sink's value zero is the plain
    // softmax scaled by the real keys' share, sigmoid(logsumexp(scores) - sink):
    // one reduction instead of a copy of the score matrix with a sink column.
    auto share = torch::sigmoid(torch::logsumexp(scores, -1, /*keepdim=*/true) - sink.view({1, -1, 1, 1}));
    out.out = out.out * share;
  }
  // Reported over the real keys: with a sink, rows of `probs` still sum to 1.
  if (want_probs) out.probs = probs.mean(1);
  return out;
}

torch::Tensor causal_bias(int64_t past, int64_t sq, const torch::Tensor& key_valid, int64_t batch) {
  const int64_t sk = past + sq;
  auto query_pos = torch::arange(past, sk, torch::kLong).unsqueeze(1);
  auto key_pos = torch::arange(sk, torch::kLong).unsqueeze(0);
  auto allowed = (key_pos <= query_pos).unsqueeze(0).unsqueeze(0);  // [1,1,Sq,Sk]
  if (key_valid.defined()) {
    if (key_valid.dim() != 2 || key_valid.size(1) != sk || key_valid.size(0) != batch)
      throw Error("attention: key mask has shape " + std::to_string(key_valid.size(0)) + "x" +
                  std::to_string(key_valid.size(-1)) + ", expected " + std::to_string(batch) + "x" +
                  std::to_string(sk));
    allowed = allowed.logical_and(key_valid.to(torch::kBool).view({batch, 1, 1, sk}));
  } else {
    allowed = allowed.expand({batch, 1, sq, sk});
  }
  return torch::zeros(allowed.sizes()).masked_fill(allowed.logical_not(), kMasked);
}

SelfAttentionImpl::SelfAttentionImpl(int64_t d_model, int64_t heads) : n_heads(heads), head_dim(d_model / heads) {
  if (d_model % heads != 0)
    throw Error("attention: " + std::to_string(heads) + " heads do not divide width " + std::to_string(d_model));
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(d_model, 3 * d_model).bias(false)));
  proj = register_module("proj", torch::nn::Linear(torch::nn::LinearOptions(d_model, d_model).bias(false)));
  sink = register_parameter("sink", torch::zeros({heads}));
}

AttentionOutput SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias, const RoPE* rope,
                                           const torch::Tensor& positions, LayerKV* cache, bool want_probs) {
  const int64_t b = x.size(0), s = x.size(1);
  auto parts = qkv(x).view({b, s, 3, n_heads, head_dim}).permute({2, 0, 3, 1, 4});  // [3,B,H,S,Dh]
  auto q = parts[0], k = parts[1], v = parts[2];
  if (rope) {
    q = rope->apply(q, positions);
    k = rope->apply(k, positions);
  }
  if (cache) {
    if (cache->k.defined()) {
      k = torch::cat({cache->k, k}, 2);
      v = torch::cat({cache->v, v}, 2);
    }
    cache->k = k;
    cache->v = v;
  }
  AttentionOutput out = scaled_attention(q, k, v, bias, want_probs, sink);
  out.out = proj(out.out.transpose(1, 2).reshape({b, s, n_heads * head_dim}));
  return out;
}

}  // namespace smoes::model
