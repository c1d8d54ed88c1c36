#include "skip/calibration.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "skip/rules.h"
#include "tasks/tasks.h"

namespace smoes::skip {

namespace {

constexpr int kMinSamples = 16;  // fewer cannot give a median or a quantile worth the name

std::vector<double> quantiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::vector<double> q;
  if (v.empty()) return q;
  for (int i = 0; i <= Calibration::kQuantiles; ++i)
    q.push_back(v[size_t(std::llround(double(i) / Calibration::kQuantiles * double(v.size() - 1)))]);
  return q;
}

std::vector<double> doubles(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kDouble).contiguous().reshape(-1);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// What the unskipped model routed, per MoE layer: weights, the probability
// of each chosen expert, and each token's modality.
struct LayerRoutes {
  std::vector<torch::Tensor> weights, chosen_probs, modality;
};

}  // namespace

std::string checkpoint_fingerprint(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file + ": cannot open the checkpoint to fingerprint it");
  uint64_t h = 1469598103934665603ull;
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), std::streamsize(buf.size())) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) h = (h ^ uint8_t(buf[size_t(i)])) * 1099511628211ull;
    if (!in) break;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::vector<tasks::Batch> calibration_batches(const model::MoEVLMImpl& model, const data::Tokenizer& tok,
                                              data::ImageCache& cache, const std::string& root,
                                              const CalibrationOptions& o) {
  if (o.samples < kMinSamples)
    throw Error("skip: calibration set of " + std::to_string(o.samples) + " examples is too small (at least " +
                std::to_string(kMinSamples) + ")");
  const auto& task = tasks::find_task(o.task);
  auto examples = tasks::load_with_images(task, root, o.split, /*strict=*/true, nullptr);
  if (int(examples.size()) < o.samples)
    throw Error("skip: calibration set too small: " + o.task + " " + o.split + " has " +
                std::to_string(examples.size()) + " examples under " + root + ", fewer than the " +
                std::to_string(o.samples) + " asked for (--calibration-samples)");
  examples.resize(size_t(o.samples));
  std::mt19937_64 rng(o.seed);
  std::vector<tasks::Batch> batches;
  for (size_t first = 0; first < examples.size(); first += size_t(o.batch_size)) {
    std::vector<tasks::Sequence> seqs;
    for (size_t i = first; i < std::min(examples.size(), first + size_t(o.batch_size)); ++i)
      seqs.push_back(tasks::make_sequence(tok, cache, examples[i],
                                          tasks::training_target(task, examples[i], model.cfg.model.location_bins, rng),
                                          int(model.image_tokens()), model.cfg.data.max_text_len,
                                          model.cfg.data.image_position));
    auto batch = tasks::collate(seqs, model.cfg.model.image_size, tok.pad_id(), /*left_pad=*/false);
    batch.input.logits_at = batch.labels.ne(-100);
    batches.push_back(std::move(batch));
  }
  return batches;
}

std::vector<torch::Tensor> answer_log_probs(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& b : batches) out.push_back(torch::log_softmax(model.forward(b.input).logits.to(torch::kDouble), -1));
  return out;
}

double mean_kl(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches,
               const std::vector<torch::Tensor>& reference) {
  torch::NoGradGuard no_grad;
  double total = 0, positions = 0;
  for (size_t i = 0; i < batches.size(); ++i) {  // batch by batch: one [M, V] at a time
    auto skipped = torch::log_softmax(model.forward(batches[i].input).logits.to(torch::kDouble), -1);
    total += (reference[i].exp() * (reference[i] - skipped)).sum().item<double>();
    positions += double(reference[i].size(0));
  }
  return positions > 0 ? total / positions : 0.0;
}

Calibration calibrate(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches,
                      const std::vector<torch::Tensor>& reference, const CalibrationOptions& o) {
  auto layers = moe_layers(model);
  if (layers.empty()) throw Error("skip: the checkpoint has no MoE layer (moe.enabled is false): nothing to skip");
  torch::NoGradGuard no_grad;
  model.eval();
  Calibration c;
  c.task = o.task;
  c.split = o.split;
  c.samples = o.samples;
  c.top_k = model.cfg.moe.top_k;
  Progress progress("calibrate", int64_t(batches.size() * (layers.size() + 1)));
  int64_t done = 0;
  std::vector<LayerRoutes> routes(layers.size());
  for (const auto& b : batches) {
    auto out = model.forward(b.input);
    for (size_t l = 0; l < out.routing.size(); ++l) {
      const auto& r = out.routing[l];
      routes[l].weights.push_back(r.decision.weights);
      routes[l].chosen_probs.push_back(r.decision.probs.gather(1, r.decision.indices));
      routes[l].modality.push_back(r.modality);
      if (c.layers.size() < out.routing.size()) c.layers.push_back({r.layer, 0, 0, 0});
    }
    progress.update(++done, "routing");
  }
  // MoDES's alpha: how far the output moves when one layer's routed experts all go.
  double kl_sum = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    std::vector<moe::SkipRule> rules(layers.size());
    rules[l] = [](const moe::RoutingDecision& d, const torch::Tensor&) {
      return torch::zeros(d.indices.sizes(), torch::kBool);
    };
    InstallRules installed(model, rules, nullptr);
    c.layers[l].kl = mean_kl(model, batches, reference);
    kl_sum += c.layers[l].kl;
    done += int64_t(batches.size());
    progress.update(done, "layer " + std::to_string(c.layers[l].layer) + " KL " + std::to_string(c.layers[l].kl));
  }
  progress.finish();
  std::array<std::vector<double>, 2> importance;
  std::vector<double> relative, mass_above;
  for (size_t l = 0; l < layers.size(); ++l) {
    auto& layer = c.layers[l];
    layer.alpha = kl_sum > 0 ? layer.kl / kl_sum : 1.0 / double(layers.size());
    auto w = torch::cat(routes[l].weights), pi = torch::cat(routes[l].chosen_probs), mod = torch::cat(routes[l].modality);
    if (c.top_k > 1) {
      // Sorted, so w_1 is the largest weight whichever order a router returns its slots in.
      auto sorted = std::get<0>(w.sort(1, /*descending=*/true));
      auto ratio = sorted.select(1, 1) / sorted.select(1, 0).clamp_min(1e-12);
      layer.beta = ratio.median().item<double>();
      auto by_prob = std::get<0>(pi.sort(1, /*descending=*/true));
      for (double v : doubles((by_prob.cumsum(1) - by_prob).narrow(1, 1, c.top_k - 1))) mass_above.push_back(v);
      if (layer.beta > 0)
        for (double v : doubles(sorted.narrow(1, 1, c.top_k - 1) / (layer.beta * sorted.narrow(1, 0, 1)).clamp_min(1e-12)))
          relative.push_back(v);
    }
    for (int m = 0; m < 2; ++m) {
      auto mine = pi.index({mod.eq(m)}) * layer.alpha;
      c.slots[size_t(m)] += mine.numel();
      for (double v : doubles(mine)) importance[size_t(m)].push_back(v);
    }
  }
  for (int m = 0; m < 2; ++m) c.importance[size_t(m)] = quantiles(std::move(importance[size_t(m)]));
  c.naee_relative = quantiles(std::move(relative));
  c.top_p_mass = quantiles(std::move(mass_above));
  return c;
}

nlohmann::json Calibration::to_json() const {
  auto layers_json = nlohmann::json::array();
  for (const auto& l : layers)
    layers_json.push_back({{"layer", l.layer}, {"beta", l.beta}, {"kl", l.kl}, {"alpha", l.alpha}});
  return {{"fingerprint", fingerprint}, {"checkpoint", checkpoint},     {"task", task},
          {"split", split},             {"samples", samples},           {"top_k", top_k},
          {"slots", {{"text", slots[0]}, {"vision", slots[1]}}},         {"layers", layers_json},
          {"importance", {{"text", importance[0]}, {"vision", importance[1]}}},
          {"naee_relative", naee_relative}, {"top_p_mass", top_p_mass}, {"searched", searched}};
}

Calibration Calibration::from_json(const nlohmann::json& j, const std::string& path) {
  Calibration c;
  std::string field;
  try {
    auto get = [&](const char* name) -> const nlohmann::json& {
      field = name;
      return j.at(name);
    };
    c.fingerprint = get("fingerprint").get<std::string>();
    c.checkpoint = get("checkpoint").get<std::string>();
    c.task = get("task").get<std::string>();
    c.split = get("split").get<std::string>();
    c.samples = get("samples").get<int>();
    c.top_k = get("top_k").get<int>();
    c.slots = {get("slots").at("text").get<int64_t>(), get("slots").at("vision").get<int64_t>()};
    for (const auto& l : get("layers"))
      c.layers.push_back({l.at("layer").get<int>(), l.at("beta").get<double>(), l.at("kl").get<double>(),
                          l.at("alpha").get<double>()});
    c.importance = {get("importance").at("text").get<std::vector<double>>(),
                    get("importance").at("vision").get<std::vector<double>>()};
    c.naee_relative = get("naee_relative").get<std::vector<double>>();
    c.searched = get("searched");
    // Absent from files made before top-p existed; top-p then asks for a new calibration.
    c.top_p_mass = j.value("top_p_mass", std::vector<double>{});
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": field '" + field + "': " + e.what());
  }
  return c;
}

Calibration load_calibration(const std::string& path, const std::string& fingerprint) {
  auto j = nlohmann::json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error(path + ": not a calibration file (not a JSON object)");
  auto c = Calibration::from_json(j, path);
  if (c.fingerprint != fingerprint)
    throw Error(path + ": calibration file from another checkpoint (" + c.checkpoint + ", fingerprint " +
                c.fingerprint + "), not the one being skipped (fingerprint " + fingerprint + ")");
  return c;
}

}  // namespace smoes::skip
