#include "moe/moe_layer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/non_finite_error.h"
#include "moe/bins.h"

namespace smoes::moe {

MoELayerImpl::MoELayerImpl(const MoEConfig& moe, const RouterConfig& router_cfg_, int64_t d_model, std::string name_)
    : cfg(moe), router_cfg(router_cfg_), name(std::move(name_)) {
  router = register_module("router", make_router(moe, router_cfg_, d_model, name));
  experts = register_module("experts", GroupedExperts(moe.num_experts, d_model, moe.ffn_hidden));
  if (moe.shared_experts > 0)
    shared = register_module("shared", SwiGLU(d_model, int64_t(moe.shared_experts) * moe.ffn_hidden));
}

void MoELayerImpl::set_inference_config(const MoEConfig& moe) {
  auto next = cfg;
  next.top_k = moe.top_k;
  next.capacity_factor = moe.capacity_factor;
  next.record_trace = moe.record_trace;
  make_router(next, router_cfg, experts->d_model, name);  // the router's own checks (partition sizes, ...)
  router->set_top_k(next.top_k);
  cfg = next;
}

void MoELayerImpl::check_inputs(const torch::Tensor& x, const torch::Tensor& modality) const {
  const int64_t d = experts->d_model;
  if (x.size(-1) != d) throw Error(name + ": input width " + std::to_string(x.size(-1)) + ", layer expects " + std::to_string(d));
  if (!modality.defined() || modality.numel() * d != x.numel())
    throw Error(name + ": modality ids " + (modality.defined() ? c10::str(modality.sizes()) : "missing") +
                " do not match input " + c10::str(x.sizes()));
  if (modality.scalar_type() != torch::kLong) throw Error(name + ": modality ids must be int64");
  if (modality.numel() == 0) return;
  // Plain loops, not aminmax + item: a decode step runs these checks in every
  // layer for a handful of tokens, where each ATen call costs more than the scan.
  const auto ids = modality.contiguous();
  const auto* id = ids.data_ptr<int64_t>();
  const auto [lo, hi] = std::minmax_element(id, id + ids.numel());
  if (*lo < 0 || *hi > 1)
    throw Error(name + ": modality ids must be 0 (text) or 1 (vision), got values in [" + std::to_string(*lo) + ", " +
                std::to_string(*hi) + "]");
}

void MoELayerImpl::check_logits(const torch::Tensor& logits) const {
  bool finite = true;
  if (logits.scalar_type() == torch::kFloat) {
    const auto l = logits.contiguous();
    const float* p = l.data_ptr<float>();
    finite = std::all_of(p, p + l.numel(), [](float v) { return std::isfinite(v); });
  } else {
    finite = torch::isfinite(logits).all().item<bool>();
  }
  if (!finite)
    throw NonFiniteError(name + ": router logits contain NaN or Inf (diverged training or bad input)");
}

MoEOutput MoELayerImpl::forward(const torch::Tensor& x, const torch::Tensor& modality, const torch::Tensor& soft,
                                const torch::Tensor& valid, bool want_losses) {
  const auto start = std::chrono::steady_clock::now();
  check_inputs(x, modality);
  const int64_t d = experts->d_model;
  auto flat = x.reshape({-1, d});
  auto mod = modality.reshape(-1);
  auto soft_flat = soft.defined() ? soft.reshape({-1, 2}) : soft;
  // Padding is dropped before routing, so it cannot move a loss or a statistic.
  torch::Tensor rows;
  if (valid.defined()) {
    if (valid.numel() != mod.numel() || valid.scalar_type() != torch::kBool)
      throw Error(name + ": valid mask " + c10::str(valid.sizes()) + " must be bool and match the modality ids " +
                  c10::str(modality.sizes()));
    const auto v = valid.contiguous();
    if (!std::all_of(v.data_ptr<bool>(), v.data_ptr<bool>() + v.numel(), [](bool b) { return b; })) {
      rows = valid.reshape(-1).nonzero().squeeze(1);
      flat = flat.index_select(0, rows);
      mod = mod.index_select(0, rows);
      if (soft_flat.defined()) soft_flat = soft_flat.index_select(0, rows);
    }
  }
  RouterInput in{flat, mod, soft_flat, want_losses};
  RouterOutput routed = router->route(in);
  check_logits(routed.decision.logits);
  if (observe) observe(flat, routed.decision);

  const int64_t tokens = flat.size(0);
  auto keep = skip ? skip(routed.decision, mod) : torch::Tensor();
  auto bins = bin_by_expert(routed.decision.indices, cfg.num_experts,
                            expert_capacity(cfg.capacity_factor, tokens, cfg.top_k, cfg.num_experts), keep);
  torch::Tensor y;
  if (dispatch) {
    if (keep.defined() || bins.dropped > 0)
      throw Error(name + ": expert parallelism runs dropless and without skipping (moe.capacity_factor 0, no skip rule)");
    y = dispatch(*experts, flat, routed.decision.indices, routed.decision.weights);
  } else {
    y = experts->forward(flat, bins, routed.decision.weights.reshape(-1).index_select(0, bins.slot));
  }
  if (shared) y = y + shared(flat);

  MoEOutput out;
  if (rows.defined()) y = torch::zeros({x.numel() / d, d}, y.options()).index_copy(0, rows, y);
  out.y = y.view(x.sizes());
  out.modality = mod;
  out.losses = std::move(routed.losses);
  out.aux_loss = torch::zeros({}, flat.options());
  for (const auto& [loss_name, value] : out.losses)
    out.aux_loss = out.aux_loss + router_loss_coef(cfg, router_cfg, loss_name) * value;
  out.soft_modality = std::move(routed.soft_modality);
  out.decision = std::move(routed.decision);
  out.executed = bins.position.ge(0);
  out.dropped_slots = bins.dropped;
  out.skipped_slots = bins.skipped;
  out.total_slots = bins.total_slots;
  forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace smoes::moe
