#include "moe/stats.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"

namespace smoes::moe {

RoutingStats::RoutingStats(int64_t e) : num_experts(e) { reset(); }

void RoutingStats::reset() {
  text_load.assign(num_experts, 0);
  vision_load.assign(num_experts, 0);
  coactivation.assign(num_experts * num_experts, 0);
  entropy_sum = 0;
  text_tokens = vision_tokens = dropped_slots = total_slots = 0;
}

void RoutingStats::add(const at::Tensor& indices, const at::Tensor& probs, const at::Tensor& modality,
                       int64_t dropped, int64_t total) {
  torch::NoGradGuard no_grad;
  const int64_t e = num_experts, k = indices.size(1);
  auto idx = indices.to(torch::kLong);
  auto mod = modality.reshape(-1).to(torch::kLong);
  // One bincount over (modality, expert) pairs gives both load vectors.
  auto pair = (mod.unsqueeze(1) * e + idx).reshape(-1);
  auto load = torch::bincount(pair, {}, 2 * e);
  auto load_acc = load.accessor<int64_t, 1>();
  for (int64_t i = 0; i < e; ++i) text_load[i] += load_acc[i], vision_load[i] += load_acc[e + i];
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b) {
      if (a == b) continue;
      auto co = torch::bincount(idx.select(1, a) * e + idx.select(1, b), {}, e * e);
      auto co_acc = co.accessor<int64_t, 1>();
      for (int64_t i = 0; i < e * e; ++i) coactivation[i] += co_acc[i];
    }
  auto p = probs.detach().to(torch::kFloat);
  entropy_sum += (-(p * (p + 1e-12).log()).sum()).item<double>();
  int64_t vision = mod.sum().item<int64_t>();
  vision_tokens += vision;
  text_tokens += mod.size(0) - vision;
  dropped_slots += dropped;
  total_slots += total;
}

nlohmann::json RoutingStats::to_json(bool with_coactivation) const {
  const int64_t tokens = text_tokens + vision_tokens;
  std::vector<int64_t> total_load(num_experts);
  int64_t unused = 0;
  for (int64_t i = 0; i < num_experts; ++i) {
    total_load[i] = text_load[i] + vision_load[i];
    unused += total_load[i] == 0;
  }
  const int64_t max_load = num_experts ? *std::max_element(total_load.begin(), total_load.end()) : 0;
  const double mean_load = total_slots > 0 ? double(total_slots - dropped_slots) / num_experts : 0;
  nlohmann::json j = {{"tokens", tokens},
          {"text_tokens", text_tokens},
          {"vision_tokens", vision_tokens},
          {"gate_entropy", tokens ? entropy_sum / tokens : 0.0},
          {"max_entropy", std::log(double(num_experts))},
          {"dropped_pct", total_slots ? 100.0 * dropped_slots / total_slots : 0.0},
          {"unused_experts", unused},
          {"max_over_mean_load", mean_load > 0 ? max_load / mean_load : 0.0},
          {"text_load", text_load},
          {"vision_load", vision_load}};
  if (with_coactivation) j["coactivation"] = coactivation;
  return j;
}

RoutingTraceWriter::RoutingTraceWriter(const std::string& path) : path_(path), temp_(path + ".partial") {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  out_.open(temp_, std::ios::trunc);
  if (!out_) throw Error(temp_ + ": cannot open routing trace for writing");
}

RoutingTraceWriter::~RoutingTraceWriter() {
  if (committed_) return;
  out_.close();
  std::error_code ignored;
  std::filesystem::remove(temp_, ignored);
}

void RoutingTraceWriter::write(int layer, const TraceTokens& tokens, const at::Tensor& indices,
                               const at::Tensor& weights, const at::Tensor& soft_modality) {
  const int64_t t_count = indices.size(0);
  auto check = [&](const std::vector<int64_t>& v, const char* what) {
    if (!v.empty() && int64_t(v.size()) != t_count)
      throw Error(path_ + ": routing trace got " + std::to_string(v.size()) + " " + what + " for " +
                  std::to_string(t_count) + " routed tokens");
  };
  check(tokens.example, "example ids");
  check(tokens.positions, "positions");
  check(tokens.token_ids, "token ids");
  check(tokens.modality, "modalities");
  auto idx = indices.to(torch::kLong).contiguous();
  auto w = weights.detach().to(torch::kFloat).contiguous();
  auto ia = idx.accessor<int64_t, 2>();
  auto wa = w.accessor<float, 2>();
  std::vector<float> soft;  // [T * 2]
  if (soft_modality.defined()) {
    auto s = soft_modality.detach().to(torch::kFloat).contiguous();
    soft.assign(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  }
  for (int64_t t = 0; t < t_count; ++t) {
    nlohmann::json line;
    if (!tokens.example.empty()) line["example"] = tokens.example[t];
    if (!tokens.phase.empty()) line["phase"] = tokens.phase;
    line["layer"] = layer;
    if (!tokens.positions.empty()) line["pos"] = tokens.positions[t];
    if (!tokens.token_ids.empty()) line["token"] = tokens.token_ids[t];
    if (!tokens.modality.empty()) line["modality"] = tokens.modality[t];
    for (int64_t j = 0; j < idx.size(1); ++j) {
      line["experts"].push_back(ia[t][j]);
      line["weights"].push_back(wa[t][j]);
    }
    if (!soft.empty()) line["soft"] = {soft[2 * t], soft[2 * t + 1]};
    out_ << line.dump() << '\n';
  }
  if (!out_) throw Error(temp_ + ": write failed");
}

void RoutingTraceWriter::commit() {
  out_.close();
  if (!out_) throw Error(temp_ + ": write failed");
  std::filesystem::rename(temp_, path_);
  committed_ = true;
}

}  // namespace smoes::moe
