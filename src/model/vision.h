// The vision side of the VLM: a small ViT over image patches and the LLaVA
// 2-layer GELU projector into the decoder width.
#pragma once
#include <torch/torch.h>

#include "model/attention.h"

namespace smoes::model {

// 2D sin-cos position table [grid*grid, width] (row-major patches); width % 4 == 0.
torch::Tensor sincos_position_table(int64_t grid, int64_t width);

struct ViTBlockImpl : torch::nn::Module {
  ViTBlockImpl(int64_t width, int64_t heads);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  SelfAttention attn{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ViTBlock);

// Per-channel normalisation over every token of the batch ([N, P, C] -> zero
// mean, unit variance over N and P), with running statistics (momentum 0.1)
// used in eval mode, as BatchNorm does. Unlike LayerNorm it removes a vector
// shared by all tokens instead of dividing the tokens' content by it.
struct BatchTokenNormImpl : torch::nn::Module {
  explicit BatchTokenNormImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor running_mean, running_var;  // [C]
};
TORCH_MODULE(BatchTokenNorm);

struct ViTImpl : torch::nn::Module {
  // batch_norm_output: end with BatchTokenNorm instead of LayerNorm. Trained
  // from scratch, the ViT grows one large vector on every token (99.9% of its
  // output's mean square, docs/RESULTS.md), and its final LayerNorm then
  // shrinks the image content to a few percent.
  ViTImpl(int64_t image_size, int64_t patch_size, int64_t width, int64_t layers, int64_t heads,
          bool batch_norm_output = false);
  // images: [N, 3, H, W] float -> patch features [N, P, width].
  torch::Tensor forward(const torch::Tensor& images);
  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }

  int64_t image_size, patch_size;
  torch::nn::Linear patch_embed{nullptr};
  torch::Tensor pos_embed;
  torch::nn::ModuleList blocks;
  torch::nn::LayerNorm norm{nullptr};
  BatchTokenNorm batch_norm{nullptr};  // replaces `norm` when batch_norm_output
};
TORCH_MODULE(ViT);

// LLaVA projector: Linear -> GELU -> Linear, then each channel centred and
// scaled to unit variance, and multiplied by a learned per-channel gain.
// patches: [N, P, in] -> visual tokens [N, P, out].
//
// Why the normalisation: trained from scratch, the decoder's easiest early
// move is to drown the (still noisy) visual tokens in a large constant vector,
// the same for every image and patch; every norm after it then squashes the
// image content to ~0 and its gradient with it, and the model never learns to
// read images (measured: the same eval scores on real and blank images,
// docs/RESULTS.md). Centring removes any such constant. Two statistics:
//  - per image (`batch_stats` false): over the image's patches. Also removes
//    each image's own mean, so a uniform attention over the patches reads 0.
//  - per batch (`batch_stats` true): over every patch of the batch, as
//    BatchNorm does, with running statistics (momentum 0.1) used in eval
//    mode. Removes only what all images share.
struct ProjectorImpl : torch::nn::Module {
  ProjectorImpl(int64_t in, int64_t out, bool batch_stats = false);
  torch::Tensor forward(const torch::Tensor& patches);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::Tensor gain;         // [out]
  BatchTokenNorm norm{nullptr};  // batch statistics only
};
TORCH_MODULE(Projector);

}  // namespace smoes::model
