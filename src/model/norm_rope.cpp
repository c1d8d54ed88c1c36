#include <torch/torch.h>

#include "core/error.h"
#include "model/norm.h"
#include "model/rope.h"

namespace smoes::model {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight;
}

RoPE::RoPE(int64_t head_dim, int64_t max_positions, double theta) {
  if (head_dim % 2 != 0) throw Error("RoPE: head dimension " + std::to_string(head_dim) + " must be even");
  auto inv_freq = torch::pow(theta, -torch::arange(0, head_dim, 2, torch::kDouble) / double(head_dim));
  auto angles = torch::outer(torch::arange(max_positions, torch::kDouble), inv_freq);  // [P, Dh/2]
  auto full = torch::cat({angles, angles}, -1);
  cos_ = full.cos().to(torch::kFloat);
  sin_ = full.sin().to(torch::kFloat);
}

torch::Tensor RoPE::apply(const torch::Tensor& x, const torch::Tensor& positions) const {
  auto cos = cos_.index_select(0, positions.reshape(-1)).view({positions.size(0), 1, positions.size(1), -1});
  auto sin = sin_.index_select(0, positions.reshape(-1)).view({positions.size(0), 1, positions.size(1), -1});
  auto half = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace smoes::model
