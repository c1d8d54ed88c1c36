#include "model/vision.h"

#include <algorithm>

#include "core/error.h"
#include "moe/linear.h"

namespace smoes::model {

ViTBlockImpl::ViTBlockImpl(int64_t width, int64_t heads) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  attn = register_module("attn", SelfAttention(width, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  fc1 = register_module("fc1", torch::nn::Linear(width, 4 * width));
  fc2 = register_module("fc2", torch::nn::Linear(4 * width, width));
}

torch::Tensor ViTBlockImpl::forward(const torch::Tensor& x) {
  auto h = x + attn->forward(norm1(x), /*bias=*/{}).out;
  return h + moe::linear(torch::gelu(moe::linear(norm2(h), fc1)), fc2);
}

// MAE-style 2D sin-cos position table [g*g, width]: the first half of the
// channels encodes the patch column, the second half its row. Starting from it
// (instead of small random values) puts each patch's position into the visual
// tokens from step 0, so the decoder can read where an object is (grounding);
// the table stays trainable.
torch::Tensor sincos_position_table(int64_t grid, int64_t width) {
  if (width % 4 != 0) throw Error("ViT: width " + std::to_string(width) + " must be a multiple of 4");
  const int64_t quarter = width / 4;
  auto freq = torch::pow(10000.0, -torch::arange(quarter, torch::kFloat) / quarter);  // [q]
  auto axis = [&](const torch::Tensor& pos) {                                       // pos [P] -> [P, 2q]
    auto angle = pos.unsqueeze(1) * freq.unsqueeze(0);
    return torch::cat({angle.sin(), angle.cos()}, 1);
  };
  auto idx = torch::arange(grid * grid, torch::kFloat);
  auto col = torch::fmod(idx, grid), row = torch::floor(idx / grid);
  return torch::cat({axis(col), axis(row)}, 1);
}

BatchTokenNormImpl::BatchTokenNormImpl(int64_t channels) {
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
}

torch::Tensor BatchTokenNormImpl::forward(const torch::Tensor& x) {
  constexpr double kEps = 1e-5, kMomentum = 0.1;
  if (!is_training()) return (x - running_mean) * torch::rsqrt(running_var + kEps);
  const std::vector<int64_t> tokens = {0, 1};
  auto mean = x.mean(tokens);
  auto var = (x - mean).pow(2).mean(tokens);
  {
    torch::NoGradGuard no_grad;
    const double n = double(x.size(0) * x.size(1));
    running_mean.mul_(1 - kMomentum).add_(mean.detach(), kMomentum);
    running_var.mul_(1 - kMomentum).add_(var.detach() * (n / std::max(n - 1, 1.0)), kMomentum);
  }
  return (x - mean) * torch::rsqrt(var + kEps);
}

ViTImpl::ViTImpl(int64_t image_size_, int64_t patch_size_, int64_t width, int64_t layers, int64_t heads,
                 bool batch_norm_output)
    : image_size(image_size_), patch_size(patch_size_) {
  if (image_size % patch_size != 0)
    throw Error("ViT: patch size " + std::to_string(patch_size) + " does not divide image size " +
                std::to_string(image_size));
  patch_embed = register_module("patch_embed", torch::nn::Linear(3 * patch_size * patch_size, width));
  pos_embed = register_parameter("pos_embed", sincos_position_table(image_size / patch_size, width));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < layers; ++i) blocks->push_back(ViTBlock(width, heads));
  if (batch_norm_output)
    batch_norm = register_module("batch_norm", BatchTokenNorm(width));
  else
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  // MAE init: Xavier-uniform weights and zero biases in every linear layer, so
  // a patch's content starts at the same scale as its sin-cos position.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    if (p.key().find("norm") != std::string::npos || p.key() == "pos_embed") continue;
    if (p.value().dim() >= 2)
      torch::nn::init::xavier_uniform_(p.value());
    else
      torch::nn::init::zeros_(p.value());
  }
}

torch::Tensor ViTImpl::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != image_size || images.size(3) != image_size)
    throw Error("ViT: expected images [N, 3, " + std::to_string(image_size) + ", " + std::to_string(image_size) +
                "], got " + c10::str(images.sizes()));
  const int64_t n = images.size(0), g = image_size / patch_size;
  // [N,3,g,p,g,p] -> [N,g,g,3,p,p] -> [N, P, 3*p*p]: patches in row-major order.
  auto patches = images.view({n, 3, g, patch_size, g, patch_size})
                     .permute({0, 2, 4, 1, 3, 5})
                     .reshape({n, g * g, 3 * patch_size * patch_size});
  auto x = moe::linear(patches, patch_embed) + pos_embed;
  for (auto& block : *blocks) x = block->as<ViTBlock>()->forward(x);
  return batch_norm ? batch_norm(x) : norm(x);
}

ProjectorImpl::ProjectorImpl(int64_t in, int64_t out, bool batch_stats) {
  fc1 = register_module("fc1", torch::nn::Linear(in, out));
  fc2 = register_module("fc2", torch::nn::Linear(out, out));
  // Starts at the scale of the decoder's N(0, 0.02) token embeddings.
  gain = register_parameter("gain", torch::full({out}, 0.02));
  if (batch_stats) norm = register_module("norm", BatchTokenNorm(out));
}

torch::Tensor ProjectorImpl::forward(const torch::Tensor& patches) {
  if (patches.dim() != 3) throw Error("projector: expected patch features [N, P, C], got " + c10::str(patches.sizes()));
  auto h = moe::linear(torch::gelu(moe::linear(patches, fc1)), fc2);
  if (norm) return norm(h) * gain;
  auto centred = h - h.mean(1, /*keepdim=*/true);
  return centred * torch::rsqrt(centred.pow(2).mean(1, /*keepdim=*/true) + 1e-5) * gain;
}

}  // namespace smoes::model
