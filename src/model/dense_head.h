// A dense detection head on the ViT's patch features (FCOS / CenterNet
// style): every patch predicts the category of the object it lies on
// (0 = background) and that object's box as four location bins (x1, y1, x2,
// y2). Trained on its own first (train.stage = "vision"), it gives the ViT
// what LLaVA gets from a pretrained encoder: patch features that already say
// what is where, so the decoder only has to learn to look them up.
#pragma once
#include <torch/torch.h>

namespace smoes::model {

struct DenseHeadOutput {
  torch::Tensor classes;  // [N, P, C] logits
  torch::Tensor boxes;    // [N, P, 4, bins] logits
};

// Linear on purpose: whatever it reads must be linearly there in the features.
struct DenseHeadImpl : torch::nn::Module {
  DenseHeadImpl(int64_t width, int64_t classes, int64_t bins);
  DenseHeadOutput forward(const torch::Tensor& patches);  // [N, P, width]
  torch::nn::Linear cls{nullptr}, box{nullptr};
  int64_t bins;
};
TORCH_MODULE(DenseHead);

struct DenseHeadLoss {
  torch::Tensor loss;      // class CE over patches + box-bin CE over foreground patches
  double class_accuracy;   // on foreground patches
  double box_bin_accuracy; // on foreground patches' 4 bins
};

// classes: [N, P] (-100 = no target), boxes: [N, P, 4] (-100 on background).
DenseHeadLoss dense_head_loss(const DenseHeadOutput& out, const torch::Tensor& classes, const torch::Tensor& boxes);

}  // namespace smoes::model
