// The task registry: for every task name the file loader (over a dataset
// root laid out as `smoes world generate` writes it, or as the official
// downloads unpack: tasks/layouts.h), how it is scored, and the text a model
// is trained to produce for an example.
#pragma once
#include <array>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::tasks {

// How a task is answered and scored.
enum class Kind {
  kCaption,    // free text vs several references (BLEU/ROUGE-L/CIDEr-D)
  kVqa,        // short answer vs 10 human answers (VQA accuracy)
  kExact,      // short answer vs one answer (exact match)
  kGrounding,  // four location tokens -> box (Acc@0.5)
  kChoice,     // pick one of `choices` by log-likelihood
  kText,       // text-only language modelling (perplexity)
  kDetection,  // every object as "name + 4 location tokens" (training only: no scorer yet)
};

struct Task {
  std::string name;
  Kind kind;
  // Loads split "train", "val" or "test" (mapped to the dataset's own split names) from `root`.
  std::function<std::vector<data::Example>(const std::string& root, const std::string& split, bool strict,
                                           data::LoadReport* report)>
      load;
  // Evaluation-only tasks (fact_qa) are refused in a training mixture and
  // left out of the tokenizer's text.
  bool eval_only = false;
  // The splits scored as evaluation ("val", "test", or a dataset split name
  // such as RefCOCO's "testB"): no training task may use their images.
  std::vector<std::string> eval_splits = {"val", "test"};
  // False for tasks that repeat another's texts (MDETR's RefCOCO files are
  // REFER's expressions converted): left out of the tokenizer's text, so
  // having both does not reweight it.
  bool tokenizer_text = true;
};

const std::vector<Task>& all_tasks();

// task.load, then the images checked (data/image_check.h): what training,
// prediction and analysis read. Scoring a results file needs the annotations
// alone and calls task.load.
std::vector<data::Example> load_with_images(const Task& task, const std::string& root, const std::string& split,
                                            bool strict, data::LoadReport* report);
// Throws smoes::Error listing the known tasks when `name` is not one.
const Task& find_task(const std::string& name);

// Every image (as a normalised path) that an evaluation split of a task
// under `root` uses; tasks whose files are absent are skipped. MDETR's rule:
// RefCOCO's val/test refs sit on COCO train2014 images, so those images must
// leave COCO captions, detection and VQA training (train::load_tasks removes
// them with remove_examples_on).
std::set<std::string> evaluation_images(const std::string& root);
// Removes the examples that use an image in `held_out`; returns how many.
size_t remove_examples_on(std::vector<data::Example>& examples, const std::set<std::string>& held_out);
// `path` as evaluation_images keys it.
std::string image_key(const std::string& path);

// The text the model learns to produce for `ex` (sampled from the references
// when there are several): a caption, the most common VQA answer, the right
// choice, the box as location tokens, or every object as "name + box" in
// reading order (top to bottom, then left to right).
std::string training_target(const Task& task, const data::Example& ex, int location_bins, std::mt19937_64& rng);

// `text` with every "<image>" placeholder removed.
std::string without_image_tags(std::string text);

// The prompt as the model reads it. image_position "first" keeps the task's
// own prompt (LLaVA: image, then the question); "last" moves every "<image>"
// after the text, so the visual tokens can attend to the question in a causal
// decoder (as BLIP-2/InstructBLIP's query tokens do) and the answer follows them.
std::string arranged_prompt(const std::string& prompt, const std::string& image_position);

// Every text of the train splits under `root` (corpus lines, prompts without
// "<image>", references, choices), one per line, for training a tokenizer.
// Tasks whose files are absent, and those without tokenizer_text, are skipped.
std::string training_text(const std::string& root);

// Box [x, y, w, h] in pixels of a width x height image <-> "<loc_a><loc_b><loc_c><loc_d>"
// (x1, y1, x2, y2 quantised into `bins` bins per axis, bin centres on decoding).
std::string box_to_location_text(const std::vector<double>& box, int width, int height, int bins);
std::array<int, 4> box_to_bins(const std::vector<double>& box, int width, int height, int bins);
std::vector<double> location_bins_to_box(const std::vector<int>& bins4, int width, int height, int bins);

}  // namespace smoes::tasks
