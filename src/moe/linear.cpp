#include "moe/linear.h"

#include "moe/gemm.h"

namespace smoes::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Linear : public torch::autograd::Function<Linear> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w) {
    ctx->save_for_backward({x, w});
    return gemm(x, w.t());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto x = saved[0], w = saved[1];
    auto dy = grads[0].contiguous();
    return {ctx->needs_input_grad(0) ? gemm(dy, w) : torch::Tensor(),
            ctx->needs_input_grad(1) ? gemm(dy.t(), x) : torch::Tensor()};
  }
};

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight) {
  TORCH_CHECK(x.dim() == 2 && weight.dim() == 2 && x.size(1) == weight.size(1), "linear: input ", x.sizes(),
              ", weight ", weight.sizes());
  return Linear::apply(x, weight);
}

}  // namespace smoes::moe
