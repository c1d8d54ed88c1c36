// What `smoes train` and `smoes eval` set up from a config: the tokenizer
// (copied into the run directory so a run carries its own), the model sized
// from it, and the data manifest stored with every checkpoint and result.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "dist/group.h"
#include "train/trainer.h"

namespace smoes::train {

// data.tokenizer, or <data.root>/tokenizer.model.
std::string tokenizer_path(const Config& cfg);

// The model for `cfg` and `tok`, initialised from train.seed (model.vocab_size 0 = the tokenizer's; otherwise they must agree).
model::MoEVLM build_model(const Config& cfg, const data::Tokenizer& tok);

// model.object_tags = "words": the token pieces of each dense-head class id,
// then each attribute id, named in <data.root>/coco's train instances file
// (ids it does not name get none).
std::vector<std::vector<int>> tag_word_pieces(const Config& cfg, const data::Tokenizer& tok);
// model.object_tags = "words_boxes": the ids of <loc_0>..<loc_{model.location_bins - 1}>.
std::vector<int> tag_location_ids(const Config& cfg, const data::Tokenizer& tok);

// {"root", "manifest_sha256" (of <root>/MANIFEST.json, if any), "tokenizer_sha256"}.
nlohmann::json data_manifest(const Config& cfg, const std::string& tokenizer_file);

// Copies the tokenizer into <run_dir>/tokenizer.model (atomically) and returns that path.
std::string keep_tokenizer_with_run(const std::string& tokenizer_file, const std::string& run_dir);

// A trained model ready for evaluation: its config (from the checkpoint), tokenizer and weights.
struct LoadedRun {
  Config cfg;
  std::unique_ptr<data::Tokenizer> tok;
  model::MoEVLM model{nullptr};
  std::string checkpoint;
  nlohmann::json manifest;
};
// `file_or_run_dir`: a checkpoint or a run dir; the tokenizer is the run's own copy.
LoadedRun load_run(const std::string& file_or_run_dir);

// Called on every rank once the data-parallel group exists (several ranks
// only), before training; what it returns runs on every rank after training.
// (`smoes train --expert-parallel` installs expert parallelism with it.)
using GroupHook = std::function<std::function<void()>(model::MoEVLM& model, dist::Group& group)>;

// `smoes train`: tokenizer, model (fresh, `train.init_from`, or resumed from
// <out_dir>/checkpoints), the task mixture of data.root and the trainer.
// stop_after > 0 stops after that many steps without a final checkpoint (a simulated kill).
TrainResult train_from_config(const Config& cfg, int64_t stop_after = 0, const GroupHook& on_group = nullptr);

}  // namespace smoes::train
