#include "expert_parallel/install.h"

#include "analysis/routing_metrics.h"
#include "analysis/routing_probe.h"
#include "core/error.h"

namespace smoes::expert_parallel {

std::shared_ptr<Installed> install(model::MoEVLM& model, dist::Group& group) {
  auto out = std::make_shared<Installed>();
  const auto bins = analysis::router_bins(model);
  for (size_t i = 0; i < model->blocks->size(); ++i) {
    auto& moe = model->blocks[i]->as<model::DecoderBlock>()->moe;
    if (!moe) continue;
    auto it = bins.find(int(i));
    std::vector<int64_t> placement;
    try {
      placement = analysis::expert_placement(moe->experts->num_experts, group.size(),
                                             it == bins.end() ? std::vector<int64_t>{} : it->second);
    } catch (const Error& e) {
      throw Error("expert parallel: layer " + std::to_string(i) + ": " + e.what());
    }
    auto ep = std::make_shared<ExpertParallel>(group, placement);
    moe->dispatch = [ep](moe::GroupedExpertsImpl& experts, const torch::Tensor& x, const torch::Tensor& indices,
                         const torch::Tensor& weights) { return ep->forward(experts, x, indices, weights); };
    out->layers.push_back(int(i));
    out->placement.push_back(placement);
    out->dispatch.push_back(ep);
  }
  if (out->layers.empty()) throw Error("expert parallel: the model has no MoE layer");
  return out;
}

nlohmann::json Installed::traffic(dist::Group& group) const {
  // [layer][rows out, rows back, bytes out, bytes back, slots]
  auto t = torch::zeros({int64_t(layers.size()), 5}, torch::kDouble);
  for (size_t l = 0; l < layers.size(); ++l) {
    const auto& x = dispatch[l]->traffic;
    for (auto [c, v] : {std::pair{0, x.dispatch_rows}, {1, x.combine_rows}, {2, x.dispatch_bytes},
                        {3, x.combine_bytes}, {4, x.slots}})
      t[int64_t(l)][c] = double(v);
  }
  std::vector<torch::Tensor> v = {t};
  group.allreduce_sum(v);
  nlohmann::json out{{"ranks", group.size()}, {"layers", nlohmann::json::array()}};
  double bytes = 0, tokens = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    auto row = t[int64_t(l)];
    const double top_k = dispatch[l]->top_k();
    const double routed_tokens = row[4].item<double>() / std::max(1.0, top_k);
    const double layer_bytes = row[2].item<double>() + row[3].item<double>();
    out["layers"].push_back({{"layer", layers[l]},
                             {"placement", placement[l]},
                             {"dispatch_rows", row[0].item<double>()},
                             {"combine_rows", row[1].item<double>()},
                             {"dispatch_bytes", row[2].item<double>()},
                             {"combine_bytes", row[3].item<double>()},
                             {"routed_tokens", routed_tokens},
                             {"remote_slot_rate", row[0].item<double>() / std::max(1.0, row[4].item<double>())},
                             {"bytes_per_token", layer_bytes / std::max(1.0, routed_tokens)}});
    bytes += layer_bytes;
    tokens = std::max(tokens, routed_tokens);
  }
  out["bytes_per_token_all_layers"] = bytes / std::max(1.0, tokens);
  return out;
}

}  // namespace smoes::expert_parallel
