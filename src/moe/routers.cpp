// All router policies (see router.h); small enough to read side by side.
#include <torch/torch.h>

#include <map>

#include "core/error.h"
#include "moe/linear.h"
#include "moe/losses.h"
#include "moe/router.h"
#include "moe/smoes.h"
#include "moe/softmax_topk.h"

namespace smoes::moe {

Partition Partition::resolve(const RouterConfig& r, int e) {
  Partition p{r.text_experts, r.vision_experts, r.cross_modal_experts};
  if (p.text + p.vision + p.cross != 0) return p;
  if (router_kind(r.name).partition == ExpertPartition::shared_quarter) {
    p.cross = std::max(1, e / 4);
    p.text = (e - p.cross) / 2;
    p.vision = e - p.cross - p.text;
  } else {
    p.text = e / 2;
    p.vision = e - p.text;
  }
  return p;
}

RouterImpl::RouterImpl(const MoEConfig& moe, const RouterConfig& cfg, int64_t d_model, std::string layer)
    : moe_(moe), cfg_(cfg), layer_(std::move(layer)) {
  gate = register_module("gate", torch::nn::Linear(torch::nn::LinearOptions(d_model, moe.num_experts).bias(false)));
  torch::nn::init::normal_(gate->weight, 0.0, 0.02);
}

RouterOutput RouterImpl::softmax_topk(const torch::Tensor& logits, const torch::Tensor& allowed, bool renormalize,
                                      bool want_losses) const {
  RouterOutput out;
  auto routed = moe::softmax_topk(logits, allowed, moe_.top_k, renormalize);
  out.decision = {routed.indices, routed.weights, routed.probs, logits};
  if (!want_losses) return out;
  out.losses["balance"] = load_balancing_loss(routed.probs, routed.indices);
  out.losses["z"] = z_loss(logits);
  return out;
}

namespace {

class TopKRouter : public RouterImpl {
 public:
  using RouterImpl::RouterImpl;
  RouterOutput route(const RouterInput& in) override {
    return softmax_topk(moe::linear(in.hidden, gate->weight), {}, cfg_.renormalize, in.want_losses);
  }
};

// DeepSeek-V3 aux-loss-free balancing: the bias only shifts which experts are
// chosen; weights come from the unbiased sigmoid scores.
class SigmoidBiasRouter : public RouterImpl {
 public:
  SigmoidBiasRouter(const MoEConfig& moe, const RouterConfig& cfg, int64_t d, std::string layer)
      : RouterImpl(moe, cfg, d, std::move(layer)) {
    bias = register_buffer("selection_bias", torch::zeros({moe.num_experts}));
  }
  RouterOutput route(const RouterInput& in) override {
    RouterOutput out;
    auto logits = moe::linear(in.hidden, gate->weight);
    auto scores = torch::sigmoid(logits);
    auto top_i = std::get<1>((scores + bias).topk(moe_.top_k, -1));
    auto top_w = scores.gather(1, top_i);
    top_w = top_w / top_w.sum(-1, true);
    auto probs = scores / scores.sum(-1, true);
    out.decision = {top_i, top_w, probs, logits};
    if (in.want_losses) {
      out.losses["balance"] = load_balancing_loss(probs, top_i);
      out.losses["z"] = z_loss(logits);
    }
    if (is_training()) update_bias(top_i);
    return out;
  }
  torch::Tensor bias;

 private:
  void update_bias(const torch::Tensor& top_i) {
    torch::NoGradGuard no_grad;
    auto load = torch::bincount(top_i.reshape(-1), {}, moe_.num_experts).to(torch::kFloat);
    bias.add_(cfg_.bias_update_rate * torch::sign(load.mean() - load));  // underloaded experts go up
  }
};

// hard_modality and moiie: each token may use its modality's experts (and,
// for moiie, the shared cross-modal ones). Balance is measured within each
// modality's allowed set, weighted by that modality's share of tokens.
class ModalityPartitionRouter : public RouterImpl {
 public:
  ModalityPartitionRouter(const MoEConfig& moe, const RouterConfig& cfg, int64_t d, std::string layer)
      : RouterImpl(moe, cfg, d, std::move(layer)), part_(Partition::resolve(cfg, moe.num_experts)) {
    const int e = moe.num_experts;
    if (part_.text + part_.vision + part_.cross != e)
      throw Error(layer_ + ": " + cfg.name + " partition text " + std::to_string(part_.text) + " + vision " +
                  std::to_string(part_.vision) + " + cross-modal " + std::to_string(part_.cross) +
                  " does not add up to " + std::to_string(e) + " experts");
    for (auto [name, size] : {std::pair{"text", part_.text}, std::pair{"vision", part_.vision}})
      if (size + part_.cross < moe.top_k)
        throw Error(layer_ + ": " + cfg.name + " gives " + name + " tokens " + std::to_string(size + part_.cross) +
                    " experts, fewer than top_k = " + std::to_string(moe.top_k));
    auto allowed = torch::zeros({2, e}, torch::kBool);
    allowed[0].narrow(0, 0, part_.text).fill_(true);
    allowed[1].narrow(0, part_.text, part_.vision).fill_(true);
    if (part_.cross > 0) allowed.narrow(1, part_.text + part_.vision, part_.cross).fill_(true);
    allowed_ = register_buffer("allowed", allowed);
  }
  RouterOutput route(const RouterInput& in) override {
    auto logits = moe::linear(in.hidden, gate->weight);
    auto allowed = allowed_.index_select(0, in.modality);
    RouterOutput out = softmax_topk(logits, allowed, /*renormalize=*/true, in.want_losses);
    if (!in.want_losses) return out;
    auto balance = torch::zeros({}, logits.options());
    const double t = double(std::max<int64_t>(1, logits.size(0)));
    for (int64_t m = 0; m < 2; ++m) {
      auto rows = in.modality.eq(m).nonzero().squeeze(1);
      if (rows.numel() == 0) continue;
      auto experts = allowed_[m].nonzero().squeeze(1);
      // Remap chosen ids into the allowed set's local numbering.
      auto local = torch::full({moe_.num_experts}, -1, torch::kLong).index_put_({experts}, torch::arange(experts.size(0)));
      auto probs = out.decision.probs.index_select(0, rows).index_select(1, experts);
      auto idx = local.index_select(0, out.decision.indices.index_select(0, rows).reshape(-1)).view({rows.size(0), -1});
      balance = balance + load_balancing_loss(probs, idx) * (double(rows.size(0)) / t);
    }
    out.losses["balance"] = balance;
    return out;
  }

 private:
  Partition part_;
  torch::Tensor allowed_;
};

// SMAR: per-modality logit biases, and a hinge keeping the symmetric KL
// between the text and vision mean routing distributions inside [lo, hi].
class SmarRouter : public RouterImpl {
 public:
  SmarRouter(const MoEConfig& moe, const RouterConfig& cfg, int64_t d, std::string layer)
      : RouterImpl(moe, cfg, d, std::move(layer)) {
    modality_bias = register_parameter("modality_bias", torch::zeros({2, moe.num_experts}));
  }
  RouterOutput route(const RouterInput& in) override {
    auto logits = moe::linear(in.hidden, gate->weight) + modality_bias.index_select(0, in.modality);
    RouterOutput out = softmax_topk(logits, {}, cfg_.renormalize, in.want_losses);
    if (in.want_losses) out.losses["smar"] = band_hinge(out.decision.probs, in.modality);
    return out;
  }
  torch::Tensor band_hinge(const torch::Tensor& probs, const torch::Tensor& modality) const {
    auto text = modality.eq(0).nonzero().squeeze(1), vision = modality.eq(1).nonzero().squeeze(1);
    if (text.numel() == 0 || vision.numel() == 0) return torch::zeros({}, probs.options());
    auto skl = symmetric_kl(probs.index_select(0, text).mean(0), probs.index_select(0, vision).mean(0));
    return torch::relu(cfg_.smar_band_lo - skl) + torch::relu(skl - cfg_.smar_band_hi);
  }
  torch::Tensor modality_bias;
};

// SMoES: top-k routing whose losses tie modality to expert bins. The soft
// score says how much of each modality a token carries (attention-propagated
// scores come from the decoder; Gaussian ones are computed here from the
// router input); bins group experts so that, with the MI loss, text and
// vision mass settles in different bins while balance holds inside each bin.
class SmoesRouter : public RouterImpl {
 public:
  SmoesRouter(const MoEConfig& moe, const RouterConfig& cfg, int64_t d, std::string layer)
      : RouterImpl(moe, cfg, d, std::move(layer)) {
    const int64_t e = moe.num_experts;
    if (cfg.num_bins < 1 || e % cfg.num_bins != 0)
      throw Error(layer_ + ": router.num_bins = " + std::to_string(cfg.num_bins) + " does not divide the " +
                  std::to_string(e) + " experts into equal bins");
    auto g = ModalityGaussians::zeros(d);
    gaussians.mean = register_buffer("gaussian_mean", g.mean);
    gaussians.var = register_buffer("gaussian_var", g.var);
    gaussians.updates = register_buffer("gaussian_updates", g.updates);
    text_load = register_buffer("text_load", torch::zeros({e}));
    vision_load = register_buffer("vision_load", torch::zeros({e}));
    expert_bin = register_buffer("expert_bin", fixed_bins(e, cfg.num_bins));
    forwards = register_buffer("training_forwards", torch::zeros({}, torch::kLong));
  }

  RouterOutput route(const RouterInput& in) override {
    auto logits = moe::linear(in.hidden, gate->weight);
    auto routed = moe::softmax_topk(logits, {}, moe_.top_k, cfg_.renormalize);
    RouterOutput out;
    out.decision = {routed.indices, routed.weights, routed.probs, logits};
    out.soft_modality = soft_scores(in);
    if (is_training()) track(in, routed.indices);
    if (!in.want_losses) return out;
    out.losses["bin_balance"] = within_bin_balance(routed.probs, routed.indices, expert_bin, cfg_.num_bins);
    out.losses["z"] = z_loss(logits);
    if (cfg_.bin_loss != "none") {
      auto mass = modality_bin_mass(routed.probs, out.soft_modality, expert_bin, cfg_.num_bins);
      if (cfg_.bin_loss == "mi") out.losses["mi"] = -modality_bin_mi(mass);
      else out.losses["bin_kl"] = -modality_bin_kl(mass);
    }
    return out;
  }

  ModalityGaussians gaussians;
  torch::Tensor text_load, vision_load, expert_bin, forwards;

 private:
  torch::Tensor soft_scores(const RouterInput& in) {
    if (cfg_.soft_scores == "gaussian") {
      auto scores = gaussians.scores(in.hidden, in.modality);  // from statistics before this batch
      if (is_training()) gaussians.update(in.hidden.detach(), in.modality, cfg_.gaussian_momentum);
      return scores;
    }
    // attention: the decoder propagates them; a layer used on its own (or
    // the decoder's first layer before any attention) has the hard labels.
    if (cfg_.soft_scores == "attention" && in.soft_modality.defined()) return in.soft_modality.detach();
    return hard_soft_modality(in.modality);
  }

  // Loads of the experts by modality (EMA), and re-binning every K forwards.
  void track(const RouterInput& in, const torch::Tensor& indices) {
    torch::NoGradGuard no_grad;
    const int64_t e = moe_.num_experts;
    for (auto [m, load] : {std::pair{0, text_load}, std::pair{1, vision_load}}) {
      auto slots = indices.index_select(0, in.modality.eq(m).nonzero().squeeze(1)).reshape(-1);
      load.mul_(cfg_.load_ema).add_((1 - cfg_.load_ema) * torch::bincount(slots, {}, e).to(load.dtype()));
    }
    forwards.add_(1);
    if (cfg_.binning == "adaptive" && forwards.item<int64_t>() % cfg_.rebin_every == 0)
      expert_bin.copy_(adaptive_bins(text_load, vision_load, cfg_.num_bins));
  }
};

template <class R>
std::shared_ptr<RouterImpl> build(const MoEConfig& moe, const RouterConfig& cfg, int64_t d, const std::string& layer) {
  return std::make_shared<R>(moe, cfg, d, layer);
}

// The class behind each kind of core/router_table.cpp.
using Factory = std::shared_ptr<RouterImpl> (*)(const MoEConfig&, const RouterConfig&, int64_t, const std::string&);
const std::map<std::string, Factory> kFactories = {
    {"topk", build<TopKRouter>},          {"sigmoid_bias", build<SigmoidBiasRouter>},
    {"hard_modality", build<ModalityPartitionRouter>}, {"moiie", build<ModalityPartitionRouter>},
    {"smar", build<SmarRouter>},          {"smoes", build<SmoesRouter>},
};

}  // namespace

std::shared_ptr<RouterImpl> make_router(const MoEConfig& moe, const RouterConfig& cfg, int64_t d_model,
                                        const std::string& layer) {
  if (moe.top_k < 1 || moe.top_k > moe.num_experts)
    throw Error(layer + ": top_k = " + std::to_string(moe.top_k) + " must be between 1 and the " +
                std::to_string(moe.num_experts) + " experts");
  router_kind(cfg.name);  // throws naming router.name and the known kinds
  auto it = kFactories.find(cfg.name);
  if (it == kFactories.end())
    throw Error(layer + ": router '" + cfg.name + "' is in core/router_table.cpp but has no class in moe/routers.cpp");
  return it->second(moe, cfg, d_model, layer);
}

}  // namespace smoes::moe
