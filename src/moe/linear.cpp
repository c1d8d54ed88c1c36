#include "moe/linear.h"

#include "moe/gemm.h"

namespace smoes::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

variable_list linear_backward(AutogradContext* ctx, const torch::Tensor& dy_in) {
  auto saved = ctx->get_saved_variables();
  auto x = saved[0], w = saved[1];
  auto dy = dy_in.contiguous();
  return {ctx->needs_input_grad(0) ? gemm(dy, w) : torch::Tensor(),
          ctx->needs_input_grad(1) ? gemm(dy.t(), x) : torch::Tensor()};
}

struct Linear : public torch::autograd::Function<Linear> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w) {
    ctx->save_for_backward({x, w});
    return gemm(x, w.t());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) { return linear_backward(ctx, grads[0]); }
};

// The bias seeds the output and the GEMM adds onto it (beta = 1): one pass
// fewer than adding it afterwards. (A separate Function: autograd in LibTorch
// 1.13 cannot take an undefined tensor as an input.)
struct LinearWithBias : public torch::autograd::Function<LinearWithBias> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    ctx->save_for_backward({x, w});
    auto y = torch::empty({x.size(0), w.size(0)}, x.options().requires_grad(false));
    y.copy_(b);  // broadcast over the rows: a fresh buffer, never a view of b
    gemm(y, x, w.t(), /*beta=*/1);
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto out = linear_backward(ctx, grads[0]);
    out.push_back(ctx->needs_input_grad(2) ? grads[0].sum(0) : torch::Tensor());
    return out;
  }
};

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight) {
  TORCH_CHECK(x.dim() == 2 && weight.dim() == 2 && x.size(1) == weight.size(1), "linear: input ", x.sizes(),
              ", weight ", weight.sizes());
  return Linear::apply(x, weight);
}

torch::Tensor linear(const torch::Tensor& x, const torch::nn::Linear& layer) {
  const auto& w = layer->weight;
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == w.size(1), "linear: input ", x.sizes(), ", weight ", w.sizes());
  auto sizes = x.sizes().vec();
  sizes.back() = w.size(0);
  auto flat = x.reshape({-1, w.size(1)});
  return (layer->bias.defined() ? LinearWithBias::apply(flat, w, layer->bias) : Linear::apply(flat, w)).view(sizes);
}

}  // namespace smoes::moe
