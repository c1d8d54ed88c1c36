// RMSNorm (LibTorch 1.13 has none): x / rms(x) * weight.
#pragma once
#include <torch/torch.h>

namespace smoes::model {

struct RMSNormImpl : torch::nn::Module {
  RMSNormImpl(int64_t dim, double eps = 1e-6);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

}  // namespace smoes::model
