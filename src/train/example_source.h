// Training batches from a task mixture: each sequence picks a task by its
// mixture weight, then an example uniformly, then (for tasks with several
// references) a target; everything is drawn from the run's data RNG, so a
// resumed run sees exactly the batches the uninterrupted one would have.
//
// With data.turns_per_image > 1 a sequence also carries up to that many other
// examples of the same task and image as later turns (LLaVA's multi-turn
// conversations): the image is encoded once and supervises several answers,
// and turn 1 looks exactly like a single-turn (evaluation) prompt.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "tasks/batch.h"
#include "tasks/tasks.h"

namespace smoes::train {

// Task examples with their images decoded up front (through the image cache).
struct TaskData {
  const tasks::Task* task = nullptr;
  std::vector<data::Example> examples;
  double weight = 1.0;
};

// Loads `split` of every task in `names` from `root` (strict: a bad record is an error).
// A name "task/type" keeps only the task's examples whose question_type is
// `type` (VQA v2: "what color is the"), so one question type can get its own weight.
// For split "train", examples on any image of an evaluation split
// (tasks::evaluation_images) are left out, stage 0's detection data included.
std::vector<TaskData> load_tasks(const std::string& root, const std::map<std::string, double>& weights,
                                 const std::string& split);

class ExampleSource : public tasks::BatchSource {
 public:
  ExampleSource(const Config& cfg, std::vector<TaskData> tasks, const data::Tokenizer& tok,
                data::ImageCache& cache, int image_tokens);
  tasks::Batch next(std::mt19937_64& rng) override { return next_shard(rng, 0, 1); }
  // Draws all of train.batch_size sequences, builds only this shard's.
  tasks::Batch next_shard(std::mt19937_64& rng, int shard, int shards) override;

 private:
  // Appends up to turns_per_image - 1 other examples on the image of examples[first].
  void add_turns(tasks::Sequence& seq, size_t task_index, size_t first, std::mt19937_64& rng);
  Config cfg_;
  std::vector<TaskData> tasks_;
  const data::Tokenizer& tok_;
  data::ImageCache& cache_;
  int image_tokens_;
  std::vector<double> cumulative_;  // mixture weights, cumulative and normalised
  // Per task: image paths -> indices of its examples on those images (turns_per_image > 1 only).
  std::vector<std::map<std::vector<std::string>, std::vector<size_t>>> by_image_;
};

}  // namespace smoes::train
