#include "analysis/grounding_probe.h"

#include <algorithm>
#include <array>
#include <random>

#include "core/error.h"
#include "eval/grounding.h"
#include "tasks/batch.h"
#include "tasks/tasks.h"

namespace smoes::analysis {

using tasks::collate;
using tasks::make_sequence;
using tasks::Sequence;
using tasks::set_grounding_target;

LookShares look_shares(const torch::Tensor& row, const std::vector<int>& object, int grid) {
  if (row.dim() != 1 || row.size(0) != int64_t(grid) * grid)
    throw Error("grounding probe: attention row " + c10::str(row.sizes()) + " is not a " + std::to_string(grid) +
                " x " + std::to_string(grid) + " grid");
  auto r = row.to(torch::kDouble).contiguous();
  const double* a = r.data_ptr<double>();
  std::vector<bool> near(size_t(grid) * grid, false);
  LookShares s;
  for (int p : object) {
    s.object += a[p];
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int y = p / grid + dy, x = p % grid + dx;
        if (y >= 0 && y < grid && x >= 0 && x < grid) near[size_t(y * grid + x)] = true;
      }
  }
  for (size_t p = 0; p < near.size(); ++p) {
    s.visual += a[p];
    if (near[p]) s.neighbourhood += a[p];
  }
  const int top = int(std::max_element(a, a + near.size()) - a);
  s.argmax_on_object = std::find(object.begin(), object.end(), top) != object.end();
  return s;
}

namespace {

constexpr const char* kCoordinates[4] = {"x1", "y1", "x2", "y2"};

struct Sums {
  int examples = 0, head_hits = 0, pointer_on_object = 0, pointer_box_hits = 0, tag_match_on_object = 0;
  double accuracy[4] = {}, within_one[4] = {};
  std::vector<std::array<double, 4>> looks;  // [4 coordinates * layers]: object, neighbourhood, visual, argmax
};

// The dense head's box at `patch` has IoU >= 0.5 with the truth.
bool head_box_hit(const torch::Tensor& bins, int patch, const data::Example& ex, int nbins) {
  auto b = bins[patch];
  auto box = tasks::location_bins_to_box({b[0].item<int>(), b[1].item<int>(), b[2].item<int>(), b[3].item<int>()},
                                         ex.image_width, ex.image_height, nbins);
  return eval::box_iou({box[0], box[1], box[2], box[3]}, {ex.box[0], ex.box[1], ex.box[2], ex.box[3]}) >= 0.5;
}

// ... at one of the object's patches.
bool head_box_hits(const torch::Tensor& bins, const std::vector<int>& object, const data::Example& ex, int nbins) {
  return std::any_of(object.begin(), object.end(), [&](int p) { return head_box_hit(bins, p, ex, nbins); });
}

// No learning: the patch whose active tags (`active` [P, T]) have the most
// names all of whose pieces (`words` [T, K], -1 = none) occur in the prompt
// is on the object (first such patch on ties).
bool tag_match_hits(const torch::Tensor& words, const torch::Tensor& active, const std::vector<int64_t>& prompt,
                    const std::vector<int>& object) {
  auto w = words.accessor<int64_t, 2>();
  std::vector<bool> named(size_t(words.size(0)), false);
  for (int64_t t = 0; t < words.size(0); ++t) {
    bool all = w[t][0] >= 0;
    for (int64_t k = 0; k < words.size(1) && w[t][k] >= 0; ++k)
      all = all && std::find(prompt.begin(), prompt.end(), w[t][k]) != prompt.end();
    named[size_t(t)] = all;
  }
  auto a = active.to(torch::kBool).contiguous();
  auto acc = a.accessor<bool, 2>();
  int best = 0, best_count = -1;
  for (int64_t p = 0; p < a.size(0); ++p) {
    int count = 0;
    for (int64_t t = 0; t < a.size(1); ++t) count += acc[p][t] && named[size_t(t)];
    if (count > best_count) best = int(p), best_count = count;
  }
  return std::find(object.begin(), object.end(), best) != object.end();
}

}  // namespace

nlohmann::json probe_grounding(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                               const std::string& root, const std::string& task_name, const GroundingProbeOptions& o) {
  const auto& task = tasks::find_task(task_name);
  if (task.kind != tasks::Kind::kGrounding) throw Error("grounding probe: " + task_name + " is not a grounding task");
  auto examples = tasks::load_with_images(task, root, o.split, /*strict=*/false, nullptr);
  if (examples.empty()) throw Error("grounding probe: no " + task_name + " " + o.split + " examples under " + root);
  torch::NoGradGuard no_grad;
  model->eval();
  const int bins = model->cfg.model.location_bins, tokens = int(model->image_tokens());
  const int grid = model->cfg.model.image_size / model->cfg.model.patch_size;
  const size_t layers = model->blocks->size();
  std::mt19937_64 rng(o.seed);
  Sums sums;
  sums.looks.resize(4 * layers);
  const size_t n = std::min(examples.size(), size_t(std::max(o.examples, 1)));
  for (size_t start = 0; start < n; start += size_t(o.batch_size)) {
    std::vector<Sequence> seqs;
    std::vector<const data::Example*> batch_examples;
    for (size_t i = start; i < std::min(n, start + size_t(o.batch_size)); ++i) {
      seqs.push_back(make_sequence(tok, cache, examples[i], tasks::training_target(task, examples[i], bins, rng), tokens,
                                   o.max_text_len, model->cfg.data.image_position));
      set_grounding_target(seqs.back(), examples[i], grid, "box", tok.location_id(0), bins);
      batch_examples.push_back(&examples[i]);
    }
    auto batch = collate(seqs, model->cfg.model.image_size, tok.pad_id(), /*left_pad=*/false);
    auto out = model->forward(batch.input, nullptr, /*want_attention=*/true);
    torch::Tensor head_bins, head_tags;  // [N, P, 4]; [N, P, classes + attributes]: argmax class, attributes > 0.5
    if (model->vision_head) {
      auto head = model->vision_head(model->see(batch.input.images));
      head_bins = head.boxes.argmax(-1);
      auto cls = torch::one_hot(head.classes.argmax(-1), head.classes.size(-1)).to(torch::kBool);
      if (model->tags) head_tags = head.attributes.defined() ? torch::cat({cls, head.attributes.gt(0)}, -1) : cls;
    }
    torch::Tensor pointed;  // the box pointer's chosen position per row
    if (model->pointer) {
      std::vector<int64_t> from;
      for (const auto& s : seqs) from.push_back(s.point_from);
      auto words = model::pointer_words(batch.input.input_ids, batch.input.modality, model->tags);
      pointed = model->pointer->logits(out.embedded, batch.input.modality, words, torch::tensor(from)).argmax(1);
    }
    for (size_t r = 0; r < seqs.size(); ++r) {
      const auto& seq = seqs[r];
      const auto& ex = *batch_examples[r];
      if (seq.look_from.size() < 4) continue;  // truncated: the box is not all there
      const auto object = tasks::box_patches(ex.box, ex.image_width, ex.image_height, grid);
      std::vector<int64_t> visual;
      for (size_t t = 0; t < seq.modality.size() && int(visual.size()) < tokens; ++t)
        if (seq.modality[t] == 1) visual.push_back(int64_t(t));
      auto visual_index = torch::tensor(visual);
      for (int c = 0; c < 4; ++c) {
        const int64_t t = seq.look_from[size_t(c)];
        const int64_t truth = seq.ids[size_t(t + 1)], guess = out.logits[int64_t(r)][t].argmax().item<int64_t>();
        sums.accuracy[c] += guess == truth;
        const bool is_location = guess >= tok.location_id(0) && guess <= tok.location_id(bins - 1);
        sums.within_one[c] += is_location && std::abs(guess - truth) <= 1;
        for (size_t l = 0; l < layers; ++l) {
          auto look = look_shares(out.attention_probs[l][int64_t(r)][t].index_select(0, visual_index), object, grid);
          auto& sum = sums.looks[size_t(c) * layers + l];
          sum[0] += look.object;
          sum[1] += look.neighbourhood;
          sum[2] += look.visual;
          sum[3] += look.argmax_on_object;
        }
      }
      if (head_bins.defined()) sums.head_hits += head_box_hits(head_bins[int64_t(r)], object, ex, bins);
      if (head_tags.defined()) {
        const std::vector<int64_t> prompt(seq.ids.begin() + visual.back() + 1, seq.ids.begin() + seq.point_from + 1);
        sums.tag_match_on_object += tag_match_hits(model->tags->words, head_tags[int64_t(r)], prompt, object);
      }
      if (pointed.defined()) {
        const int patch = int(std::find(visual.begin(), visual.end(), pointed[int64_t(r)].item<int64_t>()) - visual.begin());
        sums.pointer_on_object += std::find(object.begin(), object.end(), patch) != object.end();
        sums.pointer_box_hits += head_box_hit(head_bins[int64_t(r)], patch, ex, bins);
      }
      ++sums.examples;
    }
  }
  if (sums.examples == 0) throw Error("grounding probe: no " + task_name + " example kept its whole box");
  const double k = sums.examples;
  nlohmann::json coordinates = nlohmann::json::array();
  for (int c = 0; c < 4; ++c) {
    nlohmann::json per_layer = nlohmann::json::array();
    for (size_t l = 0; l < layers; ++l) {
      const auto& sum = sums.looks[size_t(c) * layers + l];
      per_layer.push_back(
          {{"object", sum[0] / k}, {"neighbourhood", sum[1] / k}, {"visual", sum[2] / k}, {"argmax_on_object", sum[3] / k}});
    }
    coordinates.push_back({{"name", kCoordinates[c]},
                           {"accuracy", sums.accuracy[c] / k},
                           {"within_one_bin", sums.within_one[c] / k},
                           {"layers", per_layer}});
  }
  nlohmann::json result = {{"task", task_name}, {"split", o.split}, {"examples", sums.examples}, {"coordinates", coordinates}};
  if (model->vision_head) result["head_box_acc"] = sums.head_hits / k;
  if (model->tags) result["tag_match_on_object"] = sums.tag_match_on_object / k;
  if (model->pointer) {
    result["pointer_on_object"] = sums.pointer_on_object / k;
    result["pointer_box_acc"] = sums.pointer_box_hits / k;
  }
  return result;
}

}  // namespace smoes::analysis
