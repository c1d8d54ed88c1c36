#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/vlm.h"

namespace smoes::model {

const std::vector<std::string>& inference_fields() {
  // What changes how a trained model runs but none of its tensors.
  static const std::vector<std::string> fields = {"model.blind", "moe.top_k", "moe.capacity_factor",
                                                  "moe.record_trace"};
  return fields;
}

void apply_inference_overrides(MoEVLMImpl& model, const std::vector<std::string>& assignments) {
  if (assignments.empty()) return;
  auto j = model.cfg.to_json();
  for (const auto& a : assignments) apply_override(j, a);
  auto next = Config::from_json(j, "--set");
  const std::set<std::string> allowed(inference_fields().begin(), inference_fields().end());
  auto before = model.cfg.to_json();
  for (const auto& [section, fields] : j.items())
    for (const auto& [key, value] : fields.items()) {
      const auto name = section + "." + key;
      if (before[section][key] == value || allowed.count(name)) continue;
      std::string known;
      for (const auto& f : inference_fields()) known += (known.empty() ? "" : ", ") + f;
      throw Error("--set " + name + ": not an inference-time field (changing it would change the model's tensors "
                  "or its training); these can be set on a trained model: " + known);
    }
  for (auto& block : model.blocks->children()) {
    auto* b = block->as<DecoderBlockImpl>();
    if (b->moe) b->moe->set_inference_config(next.moe);
  }
  model.cfg = next;
}

}  // namespace smoes::model
