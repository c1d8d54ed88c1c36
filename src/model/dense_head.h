// A dense detection head on the ViT's patch features (FCOS / CenterNet
// style): every patch predicts the category of the object it lies on
// (0 = background), that object's box as four location bins (x1, y1, x2,
// y2), its pixels' mean and standard deviation per channel (colour and
// texture, which the categories and boxes do not carry) and, when the data
// names them, its attributes (multi-hot: colour, material, size). Trained on its own first (train.stage = "vision"), it gives
// the ViT what LLaVA gets from a pretrained encoder: patch features that already say what is where, so the decoder only
// has to learn to look them up.
#pragma once
#include <torch/torch.h>

namespace smoes::model {

struct DenseHeadOutput {
  torch::Tensor classes;  // [N, P, C] logits
  torch::Tensor boxes;    // [N, P, 4, bins] logits
  torch::Tensor pixels;   // [N, P, 6] object pixel mean and std, RGB in [-1, 1]
  torch::Tensor attributes;  // [N, P, A] logits (undefined without attributes)
};

// Linear on purpose: whatever it reads must be linearly there in the features.
struct DenseHeadImpl : torch::nn::Module {
  DenseHeadImpl(int64_t width, int64_t classes, int64_t bins, int64_t attributes = 0);
  DenseHeadOutput forward(const torch::Tensor& patches);  // [N, P, width]
  torch::nn::Linear cls{nullptr}, box{nullptr}, pixel{nullptr}, attribute{nullptr};
  int64_t bins;
};
TORCH_MODULE(DenseHead);

// Per-patch object tags from the head's predictions: class probabilities [C],
// attribute probabilities [A] (sigmoid) and the expected box [4] (x0, y0, x1,
// y1 as fractions of the image), concatenated to [N, P, C + A + 4].
torch::Tensor object_tags(const DenseHeadOutput& out);
inline int64_t object_tag_width(int64_t classes, int64_t attributes) { return classes + attributes + 4; }

struct DenseHeadLoss {
  // class CE over patches + box-bin CE over foreground patches
  // + kPixelLossWeight x pixel-statistics MSE over foreground patches
  // + attribute binary cross-entropy (summed over attributes) over foreground patches
  torch::Tensor loss;
  double class_accuracy;    // on foreground patches
  double box_bin_accuracy;  // on foreground patches' 4 bins
  double pixel_mse = 0;     // on foreground patches (0 without pixel targets)
  double attribute_accuracy = 0;  // foreground patches whose whole attribute set is right
};

// The pixel statistics live in [-1, 1] and their MSE starts near 0.1 while the
// cross-entropies start near log(classes); the weight puts them on one scale.
constexpr double kPixelLossWeight = 10.0;

// classes: [N, P] (-100 = no target), boxes: [N, P, 4] (-100 on background),
// pixels: [N, P, 6] and attributes: [N, P, A] (multi-hot) read where
// classes > 0 (undefined = no such term).
DenseHeadLoss dense_head_loss(const DenseHeadOutput& out, const torch::Tensor& classes, const torch::Tensor& boxes,
                              const torch::Tensor& pixels = {}, const torch::Tensor& attributes = {});

}  // namespace smoes::model
