#include "skip/rules.h"

#include "core/error.h"

namespace smoes::skip {

moe::SkipRule naee_rule(double beta) {
  return [beta](const moe::RoutingDecision& d, const torch::Tensor&) {
    auto [top, first] = d.weights.max(1, /*keepdim=*/true);  // w_1, whichever slot a router put it in
    auto keep = d.weights >= beta * top;
    return keep.scatter(1, first, true);
  };
}

moe::SkipRule threshold_rule(double alpha, double tau_text, double tau_vision) {
  return [=](const moe::RoutingDecision& d, const torch::Tensor& modality) {
    auto tau = torch::where(modality.eq(1), tau_vision, tau_text).to(d.probs.scalar_type()).unsqueeze(1);
    return alpha * d.probs.gather(1, d.indices) >= tau;
  };
}

moe::SkipRule top_p_rule(double p) {
  return [p](const moe::RoutingDecision& d, const torch::Tensor&) {
    auto [sorted, order] = d.probs.gather(1, d.indices).sort(1, /*descending=*/true);
    auto above = sorted.cumsum(1) - sorted;  // probability mass of the slots ranked above
    auto keep_sorted = (above < p).index_put_({torch::indexing::Slice(), 0}, true);
    return torch::zeros_like(keep_sorted).scatter(1, order, keep_sorted);
  };
}

moe::SkipRule random_rule(double ratio, uint64_t seed) {
  auto gen = std::make_shared<at::Generator>(at::detail::createCPUGenerator(seed));
  return [ratio, gen](const moe::RoutingDecision& d, const torch::Tensor&) {
    return torch::rand(d.indices.sizes(), *gen, torch::TensorOptions().dtype(torch::kDouble)) >= ratio;
  };
}

double SkipCounts::ratio(int m) const {
  const double n = m < 0 ? double(slots[0] + slots[1]) : double(slots[m]);
  const double s = m < 0 ? double(skipped[0] + skipped[1]) : double(skipped[m]);
  return n > 0 ? s / n : 0.0;
}

std::vector<moe::MoELayerImpl*> moe_layers(model::MoEVLMImpl& model) {
  std::vector<moe::MoELayerImpl*> out;
  for (auto& block : model.blocks->children())
    if (auto& moe = block->as<model::DecoderBlockImpl>()->moe) out.push_back(moe.get());
  return out;
}

InstallRules::InstallRules(model::MoEVLMImpl& model, std::vector<moe::SkipRule> rules,
                           std::shared_ptr<SkipCounts> counts)
    : layers_(moe_layers(model)) {
  for (auto* layer : layers_) previous_.push_back(layer->skip);
  if (rules.size() != layers_.size())
    throw Error("skip: " + std::to_string(rules.size()) + " rules for " + std::to_string(layers_.size()) + " MoE layers");
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto rule = std::move(rules[i]);
    layers_[i]->skip = [rule, counts](const moe::RoutingDecision& d, const torch::Tensor& modality) {
      auto keep = rule ? rule(d, modality) : torch::ones(d.indices.sizes(), torch::kBool);
      if (counts)
        for (int m = 0; m < 2; ++m) {
          auto mine = modality.eq(m);
          counts->slots[m] += mine.sum().item<int64_t>() * d.indices.size(1);
          counts->skipped[m] += (~keep).index({mine}).sum().item<int64_t>();
        }
      return keep;
    };
  }
}

InstallRules::~InstallRules() {
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->skip = previous_[i];
}

}  // namespace smoes::skip
