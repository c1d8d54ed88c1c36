#include "moe/swiglu.h"

namespace smoes::moe {

SwiGLUImpl::SwiGLUImpl(int64_t d_model, int64_t hidden) {
  auto opts = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
  w1 = register_module("w1", torch::nn::Linear(opts(d_model, hidden)));
  w3 = register_module("w3", torch::nn::Linear(opts(d_model, hidden)));
  w2 = register_module("w2", torch::nn::Linear(opts(hidden, d_model)));
}

}  // namespace smoes::moe
