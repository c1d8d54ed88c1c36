// Why a custom autograd Function: dispatch, experts and combine run as one
// pass per expert on contiguous slices of expert-sorted rows, writing straight
// into preallocated buffers, with a hand-written backward that reuses the
// saved pre-activations: no per-expert cat, no autograd graph of slices, no
// [N, d] temporaries for the gathered, gate-scaled or scattered rows.
//
// Each expert's thread gathers its own rows (and, in backward, its rows'
// gate-scaled output gradients) right before its first GEMM, so they are
// still in cache. Combine is the gather form of a scatter-add: each token sums
// its k rows through bins.position, in parallel over tokens, with no atomics
// and no separate zero-filling pass over the output.
//
// Experts are spread over the threads (largest first onto the least loaded
// thread) and each thread runs its experts' GEMMs single-threaded (moe::gemm
// runs serially inside an OpenMP region): E small GEMMs each split across
// both cores run at about half the rate of one large GEMM (STACK.md).
#include "moe/experts.h"

#include <ATen/Dispatch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "moe/gemm.h"
#include "moe/parallel.h"

namespace smoes::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A per-thread buffer for an expert's intermediates, reused across experts and
// calls: no allocation per expert, and the block a thread just used is still in
// its cache. `slot` tells apart the buffers one expert needs at once.
template <class T>
T* scratch(int slot, int64_t size) {
  thread_local std::vector<T> buffers[6];
  auto& b = buffers[slot];
  if (int64_t(b.size()) < size) b.resize(size_t(size));
  return b.data();
}

// Up to this many elements an expert's activation runs as a plain loop (the
// handful of rows an expert gets while decoding, where ATen's dispatch costs
// more than the arithmetic); above it, ATen's vectorised kernels (a scalar exp
// over a training batch's rows is slower than the dispatch it saves).
constexpr int64_t kPlainLoopElements = 2048;

template <class T>
torch::Tensor rows_view(T* p, int64_t rows, int64_t cols, int64_t ld) {
  return torch::from_blob(p, {rows, cols}, {ld, 1}, torch::TensorOptions(c10::CppTypeToScalarType<T>::value));
}

template <class T>
T sigmoid(T g) {
  return T(1) / (T(1) + std::exp(-g));
}

// a = silu(g) * u for `rows` rows of h = [g | u] (row stride 2f).
template <class T>
void swiglu_rows(T* h, T* a, int64_t rows, int64_t f) {
  if (rows * f > kPlainLoopElements) {
    auto out = rows_view(a, rows, f, f);
    at::silu_out(out, rows_view(h, rows, f, 2 * f));
    out.mul_(rows_view(h + f, rows, f, 2 * f));
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const T *g = h + r * 2 * f, *u = g + f;
    for (int64_t j = 0; j < f; ++j) a[r * f + j] = g[j] * sigmoid(g[j]) * u[j];
  }
}

// sig = sigmoid(g) for the gate half of `rows` rows of h = [g | u].
template <class T>
void gate_sigmoid(T* h, T* sig, int64_t rows, int64_t f) {
  if (rows * f > kPlainLoopElements) {
    auto out = rows_view(sig, rows, f, f);
    at::sigmoid_out(out, rows_view(h, rows, f, 2 * f));
    return;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < f; ++j) sig[r * f + j] = sigmoid(h[r * 2 * f + j]);
}

// Experts split into one group per thread, largest first onto the lightest group.
std::vector<std::vector<int64_t>> balance_groups(const std::vector<int64_t>& counts) {
  const int64_t groups = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), int64_t(counts.size())));
  std::vector<int64_t> order(counts.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return counts[a] > counts[b]; });
  std::vector<std::vector<int64_t>> out(groups);
  std::vector<int64_t> load(groups, 0);
  for (int64_t e : order) {
    if (counts[e] == 0) continue;
    auto g = std::min_element(load.begin(), load.end()) - load.begin();
    out[g].push_back(e);
    load[g] += counts[e];
  }
  return out;
}

// Calls f(expert, first row, rows) for every expert with rows, in parallel over threads.
template <class F>
void for_each_expert(const std::vector<int64_t>& counts, F&& f) {
  std::vector<int64_t> offsets(counts.size(), 0);
  for (size_t e = 1; e < counts.size(); ++e) offsets[e] = offsets[e - 1] + counts[e - 1];
  auto groups = balance_groups(counts);
  parallel_for_as_caller(0, int64_t(groups.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g)
      for (int64_t e : groups[g]) f(e, offsets[e], counts[e]);
  });
}

// SwiGLU backward on one expert's rows in one pass with no temporaries (the
// compiler vectorises it): h holds [gate | up] per row (row stride 2f),
// sig = sigmoid(gate), d silu(g) / dg = s (1 + g (1 - s)); writes dh = [dgate | dup]
// and, if `a` is given, recomputes the activation a = g s u (cheaper than
// saving an [N, f] tensor from the forward).
template <class T>
[[gnu::always_inline]] inline void swiglu_backward_rows(const T* h, const T* sig, const T* da, T* dh, T* a,
                                                        int64_t rows, int64_t f) {
  for (int64_t r = 0; r < rows; ++r) {
    const T *g = h + r * 2 * f, *u = g + f, *s = sig + r * f, *d = da + r * f;
    T *dg = dh + r * 2 * f, *du = dg + f;
    for (int64_t j = 0; j < f; ++j) {
      du[j] = d[j] * g[j] * s[j];
      dg[j] = d[j] * u[j] * s[j] * (T(1) + g[j] * (T(1) - s[j]));
    }
    if (a)
      for (int64_t j = 0; j < f; ++j) a[r * f + j] = g[j] * s[j] * u[j];
  }
}

// out[t] = sum over t's kept slots p = pos[t][r] of (w ? w[p] : 1) * rows[p],
// for tokens [begin, end): combine in forward (with the gates) and the input
// gradient in backward.
template <class T>
[[gnu::always_inline]] inline void sum_slots_range(const T* rows, const T* w, const int64_t* pos, T* out,
                                                   int64_t begin, int64_t end, int64_t k, int64_t d) {
  for (int64_t t = begin; t < end; ++t) {
    T* o = out + t * d;
    std::fill(o, o + d, T(0));
    for (int64_t r = 0; r < k; ++r) {
      const int64_t p = pos[t * k + r];
      if (p < 0) continue;  // dropped over capacity
      const T g = w ? w[p] : T(1), *src = rows + p * d;
      for (int64_t j = 0; j < d; ++j) o[j] += g * src[j];
    }
  }
}

// a . b with 16 independent partial sums: a single running sum is one long
// dependency chain the compiler may not reorder (no -ffast-math), ~4x slower.
template <class T>
T dot(const T* a, const T* b, int64_t n) {
  constexpr int64_t lanes = 16;
  T part[lanes] = {};
  int64_t j = 0;
  for (; j + lanes <= n; j += lanes)
    for (int64_t l = 0; l < lanes; ++l) part[l] += a[j + l] * b[j + l];
  T sum = 0;
  for (; j < n; ++j) sum += a[j] * b[j];
  for (int64_t l = 0; l < lanes; ++l) sum += part[l];
  return sum;
}

// Backward of combine for one expert's rows p in [first, first + rows):
// dout[p - first] = gate[p] * dy[token[p]] and, if wanted, dgate[p] = dy[token[p]] . out[p].
template <class T>
[[gnu::always_inline]] inline void scaled_output_grads(const T* dy, const T* out, const T* gate, const int64_t* token, T* dout, T* dgate,
                         int64_t first, int64_t rows, int64_t d) {
  for (int64_t p = first; p < first + rows; ++p) {
    const T *g = dy + token[p] * d;
    T* dst = dout + (p - first) * d;
    for (int64_t j = 0; j < d; ++j) dst[j] = gate[p] * g[j];
    if (dgate) dgate[p] = dot(g, out + p * d, d);
  }
}

// The float versions of the loops above, also compiled for AVX2 and AVX-512
// (chosen at load time): the project builds for baseline x86-64, where these
// loops run at half the speed or less.
#define SMOES_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
SMOES_SIMD_CLONES void swiglu_backward_rows(const float* h, const float* sig, const float* da, float* dh, float* a,
                                            int64_t rows, int64_t f) {
  swiglu_backward_rows<float>(h, sig, da, dh, a, rows, f);
}
SMOES_SIMD_CLONES void sum_slots_range(const float* rows, const float* w, const int64_t* pos, float* out,
                                       int64_t begin, int64_t end, int64_t k, int64_t d) {
  sum_slots_range<float>(rows, w, pos, out, begin, end, k, d);
}
SMOES_SIMD_CLONES void scaled_output_grads(const float* dy, const float* out, const float* gate, const int64_t* token,
                                           float* dout, float* dgate, int64_t first, int64_t rows, int64_t d) {
  scaled_output_grads<float>(dy, out, gate, token, dout, dgate, first, rows, d);
}
#undef SMOES_SIMD_CLONES

// Combine over all tokens, in parallel (out[t] as in sum_slots_range).
template <class T>
void sum_slots(const T* rows, const T* w, const int64_t* pos, T* out, int64_t tokens, int64_t k, int64_t d) {
  at::parallel_for(0, tokens, 64, [&](int64_t begin, int64_t end) { sum_slots_range(rows, w, pos, out, begin, end, k, d); });
}

// Gathers rows x[token[p]] for p in [first, first + rows) into dst (row 0 = p = first).
template <class T>
void gather_rows(const T* x, const int64_t* token, T* dst, int64_t first, int64_t rows, int64_t d) {
  for (int64_t p = first; p < first + rows; ++p) std::copy_n(x + token[p] * d, d, dst + (p - first) * d);
}

// Inputs: x [T, d], gate [N] (sorted slot order), w13, w2, token [N], position [T, k].
// Saved for backward: only what a later pass cannot cheaply rebuild, h (the
// GEMM output) and out (for the gate gradient); the gathered rows and the
// activation are per-expert buffers rebuilt in backward, so they stay in L2.
struct DispatchedSwiGLU : public torch::autograd::Function<DispatchedSwiGLU> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& gate,
                               const torch::Tensor& w13, const torch::Tensor& w2, const torch::Tensor& token,
                               const torch::Tensor& position, std::vector<int64_t> counts, bool fuse_grad_accumulation) {
    const int64_t n = token.size(0), f = w2.size(1), d = w2.size(2);
    auto h = torch::empty({n, 2 * f}, x.options());  // gate | up pre-activations
    auto out = torch::empty({n, d}, x.options());    // expert outputs before the gate
    auto y = torch::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dispatched_swiglu_forward", [&] {
      const scalar_t *xp = x.data_ptr<scalar_t>(), *w13p = w13.data_ptr<scalar_t>(), *w2p = w2.data_ptr<scalar_t>();
      scalar_t *hp = h.data_ptr<scalar_t>(), *outp = out.data_ptr<scalar_t>();
      const int64_t* tok = token.data_ptr<int64_t>();
      for_each_expert(counts, [&](int64_t e, int64_t o, int64_t c) {
        scalar_t *xs = scratch<scalar_t>(0, c * d), *as = scratch<scalar_t>(1, c * f), *hs = hp + o * 2 * f;
        gather_rows(xp, tok, xs, o, c, d);
        gemm('N', 'N', c, 2 * f, d, xs, d, w13p + e * d * 2 * f, 2 * f, 0, hs, 2 * f);
        swiglu_rows(hs, as, c, f);
        gemm('N', 'N', c, d, f, as, f, w2p + e * f * d, d, 0, outp + o * d, d);
      });
      sum_slots(out.data_ptr<scalar_t>(), gate.data_ptr<scalar_t>(), position.data_ptr<int64_t>(),
                y.data_ptr<scalar_t>(), x.size(0), position.size(1), d);
    });
    ctx->save_for_backward({x, gate, w13, w2, token, position, h, out});
    ctx->saved_data["counts"] = counts;
    ctx->saved_data["fuse"] = fuse_grad_accumulation;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto x = saved[0], gate = saved[1], w13 = saved[2], w2 = saved[3], token = saved[4], position = saved[5],
         h = saved[6], out = saved[7];
    auto counts = ctx->saved_data["counts"].toIntVector();
    auto dy = grads[0].contiguous();
    const int64_t f = w2.size(1), d = w2.size(2);
    const bool need_x = ctx->needs_input_grad(0), need_gate = ctx->needs_input_grad(1),
               need_w = ctx->needs_input_grad(2) || ctx->needs_input_grad(3);
    auto dxs = need_x ? torch::empty({token.size(0), d}, x.options()) : torch::Tensor();
    auto dgate = need_gate ? torch::empty_like(gate) : torch::Tensor();
    // Fused: add each expert's weight gradient straight into the existing .grad
    // with the GEMM (beta = 1). Unfused, a fresh [E, ...] tensor is written and
    // AccumulateGrad adds it: three more passes over weights E/k times the
    // size of a dense FFN's, which is most of the MoE overhead at small T.
    const bool fused = ctx->needs_input_grad(2) && ctx->needs_input_grad(3) && ctx->saved_data["fuse"].toBool() &&
                       accumulates_in_place(w13) && accumulates_in_place(w2);
    auto dw13 = !need_w ? torch::Tensor() : fused ? w13.grad() : torch::empty_like(w13);
    auto dw2 = !need_w ? torch::Tensor() : fused ? w2.grad() : torch::empty_like(w2);
    if (need_w && !fused)  // experts without rows get no gradient; the others are written in full below
      for (size_t e = 0; e < counts.size(); ++e)
        if (counts[e] == 0) dw13[e].zero_(), dw2[e].zero_();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dispatched_swiglu_backward", [&] {
      const scalar_t *xp = x.data_ptr<scalar_t>(), *w13p = w13.data_ptr<scalar_t>(), *w2p = w2.data_ptr<scalar_t>(),
                     *dyp = dy.data_ptr<scalar_t>(), *outp = out.data_ptr<scalar_t>(), *gatep = gate.data_ptr<scalar_t>();
      scalar_t* hp = h.data_ptr<scalar_t>();
      scalar_t* dgatep = need_gate ? dgate.data_ptr<scalar_t>() : nullptr;
      scalar_t* dxsp = need_x ? dxs.data_ptr<scalar_t>() : nullptr;
      scalar_t *dw13p = need_w ? dw13.data_ptr<scalar_t>() : nullptr, *dw2p = need_w ? dw2.data_ptr<scalar_t>() : nullptr;
      const int64_t* tok = token.data_ptr<int64_t>();
      const scalar_t beta = fused ? 1 : 0;
      for_each_expert(counts, [&](int64_t e, int64_t o, int64_t c) {
        // This expert's intermediates live only until its last GEMM, in the
        // thread's scratch buffers (in its cache) instead of [N, 2f] tensors
        // streamed through memory. sig = sigmoid(gate): one exp per element.
        scalar_t *dys = scratch<scalar_t>(0, c * d), *das = scratch<scalar_t>(1, c * f),
                 *sig = scratch<scalar_t>(2, c * f), *dhs = scratch<scalar_t>(3, c * 2 * f),
                 *as = need_w ? scratch<scalar_t>(4, c * f) : nullptr, *hs = hp + o * 2 * f;
        scaled_output_grads(dyp, outp, gatep, tok, dys, dgatep, o, c, d);
        gemm('N', 'T', c, f, d, dys, d, w2p + e * f * d, d, 0, das, f);
        gate_sigmoid(hs, sig, c, f);
        swiglu_backward_rows(hs, sig, das, dhs, as, c, f);
        if (need_x) gemm('N', 'T', c, d, 2 * f, dhs, 2 * f, w13p + e * d * 2 * f, 2 * f, 0, dxsp + o * d, d);
        if (!need_w) return;
        gemm('T', 'N', f, d, c, as, f, dys, d, beta, dw2p + e * f * d, d);
        scalar_t* xs = scratch<scalar_t>(5, c * d);
        gather_rows(xp, tok, xs, o, c, d);
        gemm('T', 'N', d, 2 * f, c, xs, d, dhs, 2 * f, beta, dw13p + e * d * 2 * f, 2 * f);
      });
    });
    torch::Tensor dx;
    if (need_x) {
      dx = torch::empty({position.size(0), d}, x.options());
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dispatched_swiglu_dx", [&] {
        sum_slots<scalar_t>(dxs.data_ptr<scalar_t>(), nullptr, position.data_ptr<int64_t>(), dx.data_ptr<scalar_t>(),
                            position.size(0), position.size(1), d);
      });
    }
    if (fused) dw13 = dw2 = torch::Tensor();  // already added into .grad
    return {dx, dgate, dw13, dw2, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

GroupedExpertsImpl::GroupedExpertsImpl(int64_t e, int64_t d, int64_t f) : num_experts(e), d_model(d), ffn_hidden(f) {
  w13 = register_parameter("w13", torch::randn({e, d, 2 * f}) / std::sqrt(double(d)));
  w2 = register_parameter("w2", torch::randn({e, f, d}) / std::sqrt(double(f)));
}

torch::Tensor GroupedExpertsImpl::forward(const torch::Tensor& x, const ExpertBins& bins, const torch::Tensor& gate) {
  const auto& counts = bins.counts;
  if (int64_t(counts.size()) != num_experts)
    throw Error("experts: " + std::to_string(counts.size()) + " counts for " + std::to_string(num_experts) + " experts");
  if (x.dim() != 2 || x.size(1) != d_model || bins.position.size(0) != x.size(0) || gate.numel() != bins.token.numel())
    throw Error("experts: input " + c10::str(x.sizes()) + ", " + c10::str(bins.position.sizes()) + " slot positions, " +
                std::to_string(gate.numel()) + " gates for " + std::to_string(bins.token.numel()) + " rows");
  if (!w13.is_contiguous() || !w2.is_contiguous())  // the expert loops index them as raw arrays
    throw Error("experts: w13 and w2 must be contiguous");
  if (bins.token.numel() == 0) return x.new_zeros(x.sizes()) + 0 * (w13.sum() + w2.sum());
  return DispatchedSwiGLU::apply(x.contiguous(), gate.to(x.dtype()).contiguous(), w13, w2, bins.token.contiguous(),
                                 bins.position.contiguous(), counts, fuse_grad_accumulation);
}

torch::Tensor GroupedExpertsImpl::expert(int64_t e, const torch::Tensor& x) const {
  auto h = torch::mm(x, w13[e]);
  return torch::mm(torch::silu(h.narrow(1, 0, ffn_hidden)) * h.narrow(1, ffn_hidden, ffn_hidden), w2[e]);
}

void GroupedExpertsImpl::upcycle_from(const SwiGLU& dense, double noise) {
  if (dense->w1->weight.size(0) != ffn_hidden || dense->w1->weight.size(1) != d_model)
    throw Error("upcycling: dense FFN is " + c10::str(dense->w1->weight.sizes()) + " (hidden x d), experts need " +
                std::to_string(ffn_hidden) + " x " + std::to_string(d_model));
  torch::NoGradGuard no_grad;
  auto w13_one = torch::cat({dense->w1->weight.t(), dense->w3->weight.t()}, 1);  // [d, 2f]
  w13.copy_(w13_one.unsqueeze(0).expand_as(w13));
  w2.copy_(dense->w2->weight.t().unsqueeze(0).expand_as(w2));
  if (noise > 0) {
    w13.add_(torch::randn_like(w13) * noise);
    w2.add_(torch::randn_like(w2) * noise);
  }
}

}  // namespace smoes::moe
