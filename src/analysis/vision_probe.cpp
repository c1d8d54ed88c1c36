#include "analysis/vision_probe.h"

#include <random>
#include <set>

#include "core/error.h"
#include "tasks/batch.h"
#include "tasks/tasks.h"

namespace smoes::analysis {

using tasks::collate;
using tasks::image_tensor;
using tasks::make_sequence;
using tasks::Sequence;

nlohmann::json EnergySplit::to_json() const {
  const double t = total() > 0 ? total() : 1.0;
  return {{"mean_square", total()},
          {"constant", constant / t},
          {"position", position / t},
          {"image", image / t}};
}

EnergySplit split_energy(const torch::Tensor& features) {
  if (features.dim() != 3 || features.size(0) < 1 || features.size(1) < 1)
    throw Error("vision probe: expected features [N, P, C], got " + c10::str(features.sizes()));
  auto f = features.to(torch::kDouble);
  auto per_position = f.mean(0);                  // [P, C]
  auto shared = per_position.mean(0);             // [C]
  EnergySplit s;
  s.constant = shared.pow(2).mean().item<double>();
  s.position = (per_position - shared).pow(2).mean().item<double>();
  s.image = (f - per_position).pow(2).mean().item<double>();
  return s;
}

namespace {

std::vector<data::Example> examples_with_images(const std::string& task_name, const std::string& root,
                                                const std::string& split) {
  auto examples = tasks::load_with_images(tasks::find_task(task_name), root, split, /*strict=*/false, nullptr);
  std::vector<data::Example> out;
  for (auto& e : examples)
    if (!e.image_paths.empty()) out.push_back(std::move(e));
  return out;
}

// Mean answer loss over `examples`, batch by batch.
double answer_loss_on(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                      const tasks::Task& task, const std::vector<data::Example>& examples, const ProbeOptions& o) {
  std::mt19937_64 rng(o.seed);
  double sum = 0;
  int batches = 0;
  for (size_t start = 0; start < examples.size(); start += size_t(o.batch_size)) {
    std::vector<Sequence> seqs;
    for (size_t i = start; i < std::min(examples.size(), start + size_t(o.batch_size)); ++i) {
      auto target = tasks::training_target(task, examples[i], model->cfg.model.location_bins, rng);
      seqs.push_back(make_sequence(tok, cache, examples[i], target, int(model->image_tokens()), o.max_text_len,
                                   model->cfg.data.image_position));
    }
    auto batch = collate(seqs, model->cfg.model.image_size, tok.pad_id(), /*left_pad=*/false);
    sum += model->forward_loss(batch.input, batch.labels).loss.item<double>();
    ++batches;
  }
  return batches ? sum / batches : 0.0;
}

}  // namespace

nlohmann::json probe_vision(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                            const std::string& root, const std::vector<std::string>& tasks, const ProbeOptions& o) {
  if (tasks.empty()) throw Error("vision probe: no task given");
  torch::NoGradGuard no_grad;
  model->eval();
  struct RestoreBlind {  // the probe toggles model.blind; leave the model as it came
    model::MoEVLM& m;
    bool was;
    ~RestoreBlind() { m->cfg.model.blind = was; }
  } restore{model, model->cfg.model.blind};
  nlohmann::json out = {{"split", o.split}, {"loss", nlohmann::json::object()}};
  std::vector<std::pair<const tasks::Task*, std::vector<data::Example>>> loaded;
  for (const auto& name : tasks) loaded.emplace_back(&tasks::find_task(name), examples_with_images(name, root, o.split));

  // Energy split over distinct images of the first task that has images.
  std::vector<torch::Tensor> images;
  std::set<std::string> seen;
  for (const auto& [task, examples] : loaded) {
    for (const auto& e : examples) {
      if (int(images.size()) >= o.images) break;
      if (seen.insert(e.image_paths[0]).second)
        images.push_back(image_tensor(cache.get(e.image_paths[0]), model->cfg.model.image_size));
    }
    if (!images.empty()) break;
  }
  if (images.size() < 2) throw Error("vision probe: fewer than 2 images in the " + o.split + " split of the tasks");
  auto visual = model->encode_images(torch::stack(images));
  out["images"] = images.size();
  out["vit"] = split_energy(visual.patches).to_json();
  out["projector"] = split_energy(visual.projected).to_json();
  // Word/box tags are word embeddings, not encoder features: their share of
  // the visual tokens' energy says how much of a "vision" token is text.
  if (visual.tags.defined()) {
    const double tags = visual.tags.pow(2).sum().item<double>(), all = visual.tokens().pow(2).sum().item<double>();
    out["tag_energy_share"] = all > 0 ? tags / all : 0.0;
  }

  for (auto& [task, examples] : loaded) {
    if (examples.empty()) continue;  // text-only tasks have nothing to blank
    if (int(examples.size()) > o.examples) examples.resize(size_t(o.examples));
    model->cfg.model.blind = restore.was;  // as the model normally sees (blank for a blind baseline)
    const double real = answer_loss_on(model, tok, cache, *task, examples, o);
    model->cfg.model.blind = true;
    const double blank = answer_loss_on(model, tok, cache, *task, examples, o);
    out["loss"][task->name] = {{"real", real}, {"blank", blank}, {"gap", blank - real}, {"examples", examples.size()}};
  }
  return out;
}

}  // namespace smoes::analysis
