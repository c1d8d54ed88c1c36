// `smoes skip`: calibrate (or reuse the run's calibration), plan a method at
// a target skip ratio, and measure it against the unskipped model in the
// same process: task metrics, the achieved skip ratio (overall, text,
// vision), executed GFLOPs per token, and prefill / decode wall-clock
// speedups of the whole model and of its MoE layers.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "skip/calibration.h"

namespace smoes::skip {

struct SkipOptions {
  std::vector<std::string> methods = {"modes"};
  std::vector<double> ratios = {0.8};
  std::vector<std::string> tasks;  // scored (default: the run's mixture, as eval)
  std::string split = "val";
  int limit = 0;                   // first N examples per task (0 = all)
  int batch_size = 16;
  CalibrationOptions calibration;  // calibration.task empty = the first scored task
  std::string calibration_file;    // "" = <run_dir>/calibration/<key>.json, made when absent
  int candidates = 32;             // thresholds per modality for MoDES's frontier search
  int search_samples = 256;        // calibration examples whose KL scores each frontier pair (its first ones)
  int keep = 0;                    // naee-prune: experts kept per layer (0 = round(E * (1 - ratio)))
  int timing_batches = 3;          // prompt batches timed per model, alternating with the unskipped one
  uint64_t seed = 1;
};

struct SkipSubject {
  model::MoEVLM model;
  const data::Tokenizer* tok = nullptr;
  data::ImageCache* cache = nullptr;
  std::string root, checkpoint, run_dir;
};

// {"baseline": {...}, "runs": [{method, ratio, metrics, skip_ratio, flops,
// gflops_per_token, speedup}], "calibration": path}. Bad options throw
// before anything is computed or written.
nlohmann::json run_skip(SkipSubject& s, const SkipOptions& o);

// The calibration file's default path for these options.
std::string calibration_path(const std::string& run_dir, const CalibrationOptions& o, const std::string& fingerprint);

}  // namespace smoes::skip
