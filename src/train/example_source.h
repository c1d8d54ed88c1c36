// Training batches from a task mixture: each sequence picks a task by its
// mixture weight, then an example uniformly, then (for tasks with several
// references) a target; everything is drawn from the run's data RNG, so a
// resumed run sees exactly the batches the uninterrupted one would have.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "tasks/tasks.h"
#include "train/collate.h"
#include "train/trainer.h"

namespace smoes::train {

// Task examples with their images decoded up front (through the image cache).
struct TaskData {
  const tasks::Task* task = nullptr;
  std::vector<data::Example> examples;
  double weight = 1.0;
};

// Loads `split` of every task in `names` from `root` (strict: a bad record is an error).
std::vector<TaskData> load_tasks(const std::string& root, const std::map<std::string, double>& weights,
                                 const std::string& split);

// Prompt + target -> Sequence (images from `cache`; "<image>" expanded to `image_tokens` slots).
Sequence make_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                       const std::string& target, int image_tokens, int max_text_len);

class ExampleSource : public BatchSource {
 public:
  ExampleSource(const Config& cfg, std::vector<TaskData> tasks, const data::Tokenizer& tok,
                data::ImageCache& cache, int image_tokens);
  Batch next(std::mt19937_64& rng) override;

 private:
  Config cfg_;
  std::vector<TaskData> tasks_;
  const data::Tokenizer& tok_;
  data::ImageCache& cache_;
  int image_tokens_;
  std::vector<double> cumulative_;  // mixture weights, cumulative and normalised
};

}  // namespace smoes::train
