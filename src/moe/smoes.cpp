#include "moe/smoes.h"

#include "core/error.h"

namespace smoes::moe {

namespace {
constexpr double kEps = 1e-12;
constexpr double kVarFloor = 1e-5;  // keeps a constant feature from giving an infinite log-likelihood
}  // namespace

torch::Tensor hard_soft_modality(const torch::Tensor& modality) {
  return torch::one_hot(modality, 2).to(torch::kFloat);
}

torch::Tensor propagate_soft_modality(const torch::Tensor& attention, const torch::Tensor& key_soft,
                                      const torch::Tensor& soft, const torch::Tensor& x, const torch::Tensor& x_attn) {
  torch::NoGradGuard no_grad;
  auto inherited = torch::matmul(attention.to(key_soft.dtype()), key_soft);  // [B, S, 2]
  auto w_attn = x_attn.norm(2, -1, true).to(soft.dtype()), w_self = x.norm(2, -1, true).to(soft.dtype());
  auto mixed = (w_attn * inherited + w_self * soft) / (w_attn + w_self).clamp_min(kEps);
  // Rows of attention sum to 1, so this is already normalised; dividing again
  // only removes rounding drift.
  return mixed / mixed.sum(-1, true).clamp_min(kEps);
}

ModalityGaussians ModalityGaussians::zeros(int64_t d) {
  return {torch::zeros({2, d}), torch::ones({2, d}), torch::zeros({2})};
}

void ModalityGaussians::update(const torch::Tensor& x, const torch::Tensor& modality, double beta) const {
  torch::NoGradGuard no_grad;
  const double alpha = 1.0 - beta;
  for (int64_t m = 0; m < 2; ++m) {
    auto rows = x.index_select(0, modality.eq(m).nonzero().squeeze(1)).to(mean.dtype());
    if (rows.size(0) == 0) continue;
    auto batch_mean = rows.mean(0);
    auto batch_var = rows.var(0, /*unbiased=*/false);
    if (updates[m].item<double>() == 0) {
      mean[m].copy_(batch_mean);
      var[m].copy_(batch_var.clamp_min(kVarFloor));
    } else {
      auto diff = batch_mean - mean[m];
      mean[m].add_(alpha * diff);
      var[m].copy_(((1 - alpha) * (var[m] + alpha * diff * diff) + alpha * batch_var).clamp_min(kVarFloor));
    }
    updates[m].add_(1);
  }
}

torch::Tensor ModalityGaussians::scores(const torch::Tensor& x, const torch::Tensor& modality) const {
  torch::NoGradGuard no_grad;
  if (!(updates > 0).all().item<bool>()) return hard_soft_modality(modality);
  auto xf = x.detach().to(mean.dtype()).unsqueeze(1);                                        // [T, 1, D]
  auto loglik = -0.5 * (var.log() + (xf - mean).pow(2) / var).sum(-1);                     // [T, 2]
  return torch::softmax(loglik / (0.5 * double(mean.size(1))), -1).to(torch::kFloat);
}

torch::Tensor fixed_bins(int64_t num_experts, int64_t n_bins) {
  if (n_bins < 1 || num_experts % n_bins != 0)
    throw Error("smoes: " + std::to_string(n_bins) + " bins do not divide " + std::to_string(num_experts) + " experts");
  return torch::arange(num_experts, torch::kLong).div(num_experts / n_bins, "floor");
}

torch::Tensor adaptive_bins(const torch::Tensor& text_load, const torch::Tensor& vision_load, int64_t n_bins) {
  const int64_t e = text_load.numel();
  auto fixed = fixed_bins(e, n_bins);
  auto total = text_load + vision_load;
  auto fraction = torch::where(total > 0, text_load / total.clamp_min(kEps), torch::full_like(total, 0.5));
  auto order = std::get<1>(fraction.to(torch::kDouble).sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  // The i-th expert in sorted order goes to bin i / (E / n_bins).
  return torch::empty({e}, torch::kLong).index_put_({order}, fixed);
}

torch::Tensor modality_bin_mass(const torch::Tensor& probs, const torch::Tensor& soft, const torch::Tensor& bins,
                                int64_t n_bins) {
  auto to_bin = torch::one_hot(bins, n_bins).to(probs.dtype());  // [E, N]
  auto per_bin = torch::matmul(probs, to_bin);                     // [T, N]
  auto weights = soft.to(probs.dtype()).detach();                 // [T, 2]
  auto mass = weights.sum(0);                                      // [2]
  auto s = torch::matmul(weights.t(), per_bin) / mass.clamp_min(kEps).unsqueeze(1);
  return s.index_select(0, (mass > 1e-6).nonzero().squeeze(1));
}

torch::Tensor modality_bin_mi(const torch::Tensor& mass) {
  if (mass.size(0) < 2) return torch::zeros({}, mass.options());
  auto p = mass / mass.sum().clamp_min(kEps);
  auto independent = p.sum(1, true) * p.sum(0, true);
  return (p * (p.clamp_min(kEps).log() - independent.clamp_min(kEps).log())).sum();
}

torch::Tensor modality_bin_kl(const torch::Tensor& mass) {
  if (mass.size(0) < 2) return torch::zeros({}, mass.options());
  auto p = mass[0] / mass[0].sum().clamp_min(kEps), q = mass[1] / mass[1].sum().clamp_min(kEps);
  auto lp = p.clamp_min(kEps).log(), lq = q.clamp_min(kEps).log();
  return (p * (lp - lq)).sum() + (q * (lq - lp)).sum();
}

torch::Tensor within_bin_balance(const torch::Tensor& probs, const torch::Tensor& indices, const torch::Tensor& bins,
                                 int64_t n_bins) {
  const int64_t e = probs.size(1);
  if (probs.size(0) == 0) return torch::zeros({}, probs.options());
  auto to_bin = torch::one_hot(bins, n_bins).to(probs.dtype());                       // [E, N]
  auto bin_mass = torch::matmul(torch::matmul(probs, to_bin), to_bin.t());            // [T, E]: mass of e's bin
  auto within = (probs / bin_mass.clamp_min(kEps)).mean(0);                           // [E]
  auto slots = torch::zeros({e}, probs.options())
                   .index_add_(0, indices.reshape(-1), torch::ones({indices.numel()}, probs.options()));
  return (double(e) / double(n_bins)) * (slots / double(indices.numel()) * within).sum();
}

}  // namespace smoes::moe
