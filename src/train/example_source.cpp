#include "train/example_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/error.h"

namespace smoes::train {

std::vector<TaskData> load_tasks(const std::string& root, const std::map<std::string, double>& weights,
                                 const std::string& split) {
  std::vector<TaskData> out;
  for (const auto& [name, weight] : weights) {
    if (weight <= 0) continue;
    TaskData d;
    d.task = &tasks::find_task(name);
    if (split == "train" && d.task->eval_only)
      throw Error("data.mixture: task " + name + " is evaluation-only (training on it would leak its answers)");
    d.examples = d.task->load(root, split, /*strict=*/true, nullptr);
    d.weight = weight;
    if (d.examples.empty()) throw Error("task " + name + ": no examples in split '" + split + "' under " + root);
    spdlog::info("data: {} {} examples of {}", d.examples.size(), split, name);
    out.push_back(std::move(d));
  }
  if (out.empty()) throw Error("data.mixture: no task with a positive weight");
  return out;
}

Sequence make_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                       const std::string& target, int image_tokens, int max_text_len) {
  auto t = data::tokenize(tok, ex.prompt, target, image_tokens, max_text_len);
  if (size_t(t.images) != ex.image_paths.size())
    throw Error(ex.task + " example " + ex.id + ": prompt has " + std::to_string(t.images) + " <image> but " +
                std::to_string(ex.image_paths.size()) + " images");
  Sequence s{std::move(t.ids), std::move(t.modality), std::move(t.loss), {}};
  for (const auto& p : ex.image_paths) s.images.push_back(&cache.get(p));
  return s;
}

ExampleSource::ExampleSource(const Config& cfg, std::vector<TaskData> tasks, const data::Tokenizer& tok,
                             data::ImageCache& cache, int image_tokens)
    : cfg_(cfg), tasks_(std::move(tasks)), tok_(tok), cache_(cache), image_tokens_(image_tokens) {
  double total = 0;
  for (const auto& t : tasks_) total += t.weight;
  for (const auto& t : tasks_) cumulative_.push_back((cumulative_.empty() ? 0 : cumulative_.back()) + t.weight / total);
}

Batch ExampleSource::next(std::mt19937_64& rng) {
  std::vector<Sequence> seqs;
  for (int i = 0; i < cfg_.train.batch_size; ++i) {
    // Our own uniform draws (std distributions differ across standard libraries).
    double u = double(rng() >> 11) * 0x1.0p-53;
    size_t k = std::min(size_t(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin()),
                        tasks_.size() - 1);
    const auto& task = tasks_[k];
    const auto& ex = task.examples[rng() % task.examples.size()];
    auto target = tasks::training_target(*task.task, ex, cfg_.model.location_bins, rng);
    seqs.push_back(make_sequence(tok_, cache_, ex, target, image_tokens_, cfg_.data.max_text_len));
  }
  return collate(seqs, cfg_.model.image_size, tok_.pad_id(), /*left_pad=*/false);
}

}  // namespace smoes::train
