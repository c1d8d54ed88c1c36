#include "tasks/batch.h"

#include <algorithm>

#include "core/error.h"
#include "tasks/tasks.h"

namespace smoes::tasks {

Batch BatchSource::next_shard(std::mt19937_64& rng, int shard, int shards) {
  if (shards != 1) throw Error("this batch source cannot be sharded between ranks");
  return next(rng);
}

Sequence make_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                       const std::string& target, int image_tokens, int max_text_len,
                       const std::string& image_position) {
  auto t = data::tokenize(tok, arranged_prompt(ex.prompt, image_position), target, image_tokens, max_text_len);
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
  for (int p : box_patches(ex.box, ex.image_width, ex.image_height, grid)) seq.look_at.push_back(visual[size_t(p)]);
}

bool append_turn(Sequence& seq, const data::Tokenizer& tok, const data::Example& ex, const std::string& target,
                 int max_text_len, size_t max_len) {
  auto t = data::tokenize(tok, without_image_tags(ex.prompt), target, /*image_tokens=*/0, max_text_len);
  if (seq.ids.size() + t.ids.size() - 1 > max_len) return false;
  seq.ids.insert(seq.ids.end(), t.ids.begin() + 1, t.ids.end());  // skip the turn's BOS
  seq.modality.insert(seq.modality.end(), t.modality.begin() + 1, t.modality.end());
  seq.loss.insert(seq.loss.end(), t.loss.begin() + 1, t.loss.end());
  return true;
}

torch::Tensor image_tensor(const std::vector<uint8_t>& rgb, int side) {
  if (rgb.size() != size_t(side) * side * 3) throw Error("collate: image is not " + std::to_string(side) + "x" +
                                                         std::to_string(side) + " RGB");
  auto hwc = torch::from_blob(const_cast<uint8_t*>(rgb.data()), {side, side, 3}, torch::kUInt8);
  return hwc.permute({2, 0, 1}).to(torch::kFloat).div(127.5).sub(1.0);
}

Batch collate(const std::vector<Sequence>& seqs, int image_side, int64_t pad_id, bool left_pad) {
  if (seqs.empty()) throw Error("collate: empty batch");
  size_t len = 0;
  for (const auto& s : seqs) len = std::max(len, s.ids.size());
  const int64_t b = int64_t(seqs.size()), n = int64_t(len);
  auto ids = torch::full({b, n}, pad_id, torch::kLong);
  auto modality = torch::zeros({b, n}, torch::kLong);
  auto mask = torch::zeros({b, n}, torch::kBool);
  auto labels = torch::full({b, n}, -100, torch::kLong);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mod_a = modality.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<bool, 2>();
  auto lab_a = labels.accessor<int64_t, 2>();
  std::vector<torch::Tensor> images;
  std::vector<std::pair<size_t, const DenseTargets*>> dense;  // image index -> targets
  for (int64_t r = 0; r < b; ++r) {
    const auto& s = seqs[r];
    const int64_t offset = left_pad ? n - int64_t(s.ids.size()) : 0;
    for (size_t t = 0; t < s.ids.size(); ++t) {
      ids_a[r][offset + t] = s.ids[t];
      mod_a[r][offset + t] = s.modality[t];
      mask_a[r][offset + t] = true;
      if (t + 1 < s.ids.size() && s.loss[t + 1]) lab_a[r][offset + t] = s.ids[t + 1];
    }
    if (!s.dense.classes.empty() && !s.images.empty()) dense.emplace_back(images.size(), &s.dense);
    for (const auto* img : s.images) images.push_back(image_tensor(*img, image_side));
  }
  Batch batch;
  batch.input = {ids, modality, mask, images.empty() ? torch::Tensor() : torch::stack(images), {}};
  batch.labels = labels;
  if (std::any_of(seqs.begin(), seqs.end(), [](const Sequence& s) { return !s.look_at.empty(); })) {
    batch.look_from = torch::zeros({b, n}, torch::kBool);
    batch.look_at = torch::zeros({b, n}, torch::kBool);
    batch.point_from = torch::full({b}, -1, torch::kLong);
    for (int64_t r = 0; r < b; ++r) {
      const auto& s = seqs[r];
      const int64_t offset = left_pad ? n - int64_t(s.ids.size()) : 0;
      for (int64_t p : s.look_from) batch.look_from[r][offset + p] = true;
      for (int64_t p : s.look_at) batch.look_at[r][offset + p] = true;
      if (s.point_from >= 0) batch.point_from[r] = offset + s.point_from;
    }
  }
  if (!dense.empty()) {
    const int64_t p = int64_t(dense[0].second->classes.size());
    batch.patch_classes = torch::full({int64_t(images.size()), p}, -100, torch::kLong);
    batch.patch_boxes = torch::full({int64_t(images.size()), p, 4}, -100, torch::kLong);
    const bool pixels = !dense[0].second->pixels.empty();
    if (pixels) batch.patch_pixels = torch::zeros({int64_t(images.size()), p, 6});
    const int64_t a = int64_t(dense[0].second->attributes.size()) / p;
    if (a > 0) batch.patch_attributes = torch::zeros({int64_t(images.size()), p, a});
    for (const auto& [i, t] : dense) {
      if (int64_t(t->classes.size()) != p || int64_t(t->boxes.size()) != 4 * p ||
          t->pixels.size() != (pixels ? size_t(6 * p) : 0) || int64_t(t->attributes.size()) != a * p)
        throw Error("collate: dense targets of different sizes in one batch");
      batch.patch_classes[int64_t(i)].copy_(torch::tensor(t->classes));
      batch.patch_boxes[int64_t(i)].copy_(torch::tensor(t->boxes).view({p, 4}));
      if (pixels) batch.patch_pixels[int64_t(i)].copy_(torch::tensor(t->pixels).view({p, 6}));
      if (a > 0) batch.patch_attributes[int64_t(i)].copy_(torch::tensor(t->attributes).view({p, a}));
    }
  }
  return batch;
}

}  // namespace smoes::tasks
