#include "train/example_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/error.h"

namespace smoes::train {
namespace {

std::vector<data::Example> of_question_type(std::vector<data::Example> examples, const std::string& type) {
  auto other = [&](const data::Example& ex) {
    auto it = ex.meta.find("question_type");
    return it == ex.meta.end() || it->second != type;
  };
  examples.erase(std::remove_if(examples.begin(), examples.end(), other), examples.end());
  return examples;
}

}  // namespace

std::vector<TaskData> load_tasks(const std::string& root, const std::map<std::string, double>& weights,
                                 const std::string& split) {
  std::vector<TaskData> out;
  // Training never sees an image that an evaluation split uses (MDETR's rule).
  const auto held_out = split == "train" ? tasks::evaluation_images(root) : std::set<std::string>{};
  for (const auto& [name, weight] : weights) {
    if (weight <= 0) continue;
    TaskData d;
    // "vqa_v2/what color is the": the task's examples of one question type only.
    const auto slash = name.find('/');
    const std::string task_name = name.substr(0, slash);
    d.task = &tasks::find_task(task_name);
    if (split == "train" && d.task->eval_only)
      throw Error("data.mixture: task " + task_name + " is evaluation-only (training on it would leak its answers)");
    d.examples = tasks::load_with_images(*d.task, root, split, /*strict=*/true, nullptr);
    d.weight = weight;
    if (slash != std::string::npos) d.examples = of_question_type(std::move(d.examples), name.substr(slash + 1));
    if (const size_t dropped = tasks::remove_examples_on(d.examples, held_out))
      spdlog::info("data: {} {} examples of {} left out: their images belong to an evaluation split", dropped, split,
                   name);
    if (d.examples.empty()) throw Error("task " + name + ": no examples in split '" + split + "' under " + root);
    spdlog::info("data: {} {} examples of {}", d.examples.size(), split, name);
    out.push_back(std::move(d));
  }
  if (out.empty()) throw Error("data.mixture: no task with a positive weight");
  return out;
}

ExampleSource::ExampleSource(const Config& cfg, std::vector<TaskData> tasks, const data::Tokenizer& tok,
                             data::ImageCache& cache, int image_tokens)
    : cfg_(cfg), tasks_(std::move(tasks)), tok_(tok), cache_(cache), image_tokens_(image_tokens) {
  double total = 0;
  for (const auto& t : tasks_) total += t.weight;
  for (const auto& t : tasks_) cumulative_.push_back((cumulative_.empty() ? 0 : cumulative_.back()) + t.weight / total);
  if (cfg_.data.turns_per_image > 1)
    for (const auto& t : tasks_) {
      auto& groups = by_image_.emplace_back();
      for (size_t i = 0; i < t.examples.size(); ++i)
        if (!t.examples[i].image_paths.empty()) groups[t.examples[i].image_paths].push_back(i);
    }
}

tasks::Batch ExampleSource::next_shard(std::mt19937_64& rng, int shard, int shards) {
  const int global = cfg_.train.batch_size;
  if (global % shards != 0)
    throw Error("train.batch_size " + std::to_string(global) + " is not divisible by the " + std::to_string(shards) +
                " ranks");
  const int begin = shard * global / shards, end = (shard + 1) * global / shards;
  std::vector<tasks::Sequence> seqs;
  for (int i = 0; i < global; ++i) {
    // Our own uniform draws (std distributions differ across standard libraries).
    double u = double(rng() >> 11) * 0x1.0p-53;
    size_t k = std::min(size_t(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin()),
                        tasks_.size() - 1);
    const auto& task = tasks_[k];
    const size_t first = rng() % task.examples.size();
    const auto& ex = task.examples[first];
    auto target = tasks::training_target(*task.task, ex, cfg_.model.location_bins, rng);
    // Another rank's sequence costs only its draws, unless its later turns'
    // draws depend on its length (multi-turn): then it is built and dropped.
    const bool mine = i >= begin && i < end;
    const bool turns = cfg_.data.turns_per_image > 1 && !ex.image_paths.empty();
    if (!mine && !turns) continue;
    seqs.push_back(tasks::make_sequence(tok_, cache_, ex, target, image_tokens_, cfg_.data.max_text_len,
                                        cfg_.data.image_position));
    if (cfg_.model.vision_classes > 0 && task.task->kind == tasks::Kind::kDetection)
      seqs.back().dense = tasks::dense_targets(
          ex, cfg_.model.image_size / cfg_.model.patch_size, cfg_.model.location_bins, cfg_.model.vision_classes,
          seqs.back().images.at(0), cfg_.model.image_size, cfg_.model.vision_attributes);
    if ((cfg_.train.grounding_attention > 0 || cfg_.model.box_pointer) && task.task->kind == tasks::Kind::kGrounding)
      tasks::set_grounding_target(seqs.back(), ex, cfg_.model.image_size / cfg_.model.patch_size,
                                  cfg_.train.grounding_attention_from, tok_.location_id(0), cfg_.model.location_bins);
    if (turns) add_turns(seqs.back(), k, first, rng);
    if (!mine) seqs.pop_back();
  }
  return tasks::collate(seqs, cfg_.model.image_size, tok_.pad_id(), /*left_pad=*/false);
}

void ExampleSource::add_turns(tasks::Sequence& seq, size_t task_index, size_t first, std::mt19937_64& rng) {
  const auto& task = tasks_[task_index];
  auto others = by_image_[task_index].at(task.examples[first].image_paths);
  others.erase(std::find(others.begin(), others.end(), first));
  // Partial Fisher-Yates with our own draws (std::shuffle differs across standard libraries).
  for (int turn = 1; turn < cfg_.data.turns_per_image && !others.empty(); ++turn) {
    std::swap(others[rng() % others.size()], others.back());
    const auto& ex = task.examples[others.back()];
    others.pop_back();
    auto target = tasks::training_target(*task.task, ex, cfg_.model.location_bins, rng);
    if (!tasks::append_turn(seq, tok_, ex, target, cfg_.data.max_text_len, size_t(cfg_.model.max_seq_len))) break;
  }
}

}  // namespace smoes::train
