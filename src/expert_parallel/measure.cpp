#include "expert_parallel/measure.h"

#include "core/error.h"
#include "expert_parallel/install.h"

namespace smoes::expert_parallel {
namespace {

// The probe's simulated remote slots per prefill token of one layer: its
// dispatch bytes over the bytes of one slot.
double simulated_slots_per_token(const nlohmann::json& layer, double bytes_per_slot) {
  return layer["traffic"]["prefill"]["all"]["bytes_per_token"].get<double>() / bytes_per_slot;
}

void uninstall(model::MoEVLM& model) {
  for (size_t i = 0; i < model->blocks->size(); ++i)
    if (auto& moe = model->blocks[i]->as<model::DecoderBlock>()->moe) moe->dispatch = nullptr;
}

}  // namespace

nlohmann::json measure_traffic(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                               const std::string& root, const std::vector<std::string>& tasks,
                               analysis::RoutingProbeOptions o, dist::Group& group) {
  o.new_tokens = 1;  // prefill only: every rank runs the same forwards, whatever it would decode
  o.devices = {group.size()};
  o.trace.clear();
  auto installed = install(model, group);
  auto sharded = o;
  sharded.shard = group.rank();
  sharded.shards = group.size();
  analysis::probe_routing(model, tok, cache, root, tasks, sharded);
  auto real = installed->traffic(group);
  uninstall(model);
  if (group.rank() != 0) return nullptr;

  auto probe = analysis::probe_routing(model, tok, cache, root, tasks, o);
  const auto& simulated = probe["expert_parallel"];
  const auto& sim_layers = simulated["devices"][0]["layers"];
  const double bytes_per_slot = simulated["d_model"].get<double>() * simulated["bytes_per_element"].get<double>();
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < real["layers"].size(); ++l) {
    const auto& r = real["layers"][l];
    if (sim_layers[l]["layer"] != r["layer"])
      throw Error("measure_traffic: the probe's layers differ from the model's");
    layers.push_back({{"layer", r["layer"]},
                      {"real_remote_slots_per_token",
                       r["dispatch_rows"].get<double>() / std::max(1.0, r["routed_tokens"].get<double>())},
                      {"real_remote_slot_rate", r["remote_slot_rate"]},
                      {"simulated_remote_slots_per_token", simulated_slots_per_token(sim_layers[l], bytes_per_slot)},
                      {"simulated_cross_rate", sim_layers[l]["traffic"]["prefill"]["all"]["cross_rate"]}});
  }
  return {{"ranks", group.size()}, {"tasks", probe["tasks"]}, {"examples", probe["examples"]},
          {"real", real},          {"simulated", simulated},  {"layers", layers}};
}

}  // namespace smoes::expert_parallel
