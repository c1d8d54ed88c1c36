// Tokenised examples -> model batches: padding (right for training, left for
// generation prompts), attention mask, next-token labels on answer tokens,
// and the images as one normalised [N, 3, H, W] tensor in slot order.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "tasks/dense_targets.h"
#include "train/trainer.h"

namespace smoes::train {

struct Sequence {
  std::vector<int64_t> ids, modality;
  std::vector<uint8_t> loss;                        // 1 where the token is an answer token
  std::vector<const std::vector<uint8_t>*> images;  // side*side*3 RGB, one per run of image slots
  tasks::DenseTargets dense;                        // image 0's dense-head targets (empty = none)
  // Grounding-attention target (train.grounding_attention): the query
  // positions (the prompt's text after the image, up to the token that
  // predicts the answer) and the referred object's visual tokens. Empty = none.
  std::vector<int64_t> look_from, look_at;
  int64_t point_from = -1;  // box pointer query (the last prompt token), -1 = none; its targets are look_at
};

// label[t] = ids[t+1] where loss[t+1], else -100; padding has modality 0 and mask false.
// Dense targets go to Batch::patch_classes / patch_boxes (-100 for images
// without) / patch_pixels / patch_attributes. Grounding-attention targets go
// to Batch::look_from / look_at (undefined when no sequence has one), the
// pointer's query to Batch::point_from (likewise).
Batch collate(const std::vector<Sequence>& seqs, int image_side, int64_t pad_id, bool left_pad);

// RGB bytes -> [3, side, side] float in [-1, 1].
torch::Tensor image_tensor(const std::vector<uint8_t>& rgb, int side);

}  // namespace smoes::train
