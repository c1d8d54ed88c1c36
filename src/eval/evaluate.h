// Scoring a model on tasks: predictions (eval/predict.h) turned into each
// task's official metrics, and results files in the official
// submission formats so the same numbers can be recomputed from the files
// (`smoes eval --results`).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "tasks/tasks.h"
#include "eval/predict.h"

namespace smoes::eval {

// A unique key per example (its id; "#n" appended to repeats such as one
// RefCOCO ref with several sentences).
std::vector<std::string> example_keys(const std::vector<data::Example>& examples);

// The task's metrics for these predictions (one per example, in order).
nlohmann::json score(const tasks::Task& task, const std::vector<data::Example>& examples,
                     const std::vector<Prediction>& predictions);

// Predictions in the task's official results format (COCO captions
// [{"image_id","caption"}], VQA [{"question_id","answer"}], grounding
// [{"ref_id","bbox"}], else {id: answer}).
nlohmann::json results_json(const tasks::Task& task, const std::vector<data::Example>& examples,
                            const std::vector<Prediction>& predictions);

// Predictions read back from such a file (the inverse of results_json).
std::vector<Prediction> read_results(const tasks::Task& task, const std::vector<data::Example>& examples,
                                     const std::string& path);

struct EvalOptions {
  std::string split = "val";
  int limit = 0;              // first N examples of each task (0 = all)
  std::string results_dir;    // write <task>_results.json here ("" = don't)
  PredictOptions predict;
};

// {task: metrics} for each task (+ "vcr" with Q->AR when both VCR tasks ran).
// flops: when given, {task: ExecutedFlops::to_json()}, what the model executed
// to make each task's predictions.
nlohmann::json evaluate_tasks(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                              const std::string& root, const std::vector<std::string>& task_names,
                              const EvalOptions& options, nlohmann::json* flops = nullptr);

}  // namespace smoes::eval
