#include "moe/losses.h"

namespace smoes::moe {

torch::Tensor load_balancing_loss(const torch::Tensor& probs, const torch::Tensor& indices) {
  const int64_t e = probs.size(1);
  if (probs.size(0) == 0) return torch::zeros({}, probs.options());
  // f_e is a count: no gradient flows through it (as in Switch).
  auto counts = torch::zeros({e}, probs.options()).index_add_(
      0, indices.reshape(-1), torch::ones({indices.numel()}, probs.options()));
  auto f = counts / double(indices.numel());
  return double(e) * (f * probs.mean(0)).sum();
}

torch::Tensor z_loss(const torch::Tensor& logits) {
  if (logits.size(0) == 0) return torch::zeros({}, logits.options());
  return torch::logsumexp(logits, -1).pow(2).mean();
}

torch::Tensor symmetric_kl(const torch::Tensor& p, const torch::Tensor& q) {
  const double eps = 1e-9;
  auto lp = (p + eps).log(), lq = (q + eps).log();
  return (p * (lp - lq)).sum() + (q * (lq - lp)).sum();
}

}  // namespace smoes::moe
