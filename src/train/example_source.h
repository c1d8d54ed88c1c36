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
// A name "task/type" keeps only the task's examples whose question_type is
// `type` (VQA v2: "what color is the"), so one question type can get its own weight.
// For split "train", examples on any image of an evaluation split
// (tasks::evaluation_images) are left out, stage 0's detection data included.
std::vector<TaskData> load_tasks(const std::string& root, const std::map<std::string, double>& weights,
                                 const std::string& split);

// Prompt (arranged for data.image_position) + target -> Sequence (images from
// `cache`; "<image>" expanded to `image_tokens` slots).
Sequence make_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                       const std::string& target, int image_tokens, int max_text_len,
                       const std::string& image_position);

// Sets seq.look_from / look_at for the grounding example `ex`: every text
// token after image 0 up to the one that predicts the answer (from =
// "prompt"), or every answer position that predicts a location token, ids
// [first_location, first_location + bins) (from = "box"), looks at the
// visual tokens of tasks::box_patches(ex.box) on a grid x grid patch split;
// and seq.point_from to the last prompt token (the box pointer's query). Throws, naming the example, when its image size is unknown.
void set_grounding_target(Sequence& seq, const data::Example& ex, int grid, const std::string& from = "prompt",
                          int64_t first_location = -1, int64_t bins = 0);

// Appends `ex` as a later turn of `seq`: its prompt without "<image>" (the
// images are already in the sequence), its target and EOS, no BOS. Returns
// false, leaving `seq` unchanged, when that would make it longer than max_len.
bool append_turn(Sequence& seq, const data::Tokenizer& tok, const data::Example& ex, const std::string& target,
                 int max_text_len, size_t max_len);

class ExampleSource : public BatchSource {
 public:
  ExampleSource(const Config& cfg, std::vector<TaskData> tasks, const data::Tokenizer& tok,
                data::ImageCache& cache, int image_tokens);
  Batch next(std::mt19937_64& rng) override;

 private:
  // Appends up to turns_per_image - 1 other examples on the image of examples[first].
  void add_turns(Sequence& seq, size_t task_index, size_t first, std::mt19937_64& rng);
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
