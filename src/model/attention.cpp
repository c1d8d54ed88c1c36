#include "model/attention.h"

#include <ATen/Dispatch.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "moe/linear.h"
#include "moe/parallel.h"

namespace smoes::model {

namespace {

constexpr double kMasked = -1e9;

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Where row r = (b, h, q) of a [B, H, Sq, Sk] score tensor finds its additive
// bias: the bias expanded to the scores' shape keeps stride 0 on broadcast
// dimensions (the causal mask is [B, 1, Sq, Sk]), so nothing is copied.
template <class T>
struct BiasRows {
  const T* data = nullptr;
  int64_t heads = 1, queries = 1, stride[4] = {0, 0, 0, 0};
  BiasRows(const torch::Tensor& bias, at::IntArrayRef shape) {
    if (bias.numel() == 0) return;
    auto e = bias.expand(shape);
    data = e.data_ptr<T>();
    heads = shape[1], queries = shape[2];
    for (int i = 0; i < 4; ++i) stride[i] = e.stride(i);
  }
  const T* row(int64_t r) const {
    const int64_t q = r % queries, h = (r / queries) % heads, b = r / (queries * heads);
    return data + b * stride[0] + h * stride[1] + q * stride[2];
  }
};

// One row: p = softmax(scale * x + bias) and the real keys' share next to the sink.
template <class T>
void sink_softmax_row(const T* x, const T* b, int64_t b_stride, const T* sink, double scale, int64_t keys, T* p,
                      T* share) {
  T top = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < keys; ++j) {
    p[j] = T(scale) * x[j] + (b ? b[j * b_stride] : T(0));
    top = std::max(top, p[j]);
  }
  T sum = 0;
  // Masked keys sit ~1e9 below the top: 0 without calling exp, whose
  // underflow path is slow.
  for (int64_t j = 0; j < keys; ++j) sum += p[j] = p[j] - top < T(-100) ? T(0) : std::exp(p[j] - top);
  for (int64_t j = 0; j < keys; ++j) p[j] /= sum;
  *share = sink ? T(1) / (T(1) + std::exp(*sink - top - std::log(sum))) : T(1);
}

// p = softmax(scale * raw + bias) over the real keys and, per row, the real
// keys' share of a softmax that also holds the head's sink logit:
// share = sigmoid(logsumexp(scale * raw + bias) - sink). One pass per row in
// place of ATen's mul, add, softmax and a logsumexp of a dozen ops: a decode
// step spent more time dispatching those than computing them.
struct SinkSoftmax : public torch::autograd::Function<SinkSoftmax> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& raw, const torch::Tensor& bias,
                               const torch::Tensor& sink, double scale) {
    TORCH_CHECK(raw.dim() == 4, "attention: scores ", raw.sizes(), " must be [B, H, Sq, Sk]");
    TORCH_CHECK(!bias.requires_grad(), "attention: the mask takes no gradient");
    const int64_t heads = raw.size(1), queries = raw.size(2), keys = raw.size(3);
    const int64_t rows = keys > 0 ? raw.numel() / keys : 0;
    auto scores = raw.contiguous();
    auto probs = torch::empty_like(scores), share = torch::empty({raw.size(0), heads, queries, 1}, scores.options());
    auto bias_t = bias.to(scores.scalar_type()), sink_t = sink.to(scores.scalar_type()).contiguous();
    AT_DISPATCH_FLOATING_TYPES(scores.scalar_type(), "sink_softmax", [&] {
      const BiasRows<scalar_t> bias_rows(bias_t, scores.sizes());
      const scalar_t* in = scores.data_ptr<scalar_t>();
      const scalar_t* sink_logit = sink_t.numel() > 0 ? sink_t.data_ptr<scalar_t>() : nullptr;
      scalar_t *p = probs.data_ptr<scalar_t>(), *sh = share.data_ptr<scalar_t>();
      moe::parallel_for_as_caller(0, rows, moe::rows_per_task(keys), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          sink_softmax_row(in + r * keys, bias_rows.data ? bias_rows.row(r) : nullptr, bias_rows.stride[3],
                           sink_logit ? sink_logit + (r / queries) % heads : nullptr, scale, keys, p + r * keys,
                           sh + r);
      });
    });
    ctx->save_for_backward({probs, share});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["has_sink"] = sink.numel() > 0;
    return {probs, share};
  }

  // d score_j = p_j (g_j - sum_i g_i p_i) + c p_j with c = g_share share (1 - share)
  // (d logsumexp / d score_j = p_j); d sink = -c summed over batch and queries.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& probs = saved[0];
    const auto& share = saved[1];
    const double scale = ctx->saved_data["scale"].toDouble();
    auto g = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(probs);
    auto c = grads[1].defined() ? (grads[1] * share * (1 - share)).contiguous() : torch::zeros_like(share);
    auto draw = torch::empty_like(probs);
    const int64_t keys = probs.size(3), rows = keys > 0 ? probs.numel() / keys : 0;
    AT_DISPATCH_FLOATING_TYPES(probs.scalar_type(), "sink_softmax_backward", [&] {
      const scalar_t *p = probs.data_ptr<scalar_t>(), *gp = g.data_ptr<scalar_t>(), *cp = c.data_ptr<scalar_t>();
      scalar_t* d = draw.data_ptr<scalar_t>();
      moe::parallel_for_as_caller(0, rows, moe::rows_per_task(keys), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const scalar_t *pr = p + r * keys, *gr = gp + r * keys;
          scalar_t dot = 0;
          for (int64_t j = 0; j < keys; ++j) dot += gr[j] * pr[j];
          const scalar_t shift = cp[r] - dot;
          for (int64_t j = 0; j < keys; ++j) d[r * keys + j] = scalar_t(scale) * pr[j] * (gr[j] + shift);
        }
      });
    });
    auto dsink = ctx->saved_data["has_sink"].toBool() ? -c.sum({0, 2, 3}) : torch::Tensor();
    return {draw, torch::Tensor(), dsink, torch::Tensor()};
  }
};

// Decoding asks few query rows per head of a cache that LayerKV keeps as
// strided views of its buffers: ATen's matmul would copy each layer's keys and
// values to contiguous memory and call one tiny GEMM per (batch, head) every
// step. Plain dot products over the rows in place cost less.
constexpr int64_t kFewQueries = 4;

bool few_queries_without_grad(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const auto heads = q.sizes().slice(0, 2);
  return !torch::GradMode::is_enabled() && q.dim() == 4 && q.size(2) <= kFewQueries &&
         k.sizes().slice(0, 2) == heads && v.sizes().slice(0, 2) == heads && k.size(2) == v.size(2) &&
         q.scalar_type() == torch::kFloat && k.scalar_type() == torch::kFloat && v.scalar_type() == torch::kFloat &&
         k.stride(3) == 1 && v.stride(3) == 1;
}

// Calls f(r, j, row) for every query row r = (b, h, i) of a [B, H, Sq, .]
// operand and every row j of the [B, H, Sk, hd] cache view it attends over
// (strided over B, H and Sk), spreading (b, h) over threads.
template <class F>
void each_query_and_cache_row(const torch::Tensor& cache, int64_t sq, const F& f) {
  const int64_t H = cache.size(1), sk = cache.size(2);
  const float* base = cache.data_ptr<float>();
  moe::parallel_for_as_caller(0, cache.size(0) * H, moe::rows_per_task(sq * sk * cache.size(3)),
                              [&](int64_t begin, int64_t end) {
                                for (int64_t bh = begin; bh < end; ++bh) {
                                  const float* rows = base + (bh / H) * cache.stride(0) + (bh % H) * cache.stride(1);
                                  for (int64_t i = 0; i < sq; ++i)
                                    for (int64_t j = 0; j < sk; ++j) f(bh * sq + i, j, rows + j * cache.stride(2));
                                }
                              });
}

// [B, H, Sq, hd] x [B, H, Sk, hd] -> [B, H, Sq, Sk] (q Kᵀ).
torch::Tensor few_queries_times_keys(const torch::Tensor& q_, const torch::Tensor& k) {
  const auto q = q_.contiguous();
  const int64_t hd = q.size(3), sk = k.size(2);
  auto scores = torch::empty({q.size(0), q.size(1), q.size(2), sk}, q.options());
  const float* qp = q.data_ptr<float>();
  float* sp = scores.data_ptr<float>();
  each_query_and_cache_row(k, q.size(2), [&](int64_t r, int64_t j, const float* key) {
    const float* query = qp + r * hd;
    float dot = 0;
    for (int64_t c = 0; c < hd; ++c) dot += query[c] * key[c];
    sp[r * sk + j] = dot;
  });
  return scores;
}

// [B, H, Sq, Sk] x [B, H, Sk, hd] -> [B, H, Sq, hd] (P V).
torch::Tensor few_queries_times_values(const torch::Tensor& p_, const torch::Tensor& v) {
  const auto p = p_.contiguous();
  const int64_t sk = p.size(3), hd = v.size(3);
  auto out = torch::zeros({p.size(0), p.size(1), p.size(2), hd}, p.options());
  const float* pp = p.data_ptr<float>();
  float* op = out.data_ptr<float>();
  each_query_and_cache_row(v, p.size(2), [&](int64_t r, int64_t j, const float* value) {
    const float weight = pp[r * sk + j];
    float* row = op + r * hd;
    for (int64_t c = 0; c < hd; ++c) row[c] += weight * value[c];
  });
  return out;
}

}  // namespace

AttentionOutput scaled_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& bias, bool want_probs, const torch::Tensor& sink) {
  // apply() takes no undefined tensors: "no mask" and "no sink" travel as empty ones.
  auto none = torch::empty({0}, q.options().requires_grad(false));
  const bool few = few_queries_without_grad(q, k, v);
  auto scores = few ? few_queries_times_keys(q, k) : torch::matmul(q, k.transpose(-2, -1));
  auto parts = SinkSoftmax::apply(scores, bias.defined() ? bias : none,
                                  sink.defined() ? sink : none, 1.0 / std::sqrt(double(q.size(-1))));
  const auto& probs = parts[0];
  AttentionOutput out;
  // softmax over [scores, sink] with the sink's value zero is the plain
  // softmax scaled by the real keys' share.
  out.out = few ? few_queries_times_values(probs, v) : torch::matmul(probs, v);
  if (sink.defined()) out.out = out.out * parts[1];
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

void LayerKV::append(const torch::Tensor& new_k, const torch::Tensor& new_v) {
  const int64_t past = length(), total = past + new_k.size(2);
  if (torch::GradMode::is_enabled() && (new_k.requires_grad() || new_v.requires_grad())) {
    // Under autograd an in-place write into a buffer earlier steps read would
    // invalidate their saved views: concatenate instead.
    k = past ? torch::cat({k, new_k}, 2) : new_k;
    v = past ? torch::cat({v, new_v}, 2) : new_v;
    k_room = v_room = torch::Tensor();
    return;
  }
  if (!k_room.defined() || k_room.size(2) < total) {
    const int64_t capacity = std::max<int64_t>(total, 2 * past);
    auto grow = [&](const torch::Tensor& old, const torch::Tensor& fresh) {
      auto sizes = fresh.sizes().vec();
      sizes[2] = capacity;
      auto room = torch::empty(sizes, fresh.options());
      if (past) room.narrow(2, 0, past).copy_(old);
      return room;
    };
    k_room = grow(k, new_k), v_room = grow(v, new_v);
  }
  k_room.narrow(2, past, new_k.size(2)).copy_(new_k);
  v_room.narrow(2, past, new_v.size(2)).copy_(new_v);
  k = k_room.narrow(2, 0, total), v = v_room.narrow(2, 0, total);
}

AttentionOutput SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias, const RoPEAngles* rope,
                                           LayerKV* cache, bool want_probs) {
  const int64_t b = x.size(0), s = x.size(1);
  auto parts = moe::linear(x, qkv).view({b, s, 3, n_heads, head_dim}).permute({2, 0, 3, 1, 4});  // [3,B,H,S,Dh]
  auto q = parts[0], k = parts[1], v = parts[2];
  if (rope) {
    auto qk = RoPE::rotate(parts.narrow(0, 0, 2), *rope);
    q = qk[0], k = qk[1];
  }
  if (cache) {
    cache->append(k, v);
    k = cache->k, v = cache->v;
  }
  AttentionOutput out = scaled_attention(q, k, v, bias, want_probs, sink);
  out.out = moe::linear(out.out.transpose(1, 2).reshape({b, s, n_heads * head_dim}), proj);
  return out;
}

}  // namespace smoes::model
