#include "train/collate.h"

#include <algorithm>

#include "core/error.h"

namespace smoes::train {

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
  std::vector<std::pair<size_t, const tasks::DenseTargets*>> dense;  // image index -> targets
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

}  // namespace smoes::train
