// A study spec (configs/study/grid/*.json): which models are trained (a
// config file plus overrides, optionally initialised from another model),
// on which seeds, how much is evaluated, and which models play which role in
// each research question. load_spec validates all of it, naming the file and
// field, before anything runs.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace smoes::study {

struct ModelSpec {
  std::string name;
  std::string config;    // path, relative to the spec file's folder
  nlohmann::json set;    // {"a.b": value} overrides, after the spec's common ones
  std::string from;      // model whose trained run it starts from ("" = none)
  bool per_seed = true;  // false: one run shared by every seed (a stage 0)
};

struct StudySpec {
  std::string source;  // the spec file
  std::string description;
  bool evidence = false;  // false: a pipeline check, said so in the report
  std::string world_root = "data/world", world_preset = "quick";
  uint64_t world_seed = 1;
  std::vector<int> seeds;
  nlohmann::json set = nlohmann::json::object();  // overrides for every model
  std::string split = "val";
  int eval_limit = 100;       // examples per task scored
  int routing_examples = 30;  // examples per task for routing profiles
  int skip_limit = 100, calibration_samples = 64, candidates = 8;
  std::vector<ModelSpec> models;  // in dependency order (a model's `from` comes earlier)
  nlohmann::json questions;       // {"rq1": {...}, ...}; see questions.h

  const ModelSpec& model(const std::string& name) const;  // throws naming the spec
};

// Parses and validates; `path` names the file in every error.
StudySpec load_spec(const std::string& path);
// The spec of a preset: configs/study/grid/<preset>.json under `repo_root`.
std::string preset_path(const std::string& repo_root, const std::string& preset);

}  // namespace smoes::study
