#include <ATen/Dispatch.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "model/norm.h"
#include "model/rope.h"
#include "moe/parallel.h"

namespace smoes::model {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// y = x r w with r = 1 / sqrt(mean(x^2) + eps) per row, in one pass per row
// (ATen's formula is six ops and as many passes; three norms a layer).
// Backward: dx = r (g w - x r^2 mean(g w x)), dw = sum over rows of g x r.
struct RMSNormFunction : public torch::autograd::Function<RMSNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& w_in, double eps) {
    TORCH_CHECK(x_in.size(-1) == w_in.numel(), "RMSNorm: input width ", x_in.size(-1), ", weight ", w_in.sizes());
    const int64_t d = w_in.numel(), rows = d > 0 ? x_in.numel() / d : 0;
    auto x = x_in.contiguous(), w = w_in.to(x.scalar_type()).contiguous();
    auto y = torch::empty_like(x), r = torch::empty({rows, 1}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rms_norm", [&] {
      const scalar_t *xp = x.data_ptr<scalar_t>(), *wp = w.data_ptr<scalar_t>();
      scalar_t *yp = y.data_ptr<scalar_t>(), *rp = r.data_ptr<scalar_t>();
      moe::parallel_for_as_caller(0, rows, moe::rows_per_task(d), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const scalar_t* xi = xp + i * d;
          scalar_t squares = 0;
          for (int64_t j = 0; j < d; ++j) squares += xi[j] * xi[j];
          const scalar_t ri = scalar_t(1) / std::sqrt(squares / scalar_t(d) + scalar_t(eps));
          rp[i] = ri;
          for (int64_t j = 0; j < d; ++j) yp[i * d + j] = xi[j] * ri * wp[j];
        }
      });
    });
    ctx->save_for_backward({x, w, r});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto s = ctx->get_saved_variables();
    const auto &x = s[0], &w = s[1], &r = s[2];
    auto g = grads[0].contiguous();
    const int64_t d = w.numel(), rows = r.size(0);
    auto dx = torch::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rms_norm_backward", [&] {
      const scalar_t *xp = x.data_ptr<scalar_t>(), *wp = w.data_ptr<scalar_t>(), *rp = r.data_ptr<scalar_t>();
      const scalar_t* gp = g.data_ptr<scalar_t>();
      scalar_t* dxp = dx.data_ptr<scalar_t>();
      moe::parallel_for_as_caller(0, rows, moe::rows_per_task(d), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const scalar_t *xi = xp + i * d, *gi = gp + i * d, ri = rp[i];
          scalar_t dot = 0;
          for (int64_t j = 0; j < d; ++j) dot += gi[j] * wp[j] * xi[j];
          const scalar_t c = ri * ri * dot / scalar_t(d);
          for (int64_t j = 0; j < d; ++j) dxp[i * d + j] = ri * (gi[j] * wp[j] - xi[j] * c);
        }
      });
    });
    auto dw = ctx->needs_input_grad(1) ? (g.reshape({rows, d}) * x.reshape({rows, d}) * r).sum(0) : torch::Tensor();
    return {dx, dw, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) { return RMSNormFunction::apply(x, weight, eps); }

RoPE::RoPE(int64_t head_dim, int64_t max_positions, double theta) {
  if (head_dim % 2 != 0) throw Error("RoPE: head dimension " + std::to_string(head_dim) + " must be even");
  auto inv_freq = torch::pow(theta, -torch::arange(0, head_dim, 2, torch::kDouble) / double(head_dim));
  auto angles = torch::outer(torch::arange(max_positions, torch::kDouble), inv_freq);  // [P, Dh/2]
  auto full = torch::cat({angles, angles}, -1);
  cos_ = full.cos().to(torch::kFloat);
  sin_ = full.sin().to(torch::kFloat);
}

RoPEAngles RoPE::angles(const torch::Tensor& positions) const {
  auto at = [&](const torch::Tensor& table) {
    return table.index_select(0, positions.reshape(-1)).view({positions.size(0), 1, positions.size(1), -1});
  };
  return {at(cos_), at(sin_)};
}

torch::Tensor RoPE::rotate(const torch::Tensor& x, const RoPEAngles& a) {
  auto half = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * a.cos + rotated * a.sin;
}

}  // namespace smoes::model
