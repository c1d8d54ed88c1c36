// The parts of SMoES (METHOD.md section 3) that are plain math, kept apart
// from the router so each can be tested on its own: soft modality scores
// (attention-propagated and per-modality Gaussians), expert bins, and the
// losses that tie modality to bins. Scores are (text, vision) pairs summing
// to 1; modality ids are 0 text, 1 vision.
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

// One-hot (text, vision) scores of hard labels: [..] int64 -> [.., 2] float.
torch::Tensor hard_soft_modality(const torch::Tensor& modality);

// One decoder layer of attention-propagated scores. attention [B, S, Sk]
// head-averaged probabilities over the keys; key_soft [B, Sk, 2] the keys'
// scores entering the layer; soft [B, S, 2] the queries' scores; x [B, S, d]
// the residual input and x_attn the attention output. A token inherits the
// mix of what it attends to in proportion to how much attention adds:
// (|x_attn| * attention @ key_soft + |x| * soft) / (|x_attn| + |x|).
// Detached (no gradient).
torch::Tensor propagate_soft_modality(const torch::Tensor& attention, const torch::Tensor& key_soft,
                                      const torch::Tensor& soft, const torch::Tensor& x, const torch::Tensor& x_attn);

// Per-modality diagonal Gaussians over router inputs. The statistics are
// tensors the router registers as buffers (so checkpoints keep them):
// mean and var [2, D], updates [2] (EMA observations folded in so far).
struct ModalityGaussians {
  torch::Tensor mean, var, updates;

  static ModalityGaussians zeros(int64_t d);
  // Folds each modality's batch mean and variance of x [T, D] into the EMA
  // (exponentially weighted Welford, weight 1 - beta per batch); a modality's
  // first batch sets its statistics. In place, no gradient.
  void update(const torch::Tensor& x, const torch::Tensor& modality, double beta) const;
  // softmax over modalities of the log-likelihoods at temperature 0.5 * D
  // ([T, 2], detached). Until both modalities have statistics the hard
  // labels stand in.
  torch::Tensor scores(const torch::Tensor& x, const torch::Tensor& modality) const;
};

// Expert -> bin [E] int64. Fixed: index order, E / n_bins per bin.
torch::Tensor fixed_bins(int64_t num_experts, int64_t n_bins);
// Adaptive: experts sorted by text fraction text / (text + vision) of their
// loads, most text-heavy first (ties by expert index), cut into n_bins equal
// contiguous bins. Experts with no load count as fraction 0.5.
torch::Tensor adaptive_bins(const torch::Tensor& text_load, const torch::Tensor& vision_load, int64_t n_bins);

// S[m, k] = sum_j soft_j[m] * sum_{e in bin k} probs_j[e] / sum_j soft_j[m]:
// each modality's mean routing mass per bin, normalised by its own mass so
// many image tokens do not drown few text tokens. Rows of modalities with no
// mass in the batch are dropped. probs [T, E], soft [T, 2], bins [E].
torch::Tensor modality_bin_mass(const torch::Tensor& probs, const torch::Tensor& soft, const torch::Tensor& bins,
                                int64_t n_bins);
// I(modality; bin) of the joint P = S / sum S (nats; log 2 at most, for
// perfectly separated routing; 0 with one modality).
torch::Tensor modality_bin_mi(const torch::Tensor& mass);
// Symmetric KL between the text and vision rows of S (0 with one modality).
torch::Tensor modality_bin_kl(const torch::Tensor& mass);

// Switch balance inside each bin, weighted by the bin's share of slots:
// sum_e (E / n_bins) * (slots_e / all slots) * mean_j(probs_j[e] / probs_j[bin(e)]).
// 1 when routing is uniform; bins are free to differ in load.
torch::Tensor within_bin_balance(const torch::Tensor& probs, const torch::Tensor& indices, const torch::Tensor& bins,
                                 int64_t n_bins);

}  // namespace smoes::moe
