// Why a custom autograd Function: its GEMMs go through moe::gemm like the
// experts', so the dense FFN gets the faster GEMM too and the MoE layer is
// benchmarked against a dense FFN on the same GEMM (smoes bench moe).
#include "moe/swiglu.h"

#include "moe/gemm.h"

namespace smoes::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// x [N, d], w1 and w3 [H, d], w2 [d, H] (nn::Linear layout): y = (silu(x w1^T) * x w3^T) w2^T.
struct DenseSwiGLU : public torch::autograd::Function<DenseSwiGLU> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w1,
                               const torch::Tensor& w3, const torch::Tensor& w2, bool fuse_grad_accumulation) {
    ctx->saved_data["fuse"] = fuse_grad_accumulation;
    auto h1 = gemm(x, w1.t()), h3 = gemm(x, w3.t());
    auto a = torch::silu(h1).mul_(h3);
    ctx->save_for_backward({x, w1, w3, w2, h1, h3, a});
    return gemm(a, w2.t());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto s = ctx->get_saved_variables();
    auto x = s[0], w1 = s[1], w3 = s[2], w2 = s[3], h1 = s[4], h3 = s[5], a = s[6];
    auto dy = grads[0].contiguous();
    auto da = gemm(dy, w2);
    // d silu(g) / dg = sig (1 + g (1 - sig))
    auto sig = torch::sigmoid(h1);
    auto dh3 = da * h1 * sig;
    auto dh1 = (da * h3).mul_(sig).mul_(1 + h1 * (1 - sig));
    torch::Tensor dx;
    if (ctx->needs_input_grad(0)) {
      dx = gemm(dh1, w1);
      gemm(dx, dh3, w3, /*beta=*/1);
    }
    const bool fuse = ctx->saved_data["fuse"].toBool();
    auto dw = [&](int i, const torch::Tensor& w, const torch::Tensor& dh, const torch::Tensor& in) {
      return ctx->needs_input_grad(i) ? weight_gradient(w, dh.t(), in, fuse) : torch::Tensor();
    };
    return {dx, dw(1, w1, dh1, x), dw(2, w3, dh3, x), dw(3, w2, dy, a), torch::Tensor()};
  }
};

}  // namespace

SwiGLUImpl::SwiGLUImpl(int64_t d_model, int64_t hidden) {
  auto opts = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
  w1 = register_module("w1", torch::nn::Linear(opts(d_model, hidden)));
  w3 = register_module("w3", torch::nn::Linear(opts(d_model, hidden)));
  w2 = register_module("w2", torch::nn::Linear(opts(hidden, d_model)));
}

torch::Tensor SwiGLUImpl::forward(const torch::Tensor& x) {
  const int64_t d = w1->weight.size(1);
  TORCH_CHECK(x.size(-1) == d, "SwiGLU: input width ", x.size(-1), ", layer expects ", d);
  auto sizes = x.sizes().vec();
  auto y = DenseSwiGLU::apply(x.reshape({-1, d}).contiguous(), w1->weight, w3->weight, w2->weight,
                              fuse_grad_accumulation);
  return y.view(sizes);
}

}  // namespace smoes::moe
