// Dense SwiGLU feed-forward: w2(silu(w1 x) * w3 x). Used for dense decoder
// layers, shared experts, the dense baseline of `smoes bench moe`, and as
// the source of MoE upcycling.
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

struct SwiGLUImpl : torch::nn::Module {
  SwiGLUImpl(int64_t d_model, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);  // x [..., d_model]
  torch::nn::Linear w1{nullptr}, w3{nullptr}, w2{nullptr};
  // When a weight already holds a .grad, backward adds into it in place (see
  // moe::accumulates_in_place), like the experts. Turn off to take weight
  // gradients with torch::autograd::grad while .grad is set.
  bool fuse_grad_accumulation = true;
};
TORCH_MODULE(SwiGLU);

}  // namespace smoes::moe
