// Checkpoints: model + optimizer + RNG states + step + config + git revision
// + data manifest, in one file written atomically. A file is
//   "SMOESCK1" | u64 meta length | meta JSON | torch archive payload
// and the meta holds the payload's length and SHA-256, so truncation or
// corruption is reported as such instead of crashing inside the unzipper.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

namespace smoes {

struct CheckpointMeta {
  int64_t step = 0;
  nlohmann::json config;            // resolved Config::to_json()
  std::string git_revision;         // filled by save()
  nlohmann::json data_manifest;     // what data the run used (path + sha256)
  nlohmann::json scheduler;         // LR schedule state
  std::string data_rng;             // the data sampler's std engine state
  nlohmann::json extra;             // anything else a caller needs back
};

// Writes a checkpoint of `model` (all parameters and buffers), `optimizer`
// (may be null) and the global torch CPU RNG to `path`, atomically. AdamW's
// state is stored by parameter name, so the same training state gives the
// same bytes in any process (a resumed run's checkpoint equals an
// uninterrupted run's, byte for byte).
void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, CheckpointMeta meta);

// Restores what save_checkpoint wrote. When `expected` is given, a checkpoint
// made with another architecture is refused with the differing fields named.
// Every parameter's shape is checked. Never crashes on a bad file: throws
// smoes::Error naming the file and the problem.
CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, const Config* expected = nullptr,
                               bool restore_rng = true);

// Reads only the meta block (and verifies the payload hash).
CheckpointMeta read_checkpoint_meta(const std::string& path);

// A run directory's checkpoints: step_<N>.ckpt files, a `latest` pointer and
// keep-last-N pruning.
class CheckpointDir {
 public:
  CheckpointDir(std::string dir, int keep_last);
  // Saves step_<step>.ckpt, moves `latest` to it, prunes old ones; returns the path.
  std::string save(const torch::nn::Module& model, const torch::optim::Optimizer* optimizer,
                   CheckpointMeta meta);
  // Path `latest` points at, if any.
  std::optional<std::string> latest() const;
  // Checkpoint files present, oldest first.
  std::vector<std::string> list() const;
  const std::string& dir() const { return dir_; }

 private:
  // Before the first save: the folder exists and is writable, and temp files
  // of saves that were killed are gone. (Reading needs none of it.)
  void prepare_for_saving();

  std::string dir_;
  int keep_last_;
  bool prepared_ = false;
};

}  // namespace smoes
