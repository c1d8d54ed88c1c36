// What skipping needs to know about a trained model, measured once on
// calibration examples (a task's training split) and kept in the run
// (RUN/calibration/<task>_<split>_n<samples>_s<seed>_<fingerprint>.json):
//   NAEE's beta per MoE layer: the median of w_2 / w_1 (the two largest weights);
//   MoDES's alpha per MoE layer: the mean KL of the model's output
//   distribution (at the answer positions) when that layer's routed experts
//   are all skipped, normalised to sum to 1;
//   the distribution of MoDES's importance s = alpha(l) * pi of every routed
//   slot, per modality, of NAEE's w_i / (beta w_1), and of the probability
//   mass ranked above each later slot (top-p), as quantiles, from
//   which a threshold's skip ratio is read without another forward.
// The file records the fingerprint of the checkpoint it was measured on;
// loading it for another checkpoint is an error.
#pragma once
#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "tasks/batch.h"

namespace smoes::skip {

struct CalibrationOptions {
  std::string task;              // whose examples calibrate
  std::string split = "train";
  int samples = 1024;            // MoDES's ~1,024
  int batch_size = 32;
  uint64_t seed = 1;             // samples the targets of tasks with several references
};

struct LayerCalibration {
  int layer = 0;       // decoder layer
  double beta = 0;     // NAEE: median w_2 / w_1 (0 with top_k 1)
  double kl = 0;       // mean KL(full || this layer's routed experts skipped)
  double alpha = 0;    // kl / sum of kl over the MoE layers
};

struct Calibration {
  static constexpr int kQuantiles = 1000;
  std::string fingerprint, checkpoint, task, split;
  int samples = 0, top_k = 0;
  std::array<int64_t, 2> slots{};  // routed slots per modality (text, vision) on the calibration set
  std::vector<LayerCalibration> layers;
  std::array<std::vector<double>, 2> importance;  // kQuantiles + 1 quantiles of alpha * pi, per modality
  std::vector<double> naee_relative;              // quantiles of w_i / (beta w_1) over slots i > 0
  std::vector<double> top_p_mass;                 // quantiles, over slots i > 0, of the router probability above i
  nlohmann::json searched = nlohmann::json::object();  // thresholds found per method and ratio

  nlohmann::json to_json() const;
  // Throws naming `path` and the field for a malformed file.
  static Calibration from_json(const nlohmann::json& j, const std::string& path);
};

// A checkpoint file's fingerprint (FNV-1a 64 of its bytes, hex).
std::string checkpoint_fingerprint(const std::string& checkpoint_file);

// The calibration batches: `o.samples` examples of the task's split, each
// with its training target, right-padded, labels at the answer positions.
std::vector<tasks::Batch> calibration_batches(const model::MoEVLMImpl& model, const data::Tokenizer& tok,
                                              data::ImageCache& cache, const std::string& root,
                                              const CalibrationOptions& o);

// The model's log-probabilities at every labelled position of `batches`
// ([M, V] per batch), with whatever skip rules are installed.
std::vector<torch::Tensor> answer_log_probs(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches);

// Mean KL(reference || model) over the labelled positions.
double mean_kl(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches,
               const std::vector<torch::Tensor>& reference);

// Measures everything above (a progress bar per pass). Throws when the model
// has no MoE layer (a calibration without text or vision slots is refused by
// MoDES's plan, which needs both, not here).
Calibration calibrate(model::MoEVLMImpl& model, const std::vector<tasks::Batch>& batches,
                      const std::vector<torch::Tensor>& reference, const CalibrationOptions& o);

// Reads `path` and checks it was made from the checkpoint with `fingerprint`.
Calibration load_calibration(const std::string& path, const std::string& fingerprint);

}  // namespace smoes::skip
