#include "analysis/routing_probe.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "analysis/routing_metrics.h"
#include "core/error.h"
#include "eval/predict.h"
#include "moe/smoes.h"
#include "moe/stats.h"
#include "tasks/batch.h"
#include "tasks/tasks.h"

namespace smoes::analysis {

namespace {

// A non-SMoES router has no bins: the SMoES rule on the loads measured here.
std::vector<int64_t> measured_bins(const moe::RoutingStats& stats, int num_bins) {
  auto bins = moe::adaptive_bins(torch::tensor(stats.text_load).to(torch::kDouble),
                                 torch::tensor(stats.vision_load).to(torch::kDouble), num_bins);
  return {bins.data_ptr<int64_t>(), bins.data_ptr<int64_t>() + bins.numel()};
}

std::vector<int64_t> longs(const torch::Tensor& t) {
  auto c = t.to(torch::kLong).contiguous().reshape(-1);
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

std::vector<float> floats(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat).contiguous().reshape(-1);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Everything measured on one MoE layer.
struct LayerAccumulator {
  LayerAccumulator(int64_t experts, int64_t top_k) : stats(experts), mass(experts) { slots.top_k = top_k; }
  moe::RoutingStats stats;
  ModalityMass mass;
  LayerSlots slots;
  SoftScoreHistogram soft;
  bool has_soft = false;
};

class Collector {
 public:
  Collector(int64_t experts, int64_t top_k, moe::RoutingTraceWriter* trace)
      : experts_(experts), top_k_(top_k), trace_(trace) {}

  void add(Phase phase, const std::vector<model::LayerRouting>& routing, const moe::TraceTokens& tokens) {
    for (const auto& r : routing) {
      auto& acc = layers.try_emplace(r.layer, experts_, top_k_).first->second;
      const auto& d = r.decision;
      acc.stats.add(d.indices, d.probs, r.modality, r.dropped_slots, r.total_slots);
      auto modality = longs(r.modality);
      acc.mass.add(floats(d.probs), modality);
      acc.slots.add(phase, longs(d.indices), modality);
      if (r.soft_modality.defined()) {
        acc.has_soft = true;
        auto vision = floats(r.soft_modality.select(1, 1));
        for (size_t t = 0; t < modality.size(); ++t) acc.soft.add(modality[t], vision[t]);
      }
      if (trace_) trace_->write(r.layer, tokens, d.indices, d.weights, r.soft_modality);
    }
  }

  std::map<int, LayerAccumulator> layers;

 private:
  int64_t experts_, top_k_;
  moe::RoutingTraceWriter* trace_;
};

// The routed tokens of `in` (its valid positions, row-major) for the trace;
// positions count from `start[row]`.
moe::TraceTokens routed_tokens(const std::string& phase, const model::VLMInput& in,
                               const std::vector<int64_t>& example_of_row, const std::vector<int64_t>& start) {
  moe::TraceTokens t{phase, {}, {}, {}, {}};
  const int64_t b = in.input_ids.size(0), s = in.input_ids.size(1);
  auto ids = longs(in.input_ids), mod = longs(in.modality), valid = longs(in.attention_mask);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0, pos = start[i]; j < s; ++j) {
      if (!valid[i * s + j]) continue;
      t.example.push_back(example_of_row[i]);
      t.positions.push_back(pos++);
      t.token_ids.push_back(ids[i * s + j]);
      t.modality.push_back(mod[i * s + j]);
    }
  return t;
}

// Prefill of the batch's prompts, then greedy decoding one token per forward
// (a finished row's token is masked out, so it is not routed).
void run_batch(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
               const std::vector<const data::Example*>& batch, int64_t first_example, int new_tokens,
               const RoutingProbeOptions& o, Collector& collector) {
  std::vector<tasks::Sequence> prompts;
  for (const auto* ex : batch)
    prompts.push_back(eval::prompt_sequence(tok, cache, *ex, int(model->image_tokens()), o.max_text_len,
                                            model->cfg.data.image_position));
  auto input = tasks::collate(prompts, model->cfg.model.image_size, tok.pad_id(), /*left_pad=*/true).input;
  const int64_t b = input.input_ids.size(0);
  std::vector<int64_t> rows(b), position(b, 0);
  for (int64_t i = 0; i < b; ++i) rows[i] = first_example + i;
  model::KVCache kv;
  auto out = model->forward(input, &kv);
  collector.add(kPrefill, out.routing, routed_tokens("prefill", input, rows, position));
  for (int64_t i = 0; i < b; ++i) position[i] = int64_t(prompts[i].ids.size());
  auto logits = out.logits.select(1, -1);
  std::vector<bool> done(b, false);
  for (int step = 0; step + 1 < new_tokens; ++step) {
    auto next = longs(logits.argmax(-1));
    auto feed = torch::zeros({b, 1}, torch::kBool);
    bool any = false;
    for (int64_t i = 0; i < b; ++i) {
      done[i] = done[i] || next[i] == tok.eos_id();
      feed[i][0] = !done[i];
      any = any || !done[i];
    }
    if (!any) break;
    auto ids = torch::tensor(next).unsqueeze(1);
    model::VLMInput in{ids, torch::zeros_like(ids), feed, {}, {}};
    out = model->forward(in, &kv);
    collector.add(kDecode, out.routing, routed_tokens("decode", in, rows, position));
    for (int64_t i = 0; i < b; ++i) position[i] += !done[i];
    logits = out.logits.select(1, -1);
  }
}

int bins_for(int requested, int64_t experts) {
  for (int n : {requested, 2})
    if (n >= 1 && experts % n == 0) return n;
  return 1;
}

nlohmann::json soft_scores_json(const std::map<int, LayerAccumulator>& layers) {
  auto out = nlohmann::json::array();
  for (const auto& [layer, acc] : layers) {
    if (!acc.has_soft) return nullptr;
    auto j = acc.soft.to_json();
    j["layer"] = layer;
    out.push_back(j);
  }
  return out;
}

// Expert-parallel traffic for each device count: placement, home devices, rates.
nlohmann::json expert_parallel_json(const std::map<int, LayerAccumulator>& layers,
                                    const std::map<int, std::vector<int64_t>>& bins, int64_t experts,
                                    const RoutingProbeOptions& o, int64_t d_model) {
  nlohmann::json out = {
      {"placement", bins.empty() ? "standard EP, experts in index order" : "SMoES, experts in (bin, index) order"},
      {"bytes_per_element", o.bytes_per_element},
      {"d_model", d_model}};
  const double bytes_per_slot = double(d_model) * o.bytes_per_element;
  for (int d : o.devices) {
    CrossDevice total;
    nlohmann::json per_layer = nlohmann::json::array();
    for (const auto& [layer, acc] : layers) {
      auto it = bins.find(layer);
      auto device_of = expert_placement(experts, d, it == bins.end() ? std::vector<int64_t>{} : it->second);
      auto c = cross_device(acc.slots, device_of);
      total += c;
      auto home = home_devices(acc.slots, device_of);
      per_layer.push_back({{"layer", layer},
                           {"device_of_expert", device_of},
                           {"home_device", {{"text", home[0]}, {"vision", home[1]}}},
                           {"traffic", c.to_json(bytes_per_slot)}});
    }
    // Summed over layers, `total` counts each token once per layer: its rates are over
    // (token, layer) pairs, and bytes per token of the whole model are L times the per-pair mean.
    auto all = total.to_json(bytes_per_slot * double(layers.size()));
    out["devices"].push_back({{"devices", d}, {"all_layers", all}, {"layers", per_layer}});
  }
  return out;
}

// Shard `shard` of `shards` equal contiguous shares.
std::vector<data::Example> share_of(std::vector<data::Example> all, int shard, int shards, const std::string& task) {
  if (all.size() % size_t(shards) != 0)
    throw Error("routing probe: task " + task + " has " + std::to_string(all.size()) + " examples, which " +
                std::to_string(shards) + " ranks cannot share equally (give --examples a multiple of the ranks)");
  const size_t n = all.size() / size_t(shards);
  return std::vector<data::Example>(all.begin() + long(n * size_t(shard)), all.begin() + long(n * size_t(shard + 1)));
}

}  // namespace

std::map<int, std::vector<int64_t>> router_bins(model::MoEVLM& model) {
  std::map<int, std::vector<int64_t>> bins;
  bool all = true;
  for (size_t i = 0; i < model->blocks->size(); ++i) {
    auto& moe = model->blocks[i]->as<model::DecoderBlock>()->moe;
    if (!moe) continue;
    auto* buffer = moe->router->named_buffers().find("expert_bin");
    if (!buffer) {
      all = false;
      continue;
    }
    bins[int(i)] = longs(*buffer);
  }
  if (!all) bins.clear();
  return bins;
}

nlohmann::json probe_routing(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                             const std::string& root, const std::vector<std::string>& task_names,
                             const RoutingProbeOptions& o) {
  if (task_names.empty()) throw Error("routing probe: no task given");
  if (!model->cfg.moe.enabled) throw Error("routing probe: the model has no MoE layers (moe.enabled = false)");
  const int64_t experts = model->cfg.moe.num_experts, top_k = model->cfg.moe.top_k;
  for (int d : o.devices) expert_placement(experts, d);  // fail before any forward
  if (o.bytes_per_element < 1) throw Error("--bytes-per-element must be at least 1");
  torch::NoGradGuard no_grad;
  model->eval();

  std::unique_ptr<moe::RoutingTraceWriter> trace;
  if (!o.trace.empty()) trace = std::make_unique<moe::RoutingTraceWriter>(o.trace);
  Collector collector(experts, top_k, trace.get());
  nlohmann::json out = {{"split", o.split}, {"router", model->cfg.router.name}, {"experts", experts}, {"top_k", top_k}};
  int64_t example_index = 0;
  for (const auto& name : task_names) {
    const auto& task = tasks::find_task(name);
    auto examples = tasks::load_with_images(task, root, o.split, /*strict=*/false, nullptr);
    if (int(examples.size()) > o.examples) examples.resize(size_t(o.examples));
    if (examples.empty()) throw Error("routing probe: task " + name + " has no examples in the " + o.split + " split");
    if (o.shards > 1) examples = share_of(std::move(examples), o.shard, o.shards, name);
    const int new_tokens = o.new_tokens > 0 ? o.new_tokens : eval::default_new_tokens(task.kind);
    for (size_t start = 0; start < examples.size(); start += size_t(o.batch_size)) {
      std::vector<const data::Example*> batch;
      for (size_t i = start; i < std::min(examples.size(), start + size_t(o.batch_size)); ++i)
        batch.push_back(&examples[i]);
      run_batch(model, tok, cache, batch, example_index, new_tokens, o, collector);
      example_index += int64_t(batch.size());
    }
    out["tasks"][name] = examples.size();
  }
  out["examples"] = example_index;
  if (trace) {
    trace->commit();
    out["trace"] = o.trace;
  }

  const auto& layers = collector.layers;
  std::vector<ModalityLoads> loads;
  for (const auto& [layer, acc] : layers) {
    const auto& s = acc.stats;
    loads.push_back({s.text_load, s.vision_load, s.text_tokens, s.vision_tokens});
    out["moe_layers"].push_back(layer);
  }
  auto msi = modality_specialization(loads);
  out["msi"] = msi.msi ? nlohmann::json(*msi.msi) : nlohmann::json(nullptr);
  out["msi_per_layer"] = optional_json(msi.per_layer);
  out["msi_unused_experts"] = msi.unused;
  for (const auto& row : msi.text_fraction) out["text_fraction"].push_back(optional_json(row));

  auto bins = router_bins(model);
  out["bins_from"] = bins.empty() ? "measured_loads" : "router";
  const int num_bins = bins_for(model->cfg.router.num_bins, experts);
  std::vector<std::optional<double>> mi;
  for (const auto& [layer, acc] : layers) {
    auto bin = bins.empty() ? measured_bins(acc.stats, num_bins) : bins.at(layer);
    out["bins"].push_back(bin);
    mi.push_back(modality_bin_information(acc.mass, bin));
    auto stats = acc.stats.to_json();
    stats["layer"] = layer;
    out["layers"].push_back(stats);
  }
  out["mutual_information"] = optional_json(mi);
  out["soft_scores"] = soft_scores_json(layers);
  if (out["soft_scores"].is_null()) out["soft_scores_note"] = "absent: this router has no soft modality scores";
  out["expert_parallel"] = expert_parallel_json(layers, bins, experts, o, model->cfg.model.d_model);
  return out;
}

}  // namespace smoes::analysis
