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
    d.examples = d.task->load(root, split, /*strict=*/true, nullptr);
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

Sequence make_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                       const std::string& target, int image_tokens, int max_text_len,
                       const std::string& image_position) {
  auto t = data::tokenize(tok, tasks::arranged_prompt(ex.prompt, image_position), target, image_tokens, max_text_len);
  if (size_t(t.images) != ex.image_paths.size())
    throw Error(ex.task + " example " + ex.id + ": prompt has " + std::to_string(t.images) + " <image> but " +
                std::to_string(ex.image_paths.size()) + " images");
  Sequence s{std::move(t.ids), std::move(t.modality), std::move(t.loss), {}, {}};
  for (const auto& p : ex.image_paths) s.images.push_back(&cache.get(p));
  return s;
}

void set_grounding_target(Sequence& seq, const data::Example& ex, int grid, const std::string& from,
                          int64_t first_location, int64_t bins) {
  if (ex.box.size() != 4 || ex.image_width <= 0 || ex.image_height <= 0)
    throw Error(ex.task + " example " + ex.id + ": grounding attention needs the box and the image size");
  std::vector<int64_t> visual;  // positions of image 0's visual tokens
  for (size_t t = 0; t < seq.modality.size() && int64_t(visual.size()) < int64_t(grid) * grid; ++t)
    if (seq.modality[t] == 1) visual.push_back(int64_t(t));
  const auto answer = std::find(seq.loss.begin(), seq.loss.end(), uint8_t(1));
  if (int64_t(visual.size()) != int64_t(grid) * grid || answer == seq.loss.begin() || answer == seq.loss.end())
    throw Error(ex.task + " example " + ex.id + ": grounding attention needs " + std::to_string(grid * grid) +
                " visual tokens and an answer after the prompt");
  seq.look_from.clear();
  const int64_t first_answer = answer - seq.loss.begin();
  if (from == "box") {
    // The positions that write the box: the next token is a location token of this answer.
    for (int64_t t = first_answer - 1; t + 1 < int64_t(seq.ids.size()) && seq.loss[size_t(t + 1)]; ++t)
      if (seq.ids[size_t(t + 1)] >= first_location && seq.ids[size_t(t + 1)] < first_location + bins)
        seq.look_from.push_back(t);
    if (seq.look_from.empty())
      throw Error(ex.task + " example " + ex.id + ": grounding attention from the box, but the answer has no location token");
  } else {
    for (int64_t t = visual.back() + 1; t < first_answer; ++t)
      if (seq.modality[size_t(t)] == 0) seq.look_from.push_back(t);
  }
  seq.point_from = first_answer - 1;
  seq.look_at.clear();
  for (int p : tasks::box_patches(ex.box, ex.image_width, ex.image_height, grid)) seq.look_at.push_back(visual[size_t(p)]);
}

bool append_turn(Sequence& seq, const data::Tokenizer& tok, const data::Example& ex, const std::string& target,
                 int max_text_len, size_t max_len) {
  auto t = data::tokenize(tok, tasks::without_image_tags(ex.prompt), target, /*image_tokens=*/0, max_text_len);
  if (seq.ids.size() + t.ids.size() - 1 > max_len) return false;
  seq.ids.insert(seq.ids.end(), t.ids.begin() + 1, t.ids.end());  // skip the turn's BOS
  seq.modality.insert(seq.modality.end(), t.modality.begin() + 1, t.modality.end());
  seq.loss.insert(seq.loss.end(), t.loss.begin() + 1, t.loss.end());
  return true;
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

Batch ExampleSource::next(std::mt19937_64& rng) {
  std::vector<Sequence> seqs;
  for (int i = 0; i < cfg_.train.batch_size; ++i) {
    // Our own uniform draws (std distributions differ across standard libraries).
    double u = double(rng() >> 11) * 0x1.0p-53;
    size_t k = std::min(size_t(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin()),
                        tasks_.size() - 1);
    const auto& task = tasks_[k];
    const size_t first = rng() % task.examples.size();
    const auto& ex = task.examples[first];
    auto target = tasks::training_target(*task.task, ex, cfg_.model.location_bins, rng);
    seqs.push_back(
        make_sequence(tok_, cache_, ex, target, image_tokens_, cfg_.data.max_text_len, cfg_.data.image_position));
    if (cfg_.model.vision_classes > 0 && task.task->kind == tasks::Kind::kDetection)
      seqs.back().dense = tasks::dense_targets(ex, cfg_.model.image_size / cfg_.model.patch_size,
                                               cfg_.model.location_bins, cfg_.model.vision_classes,
                                               seqs.back().images.at(0), cfg_.model.image_size,
                                               cfg_.model.vision_attributes);
    if ((cfg_.train.grounding_attention > 0 || cfg_.model.box_pointer) && task.task->kind == tasks::Kind::kGrounding)
      set_grounding_target(seqs.back(), ex, cfg_.model.image_size / cfg_.model.patch_size,
                           cfg_.train.grounding_attention_from, tok_.location_id(0), cfg_.model.location_bins);
    if (cfg_.data.turns_per_image > 1 && !ex.image_paths.empty()) add_turns(seqs.back(), k, first, rng);
  }
  return collate(seqs, cfg_.model.image_size, tok_.pad_id(), /*left_pad=*/false);
}

void ExampleSource::add_turns(Sequence& seq, size_t task_index, size_t first, std::mt19937_64& rng) {
  const auto& task = tasks_[task_index];
  auto others = by_image_[task_index].at(task.examples[first].image_paths);
  others.erase(std::find(others.begin(), others.end(), first));
  // Partial Fisher-Yates with our own draws (std::shuffle differs across standard libraries).
  for (int turn = 1; turn < cfg_.data.turns_per_image && !others.empty(); ++turn) {
    std::swap(others[rng() % others.size()], others.back());
    const auto& ex = task.examples[others.back()];
    others.pop_back();
    auto target = tasks::training_target(*task.task, ex, cfg_.model.location_bins, rng);
    if (!append_turn(seq, tok_, ex, target, cfg_.data.max_text_len, size_t(cfg_.model.max_seq_len))) break;
  }
}

}  // namespace smoes::train
