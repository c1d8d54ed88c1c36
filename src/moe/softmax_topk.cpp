#include "moe/softmax_topk.h"

#include <ATen/Dispatch.h>

#include <cmath>
#include <limits>

#include "moe/parallel.h"

namespace smoes::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One token: p = softmax over its allowed experts, then the k most probable,
// most probable first (lower id on ties), in one pass with an insertion
// buffer; weights renormalised to sum to 1 if asked.
template <class T>
void route_token(const T* logit, const bool* allowed, int64_t e_count, int64_t k, bool renormalize, T* p, T* w,
                 int64_t* idx) {
  T top = -std::numeric_limits<T>::infinity(), sum = 0;
  for (int64_t e = 0; e < e_count; ++e)
    if (!allowed || allowed[e]) top = std::max(top, logit[e]);
  for (int64_t e = 0; e < e_count; ++e) sum += p[e] = (!allowed || allowed[e]) ? std::exp(logit[e] - top) : T(0);
  for (int64_t e = 0; e < e_count; ++e) p[e] /= sum;
  int64_t filled = 0;
  for (int64_t e = 0; e < e_count; ++e) {
    if (allowed && !allowed[e]) continue;
    const T v = p[e];
    if (filled == k && !(v > w[k - 1])) continue;
    int64_t j = filled < k ? filled++ : k - 1;  // the free slot, or the smallest kept one
    for (; j > 0 && v > w[j - 1]; --j) w[j] = w[j - 1], idx[j] = idx[j - 1];
    w[j] = v, idx[j] = e;
  }
  for (int64_t r = filled; r < k; ++r) w[r] = p[0], idx[r] = 0;  // only if fewer than k experts are allowed
  if (!renormalize) return;
  T chosen_sum = 0;
  for (int64_t r = 0; r < k; ++r) chosen_sum += w[r];
  for (int64_t r = 0; r < k; ++r) w[r] /= chosen_sum;
}

// One token's logit gradient from the gradients of its probabilities (gp, may
// be null) and of its weights (gw, may be null). Writes into dl.
template <class T>
void route_token_backward(const T* p, const T* w, const int64_t* idx, const T* gp, const T* gw, int64_t e_count,
                          int64_t k, bool renormalize, T* dl) {
  for (int64_t e = 0; e < e_count; ++e) dl[e] = gp ? gp[e] : T(0);
  if (gw) {
    // renormalised w_r = p_r / S over the chosen: dL/dp_r = (gw_r - sum_j gw_j w_j) / S
    T chosen_sum = 0, gw_dot_w = 0;
    for (int64_t r = 0; r < k; ++r) chosen_sum += p[idx[r]], gw_dot_w += gw[r] * w[r];
    for (int64_t r = 0; r < k; ++r) dl[idx[r]] += renormalize ? (gw[r] - gw_dot_w) / chosen_sum : gw[r];
  }
  T g_dot_p = 0;  // softmax backward: dlogit_e = p_e (g_e - sum_j g_j p_j)
  for (int64_t e = 0; e < e_count; ++e) g_dot_p += dl[e] * p[e];
  for (int64_t e = 0; e < e_count; ++e) dl[e] = p[e] * (dl[e] - g_dot_p);
}

struct SoftmaxTopKFunction : public torch::autograd::Function<SoftmaxTopKFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& logits, const torch::Tensor& allowed,
                               int64_t k, bool renormalize) {
    const int64_t t = logits.size(0), e = logits.size(1);
    auto probs = torch::empty_like(logits), weights = torch::empty({t, k}, logits.options());
    auto indices = torch::empty({t, k}, logits.options().dtype(torch::kLong));
    AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "softmax_topk", [&] {
      const scalar_t* l = logits.data_ptr<scalar_t>();
      const bool* a = allowed.numel() > 0 ? allowed.data_ptr<bool>() : nullptr;
      scalar_t *p = probs.data_ptr<scalar_t>(), *w = weights.data_ptr<scalar_t>();
      int64_t* idx = indices.data_ptr<int64_t>();
      at::parallel_for(0, t, 256, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          route_token(l + i * e, a ? a + i * e : nullptr, e, k, renormalize, p + i * e, w + i * k, idx + i * k);
      });
    });
    ctx->mark_non_differentiable({indices});
    ctx->save_for_backward({probs, weights, indices});
    ctx->saved_data["renormalize"] = renormalize;
    return {probs, weights, indices};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto probs = saved[0], weights = saved[1], indices = saved[2];
    const bool renormalize = ctx->saved_data["renormalize"].toBool();
    auto gp = grads[0].defined() ? grads[0].contiguous() : grads[0];
    auto gw = grads[1].defined() ? grads[1].contiguous() : grads[1];
    const int64_t t = probs.size(0), e = probs.size(1), k = weights.size(1);
    auto dlogits = torch::empty_like(probs);
    AT_DISPATCH_FLOATING_TYPES(probs.scalar_type(), "softmax_topk_backward", [&] {
      const scalar_t *p = probs.data_ptr<scalar_t>(), *w = weights.data_ptr<scalar_t>();
      const scalar_t* gpp = gp.defined() ? gp.data_ptr<scalar_t>() : nullptr;
      const scalar_t* gwp = gw.defined() ? gw.data_ptr<scalar_t>() : nullptr;
      const int64_t* idx = indices.data_ptr<int64_t>();
      scalar_t* dl = dlogits.data_ptr<scalar_t>();
      at::parallel_for(0, t, 256, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          route_token_backward(p + i * e, w + i * k, idx + i * k, gpp ? gpp + i * e : nullptr,
                               gwp ? gwp + i * k : nullptr, e, k, renormalize, dl + i * e);
      });
    });
    return {dlogits, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SoftmaxTopK softmax_topk(const torch::Tensor& logits, const torch::Tensor& allowed, int64_t k, bool renormalize) {
  TORCH_CHECK(logits.dim() == 2 && k >= 1 && k <= logits.size(1), "softmax_topk: logits ", logits.sizes(), ", k ", k);
  TORCH_CHECK(!allowed.defined() || allowed.sizes() == logits.sizes(), "softmax_topk: mask ", allowed.sizes(),
              " for logits ", logits.sizes());
  // apply() takes no undefined tensors: "no mask" travels as an empty one.
  auto mask = allowed.defined() ? allowed.to(torch::kBool).contiguous() : torch::empty({0}, torch::kBool);
  auto out = SoftmaxTopKFunction::apply(logits.contiguous(), mask, k, renormalize);
  return {out[0], out[1], out[2]};
}

}  // namespace smoes::moe
