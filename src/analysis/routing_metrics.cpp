#include "analysis/routing_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"

namespace smoes::analysis {

std::vector<std::optional<double>> normalized_text_fractions(const ModalityLoads& l) {
  std::vector<std::optional<double>> out(l.text.size());
  if (l.vision.size() != l.text.size()) throw Error("routing metrics: text and vision loads differ in length");
  for (size_t e = 0; e < l.text.size(); ++e) {
    if (l.text[e] + l.vision[e] == 0) continue;
    const double t = l.text_tokens ? double(l.text[e]) / l.text_tokens : 0.0;
    const double v = l.vision_tokens ? double(l.vision[e]) / l.vision_tokens : 0.0;
    out[e] = t / (t + v);
  }
  return out;
}

MsiResult modality_specialization(const std::vector<ModalityLoads>& layers) {
  MsiResult r;
  double sum = 0;
  int64_t used = 0;
  bool both = !layers.empty();
  for (const auto& l : layers) {
    auto f = normalized_text_fractions(l);
    double layer_sum = 0;
    int64_t layer_used = 0;
    for (const auto& x : f) {
      if (!x) {
        ++r.unused;
        continue;
      }
      layer_sum += 2 * std::abs(*x - 0.5);
      ++layer_used;
    }
    // Without tokens of both modalities every used expert is trivially "specialised".
    const bool defined = l.text_tokens > 0 && l.vision_tokens > 0 && layer_used > 0;
    r.per_layer.push_back(defined ? std::optional<double>(layer_sum / layer_used) : std::nullopt);
    both = both && defined;
    sum += layer_sum;
    used += layer_used;
    r.text_fraction.push_back(std::move(f));
  }
  if (both) r.msi = sum / used;
  return r;
}

ModalityMass::ModalityMass(int64_t experts) {
  mass[0].assign(experts, 0.0);
  mass[1].assign(experts, 0.0);
}

void ModalityMass::add(const std::vector<float>& probs, const std::vector<int64_t>& modality) {
  const size_t e = mass[0].size();
  if (probs.size() != modality.size() * e)
    throw Error("routing metrics: probabilities [" + std::to_string(probs.size()) + "] are not tokens x experts (" +
                std::to_string(modality.size()) + " x " + std::to_string(e) + ")");
  for (size_t t = 0; t < modality.size(); ++t) {
    auto& row = mass[modality[t] != 0];
    for (size_t i = 0; i < e; ++i) row[i] += probs[t * e + i];
    ++tokens[modality[t] != 0];
  }
}

std::optional<double> modality_bin_information(const ModalityMass& m, const std::vector<int64_t>& bin) {
  if (m.tokens[0] == 0 || m.tokens[1] == 0) return std::nullopt;
  if (bin.size() != m.mass[0].size()) throw Error("routing metrics: one bin id per expert expected");
  const int64_t k = *std::max_element(bin.begin(), bin.end()) + 1;
  std::vector<std::array<double, 2>> s(k, {0.0, 0.0});  // S[bin][modality]
  for (size_t e = 0; e < bin.size(); ++e)
    for (int mod = 0; mod < 2; ++mod) s[bin[e]][mod] += m.mass[mod][e] / m.tokens[mod];
  double total = 0;
  for (const auto& row : s) total += row[0] + row[1];
  std::array<double, 2> pm{0, 0};
  std::vector<double> pk(k, 0);
  for (int64_t b = 0; b < k; ++b)
    for (int mod = 0; mod < 2; ++mod) pm[mod] += s[b][mod] / total, pk[b] += s[b][mod] / total;
  double mi = 0;
  for (int64_t b = 0; b < k; ++b)
    for (int mod = 0; mod < 2; ++mod) {
      const double p = s[b][mod] / total;
      if (p > 0) mi += p * std::log(p / (pm[mod] * pk[b]));
    }
  return mi;
}

std::vector<int64_t> expert_placement(int64_t experts, int devices, const std::vector<int64_t>& bin) {
  if (devices < 1 || devices > experts || experts % devices != 0)
    throw Error("--devices " + std::to_string(devices) + ": expert parallelism needs a device count that divides the " +
                std::to_string(experts) + " experts per layer");
  if (!bin.empty() && int64_t(bin.size()) != experts) throw Error("routing metrics: one bin id per expert expected");
  std::vector<int64_t> order(experts);
  std::iota(order.begin(), order.end(), 0);
  if (!bin.empty()) std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return bin[a] < bin[b]; });
  std::vector<int64_t> device(experts);
  for (int64_t p = 0; p < experts; ++p) device[order[p]] = p / (experts / devices);
  return device;
}

void LayerSlots::add(Phase p, const std::vector<int64_t>& indices, const std::vector<int64_t>& token_modality) {
  if (indices.size() != token_modality.size() * size_t(top_k))
    throw Error("routing metrics: expert indices are not tokens x top_k");
  experts.insert(experts.end(), indices.begin(), indices.end());
  for (int64_t m : token_modality) modality.push_back(m != 0), phase.push_back(p);
}

CrossDevice& CrossDevice::operator+=(const CrossDevice& o) {
  for (int p = 0; p < 2; ++p)
    for (int m = 0; m < 2; ++m) {
      tokens[p][m] += o.tokens[p][m];
      crossing[p][m] += o.crossing[p][m];
      remote_slots[p][m] += o.remote_slots[p][m];
    }
  return *this;
}

nlohmann::json CrossDevice::to_json(double bytes_per_slot) const {
  nlohmann::json out;
  const char* phases[] = {"prefill", "decode"};
  for (int p = 0; p < 2; ++p) {
    auto entry = [&](int64_t n, int64_t cross, int64_t remote) -> nlohmann::json {
      if (n == 0) return {{"tokens", 0}, {"cross_rate", nullptr}, {"bytes_per_token", nullptr}};
      return {{"tokens", n},
              {"cross_rate", double(cross) / n},
              {"bytes_per_token", double(remote) * bytes_per_slot / n}};
    };
    out[phases[p]] = {
        {"text", entry(tokens[p][0], crossing[p][0], remote_slots[p][0])},
        {"vision", entry(tokens[p][1], crossing[p][1], remote_slots[p][1])},
        {"all", entry(tokens[p][0] + tokens[p][1], crossing[p][0] + crossing[p][1],
                      remote_slots[p][0] + remote_slots[p][1])}};
  }
  return out;
}

std::array<int64_t, 2> home_devices(const LayerSlots& s, const std::vector<int64_t>& device_of) {
  const int64_t d = device_of.empty() ? 1 : *std::max_element(device_of.begin(), device_of.end()) + 1;
  std::array<std::vector<int64_t>, 2> slots{std::vector<int64_t>(d, 0), std::vector<int64_t>(d, 0)};
  for (int64_t t = 0; t < s.tokens(); ++t) {
    if (s.phase[t] != kPrefill) continue;
    for (int64_t j = 0; j < s.top_k; ++j) ++slots[s.modality[t]][device_of[s.experts[t * s.top_k + j]]];
  }
  std::array<int64_t, 2> home{};
  for (int m = 0; m < 2; ++m) home[m] = std::max_element(slots[m].begin(), slots[m].end()) - slots[m].begin();
  return home;
}

CrossDevice cross_device(const LayerSlots& s, const std::vector<int64_t>& device_of) {
  const auto home = home_devices(s, device_of);
  CrossDevice c;
  for (int64_t t = 0; t < s.tokens(); ++t) {
    const int p = s.phase[t], m = s.modality[t];
    const int64_t h = p == kDecode ? home[0] : home[m];
    int64_t remote = 0;
    for (int64_t j = 0; j < s.top_k; ++j) remote += device_of[s.experts[t * s.top_k + j]] != h;
    ++c.tokens[p][m];
    c.crossing[p][m] += remote > 0;
    c.remote_slots[p][m] += remote;
  }
  return c;
}

void SoftScoreHistogram::add(int64_t modality, double vision_score) {
  const int m = modality != 0;
  const int b = std::clamp(int(vision_score * kBins), 0, kBins - 1);  // 1.0 goes to the last bin
  ++counts[m][b];
  sum[m] += vision_score;
  ++n[m];
}

nlohmann::json SoftScoreHistogram::to_json() const {
  nlohmann::json out;
  const char* names[] = {"text", "vision"};
  for (int m = 0; m < 2; ++m)
    out[names[m]] = {{"tokens", n[m]},
                     {"mean_vision_score", n[m] ? nlohmann::json(sum[m] / n[m]) : nlohmann::json(nullptr)},
                     {"histogram", counts[m]}};
  return out;
}

nlohmann::json optional_json(const std::vector<std::optional<double>>& v) {
  auto out = nlohmann::json::array();
  for (const auto& x : v) out.push_back(x ? nlohmann::json(*x) : nlohmann::json(nullptr));
  return out;
}

}  // namespace smoes::analysis
