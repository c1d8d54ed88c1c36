// The numbers of `smoes analyze routing` (docs/analysis.md), on host data:
// the modality specialization index (MSI) and per-expert text fractions, the
// modality-bin mutual information, expert bins from measured loads, the
// expert-parallel placement with its cross-device rate and all-to-all bytes,
// and histograms of the soft modality score. No torch: the probe copies each
// layer's routing out of the model and these functions only count.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace smoes::analysis {

// Routed slots per expert by the token's modality, and routed tokens per modality.
struct ModalityLoads {
  std::vector<int64_t> text, vision;
  int64_t text_tokens = 0, vision_tokens = 0;
};

// C~_text,e = (C_text,e/N_text) / (C_text,e/N_text + C_vision,e/N_vision);
// nullopt for an expert no token chose (unused).
std::vector<std::optional<double>> normalized_text_fractions(const ModalityLoads& loads);

struct MsiResult {
  std::optional<double> msi;  // mean of 2|C~ - 0.5| over the used experts; nullopt without both modalities
  std::vector<std::optional<double>> per_layer;
  std::vector<std::vector<std::optional<double>>> text_fraction;  // [layer][expert] C~, nullopt = unused
  int64_t unused = 0;                                             // (layer, expert) pairs skipped
};
// Over layers and experts (METHOD.md section 3).
MsiResult modality_specialization(const std::vector<ModalityLoads>& layers);

// Router probability mass per modality and expert: mass[m][e] = sum over the
// tokens of modality m of g_{j,e}; tokens[m] counts them.
struct ModalityMass {
  explicit ModalityMass(int64_t experts);
  // probs: row-major [T, E]; modality: [T] (0 text, 1 vision).
  void add(const std::vector<float>& probs, const std::vector<int64_t>& modality);
  std::array<std::vector<double>, 2> mass;
  std::array<int64_t, 2> tokens{0, 0};
};

// I(modality; bin) in nats with each modality normalised by its own token
// count (METHOD.md's S, P); `bin[e]` in [0, K). nullopt when a modality has no tokens.
std::optional<double> modality_bin_information(const ModalityMass& m, const std::vector<int64_t>& bin);

// Device of each of `experts` experts on `devices` devices: experts ordered by
// (bin, index) when `bin` is given (SMoES: a bin stays on one device), else by
// index (standard EP), then cut into equal contiguous groups. Throws
// smoes::Error naming --devices unless 1 <= devices <= experts and it divides experts.
std::vector<int64_t> expert_placement(int64_t experts, int devices, const std::vector<int64_t>& bin = {});

enum Phase : uint8_t { kPrefill = 0, kDecode = 1 };

// Every routed token of one layer: phase, modality and its top-k experts.
struct LayerSlots {
  int64_t top_k = 0;
  std::vector<int64_t> experts;  // [T * top_k]
  std::vector<uint8_t> modality, phase;
  void add(Phase p, const std::vector<int64_t>& indices, const std::vector<int64_t>& token_modality);
  int64_t tokens() const { return int64_t(modality.size()); }
};

// Expert-parallel traffic of tokens per (phase, modality); summable over layers.
struct CrossDevice {
  std::array<std::array<int64_t, 2>, 2> tokens{}, crossing{}, remote_slots{};  // [phase][modality]
  CrossDevice& operator+=(const CrossDevice& o);
  // {"prefill"|"decode": {"vision"|"text"|"all": {"tokens", "cross_rate", "bytes_per_token"}}}, where
  // bytes_per_token = remote slots / tokens * bytes_per_slot (d_model x bytes per element).
  nlohmann::json to_json(double bytes_per_slot) const;
};

// Home device per modality: the device holding most of its prefill slots
// (ties: the lower device). A modality without prefill tokens gets device 0.
std::array<int64_t, 2> home_devices(const LayerSlots& s, const std::vector<int64_t>& device_of);

// A token crosses when any of its experts is off its modality's home device;
// decode tokens are text and use text's home (METHOD.md section 3).
CrossDevice cross_device(const LayerSlots& s, const std::vector<int64_t>& device_of);

// Histogram (10 bins over [0, 1]) and mean of the soft vision score, per hard modality.
struct SoftScoreHistogram {
  static constexpr int kBins = 10;
  void add(int64_t modality, double vision_score);
  nlohmann::json to_json() const;
  std::array<std::array<int64_t, kBins>, 2> counts{};
  std::array<double, 2> sum{0, 0};
  std::array<int64_t, 2> n{0, 0};
};

// A vector with nullopt as JSON null.
nlohmann::json optional_json(const std::vector<std::optional<double>>& v);

}  // namespace smoes::analysis
