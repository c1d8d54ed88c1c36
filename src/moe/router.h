// Routers: one interface, chosen by `router.name` in the config.
//   topk           softmax over E, top-k, weights renormalised (Mixtral) or not (DeepSeek)
//   sigmoid_bias   sigmoid scores; a per-expert bias used only for selection is
//                  nudged toward balance every training step (DeepSeek-V3, aux-loss-free)
//   hard_modality  text tokens route only among text experts, vision among vision experts
//   moiie          modality-specific experts plus shared cross-modal experts
//   smar           topk + per-modality router biases + hinge on the symmetric KL
//                  between text and vision mean routing distributions
//   smoes          topk + soft modality scores, expert bins, modality-bin MI
//                  and within-bin balance (moe/smoes.h)
// Every router returns indices, weights, full probabilities and its
// unweighted losses, each listed with its weight in core/router_table.cpp.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/config.h"
#include "moe/routing.h"

namespace smoes::moe {

// Which experts each modality may use (hard_modality / moiie).
struct Partition {
  int text = 0, vision = 0, cross = 0;  // experts [0,text) text, [text,text+vision) vision, rest shared
  // Resolves zeros in the config to defaults: hard_modality half/half;
  // moiie a quarter shared (at least 1), the rest split.
  static Partition resolve(const RouterConfig& r, int num_experts);
};

class RouterImpl : public torch::nn::Module {
 public:
  RouterImpl(const MoEConfig& moe, const RouterConfig& cfg, int64_t d_model, std::string layer);
  virtual RouterOutput route(const RouterInput& in) = 0;
  const std::string& layer() const { return layer_; }
  // Inference-time top-k (smoes eval --set moe.top_k); MoELayerImpl checks it.
  void set_top_k(int k) { moe_.top_k = k; }

  torch::nn::Linear gate{nullptr};  // d -> E router logits

 protected:
  // Softmax over logits with experts outside each token's allowed set masked.
  // want_losses: the balance and z losses too.
  RouterOutput softmax_topk(const torch::Tensor& logits, const torch::Tensor& allowed, bool renormalize,
                            bool want_losses) const;

  MoEConfig moe_;
  RouterConfig cfg_;
  std::string layer_;
};

// Builds the router named by cfg.name; throws smoes::Error naming the layer
// for impossible settings (top-k larger than a modality's partition, ...).
std::shared_ptr<RouterImpl> make_router(const MoEConfig& moe, const RouterConfig& cfg, int64_t d_model,
                                        const std::string& layer);

}  // namespace smoes::moe
