// Router auxiliary losses.
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

// Switch/GShard load balancing: E * sum_e f_e * P_e, with f_e the fraction of
// token-slots routed to expert e and P_e the mean router probability of e.
// `probs` [T, E], `indices` [T, k]. Equals 1 when routing is uniform.
torch::Tensor load_balancing_loss(const torch::Tensor& probs, const torch::Tensor& indices);

// Router z-loss (ST-MoE): mean over tokens of logsumexp(logits)^2.
torch::Tensor z_loss(const torch::Tensor& logits);

// Symmetric KL between two distributions over experts: KL(p||q) + KL(q||p).
torch::Tensor symmetric_kl(const torch::Tensor& p, const torch::Tensor& q);

}  // namespace smoes::moe
