#include "skip/prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "moe/smoes.h"
#include "moe/softmax_topk.h"
#include "skip/rules.h"

namespace smoes::skip {

namespace {

double combinations(int64_t n, int64_t r) {
  double c = 1;
  for (int64_t i = 1; i <= r; ++i) c = c * double(n - r + i) / double(i);
  return c;
}

// The routed output when only `subset` exists: its logits, softmax top-k, weighted expert outputs.
torch::Tensor routed_output(const torch::Tensor& y, const torch::Tensor& logits, const std::vector<int64_t>& subset,
                            int64_t top_k, bool renormalize) {
  auto ids = torch::tensor(subset, torch::kLong);
  auto routed = moe::softmax_topk(logits.index_select(1, ids), {}, top_k, renormalize);
  auto experts = ids.index_select(0, routed.indices.reshape(-1)).view(routed.indices.sizes());  // [T, k] original ids
  auto per_token = y.permute({1, 0, 2});                                                           // [T, E, d]
  auto picked = per_token.gather(1, experts.unsqueeze(-1).expand({-1, -1, y.size(2)}));         // [T, k, d]
  return (routed.weights.unsqueeze(-1) * picked).sum(1);
}

LayerPrune search_layer(const torch::Tensor& y, const torch::Tensor& logits, int64_t top_k, bool renormalize,
                        const PruneOptions& o) {
  const int64_t e = y.size(0), r = o.keep;
  std::vector<int64_t> all(static_cast<size_t>(e));
  std::iota(all.begin(), all.end(), 0);
  auto full = routed_output(y, logits, all, top_k, renormalize);
  LayerPrune best;
  best.error = std::numeric_limits<double>::infinity();
  auto score = [&](const std::vector<int64_t>& subset) {
    ++best.subsets;
    return subset_error(y, logits, full, subset, top_k, renormalize);
  };
  if (combinations(e, r) <= o.exact_limit) {
    best.search = "exact";
    std::vector<int64_t> subset(all.begin(), all.begin() + r);
    while (true) {
      if (const double err = score(subset); err < best.error) best.error = err, best.kept = subset;
      // Next combination in lexicographic order.
      int64_t i = r - 1;
      while (i >= 0 && subset[size_t(i)] == e - r + i) --i;
      if (i < 0) break;
      ++subset[size_t(i)];
      for (int64_t j = i + 1; j < r; ++j) subset[size_t(j)] = subset[size_t(j - 1)] + 1;
    }
    return best;
  }
  best.search = "greedy";
  auto current = all;
  while (int64_t(current.size()) > r) {
    double least = std::numeric_limits<double>::infinity();
    size_t drop = 0;
    for (size_t i = 0; i < current.size(); ++i) {
      auto without = current;
      without.erase(without.begin() + int64_t(i));
      if (const double err = score(without); err < least) least = err, drop = i;
    }
    current.erase(current.begin() + int64_t(drop));
    best.error = least;
  }
  best.kept = current;
  return best;
}

}  // namespace

double subset_error(const torch::Tensor& y, const torch::Tensor& logits, const torch::Tensor& full,
                    const std::vector<int64_t>& subset, int64_t top_k, bool renormalize) {
  auto diff = routed_output(y, logits, subset, top_k, renormalize) - full;
  return diff.pow(2).sum().item<double>() / std::max(1e-30, full.pow(2).sum().item<double>());
}

std::vector<LayerPrune> choose_experts(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches,
                                       const PruneOptions& o) {
  auto layers = moe_layers(model);
  if (layers.empty()) throw Error("naee-prune: the checkpoint has no MoE layer (moe.enabled is false): nothing to prune");
  const auto& router = model.cfg.router.name;
  if (router != "topk" && router != "smoes")
    throw Error("naee-prune: router '" + router + "' is not supported (pruning restricts a softmax top-k over the "
                "gate's logits: topk and smoes)");
  for (auto* layer : layers) {
    const int64_t e = layer->cfg.num_experts;
    if (o.keep >= e)
      throw Error("naee-prune: keeping r = " + std::to_string(o.keep) + " of " + std::to_string(e) + " experts (" +
                  layer->name + ") prunes nothing: r must be below E");
    if (o.keep < model.cfg.moe.top_k)
      throw Error("naee-prune: r = " + std::to_string(o.keep) + " is below moe.top_k = " +
                  std::to_string(model.cfg.moe.top_k) + ": each token routes to top_k distinct experts");
  }
  // The routed tokens entering each MoE layer, on the unpruned model.
  std::vector<std::vector<torch::Tensor>> inputs(layers.size()), logits(layers.size());
  {
    struct Observing {  // the hooks write into these locals: gone with them, even on a throw
      std::vector<moe::MoELayerImpl*>& layers;
      ~Observing() {
        for (auto* layer : layers) layer->observe = nullptr;
      }
    } observing{layers};
    for (size_t l = 0; l < layers.size(); ++l)
      layers[l]->observe = [&, l](const torch::Tensor& x, const moe::RoutingDecision& d) {
        inputs[l].push_back(x.detach());
        logits[l].push_back(d.logits.detach());
      };
    torch::NoGradGuard no_grad;
    model.eval();
    for (const auto& b : batches) model.forward(b.input);
  }
  std::vector<LayerPrune> out;
  Progress progress("naee-prune", int64_t(layers.size()));
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < layers.size(); ++l) {
    auto x = torch::cat(inputs[l]), lg = torch::cat(logits[l]);
    if (x.size(0) > o.tokens) {  // evenly spaced: every example contributes
      auto rows = torch::linspace(0, double(x.size(0) - 1), o.tokens).round().to(torch::kLong);
      x = x.index_select(0, rows), lg = lg.index_select(0, rows);
    }
    std::vector<torch::Tensor> ys;
    for (int64_t e = 0; e < layers[l]->cfg.num_experts; ++e) ys.push_back(layers[l]->experts->expert(e, x));
    auto best = search_layer(torch::stack(ys), lg, model.cfg.moe.top_k, model.cfg.router.renormalize, o);
    best.layer = int(l) * model.cfg.model.moe_every + model.cfg.model.moe_every - 1;
    out.push_back(std::move(best));
    progress.update(int64_t(l + 1), "layer " + std::to_string(out.back().layer) + " error " +
                                        std::to_string(out.back().error));
  }
  progress.finish();
  return out;
}

model::MoEVLM pruned_model(model::MoEVLMImpl& model, const std::vector<LayerPrune>& layers) {
  auto cfg = model.cfg;
  cfg.moe.layer_experts.clear();
  for (const auto& l : layers) cfg.moe.layer_experts.push_back(int(l.kept.size()));
  cfg.validate("pruned config");
  model::MoEVLM pruned(cfg, model.vocab_size, model.image_token_id);
  torch::NoGradGuard no_grad;
  auto source = model.named_parameters(), target = pruned->named_parameters();
  auto source_buffers = model.named_buffers(), target_buffers = pruned->named_buffers();
  auto copy = [&](const std::string& name, torch::Tensor dst, const torch::Tensor& src) {
    if (src.sizes() == dst.sizes()) return void(dst.copy_(src));
    // A pruned layer's per-expert tensor: select the kept experts along the dimension that shrank.
    const int block = std::stoi(name.substr(name.find('.') + 1));
    const auto& kept = layers[size_t(block / cfg.model.moe_every)].kept;
    for (int64_t d = 0; d < src.dim(); ++d)
      if (src.size(d) != dst.size(d)) return void(dst.copy_(src.index_select(d, torch::tensor(kept, torch::kLong))));
  };
  for (const auto& p : target) copy(p.key(), p.value(), source[p.key()]);
  for (const auto& b : target_buffers) copy(b.key(), b.value(), source_buffers[b.key()]);
  if (cfg.router.name == "smoes")  // the bins of the kept experts, re-cut into equal bins
    for (auto* layer : moe_layers(*pruned)) {
      auto& r = *layer->router;
      auto bins = cfg.router.binning == "adaptive"
                      ? moe::adaptive_bins(r.named_buffers()["text_load"], r.named_buffers()["vision_load"],
                                           cfg.router.num_bins)
                      : moe::fixed_bins(layer->cfg.num_experts, cfg.router.num_bins);
      r.named_buffers()["expert_bin"].copy_(bins);
    }
  pruned->eval();
  return pruned;
}

nlohmann::json prune_json(const std::vector<LayerPrune>& layers) {
  auto out = nlohmann::json::array();
  for (const auto& l : layers)
    out.push_back({{"layer", l.layer}, {"kept", l.kept}, {"relative_error", l.error}, {"search", l.search},
                   {"subsets_scored", l.subsets}});
  return out;
}

}  // namespace smoes::skip
