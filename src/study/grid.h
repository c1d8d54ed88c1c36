// The study's runs: every model of the spec on every seed (or once, when it
// is shared), its resolved config, the key that names its folder, the run it
// starts from, and the measurements the questions need from it.
//
// The key is the SHA-256 of the resolved config (Config::to_json) with the
// output folder blanked, the initialisation replaced by the parent's key and
// the image cache blanked: two runs that would train the same thing share one
// folder, so a run shared between questions is trained once, and a finished
// run is found again after an interruption.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "study/spec.h"
#include "study/step.h"

namespace smoes::study {

struct Run {
  std::string id;  // "<model>-s<seed>", or "<model>" when shared by all seeds
  std::string model;
  int seed = 0;           // 0 = shared
  std::string key;        // 16 hex digits
  std::string dir;        // <out>/runs/<key>
  std::string parent;     // id of the run it starts from ("" = none)
  nlohmann::json config;  // resolved, with train.out_dir = dir and train.init_from = the parent's dir
  std::vector<Step> steps;
  // Other (model, seed) pairs whose resolved config is the same: one run
  // serves them all.
  std::vector<std::pair<std::string, int>> aliases;
};

struct Grid {
  std::string out;
  std::vector<Run> runs;                                      // parents before children
  const Run& get(const std::string& id) const;                // throws naming the id
  const Run* find(const std::string& model, int seed) const;  // the seed's run, or the shared one
  void add(Run r);                                            // merges a run whose key is already here into its aliases
};

Grid expand(const StudySpec& spec, const std::string& out_dir);

// Whether a run has finished training, and each of its measurements.
bool trained(const Run& r);
bool finished(const Run& r, const StudySpec& spec);

// A run folder carried to another machine or sitting without its
// checkpoints (results/ in the repo keeps only the small files) still counts
// as trained, and its measurements stand. Only when a child has yet to train
// from it must it train again: same config, seed and thread count give the
// same weights, and the retrain checks that its final loss matches.
bool has_checkpoint(const Run& r);
bool must_retrain(const Run& r, const Grid& g);  // trained, no checkpoint, an untrained child

}  // namespace smoes::study
