#include "model/dense_head.h"

#include "core/error.h"
#include "moe/linear.h"

namespace smoes::model {

DenseHeadImpl::DenseHeadImpl(int64_t width, int64_t classes, int64_t bins_, int64_t attributes) : bins(bins_) {
  cls = register_module("cls", torch::nn::Linear(width, classes));
  box = register_module("box", torch::nn::Linear(width, 4 * bins));
  pixel = register_module("pixel", torch::nn::Linear(width, 6));
  if (attributes > 0) attribute = register_module("attribute", torch::nn::Linear(width, attributes));
}

DenseHeadOutput DenseHeadImpl::forward(const torch::Tensor& patches) {
  if (patches.dim() != 3)
    throw Error("dense head: expected patch features [N, P, C], got " + c10::str(patches.sizes()));
  auto boxes = moe::linear(patches, box);
  return {moe::linear(patches, cls), boxes.view({patches.size(0), patches.size(1), 4, bins}),
          moe::linear(patches, pixel), attribute ? moe::linear(patches, attribute) : torch::Tensor()};
}

torch::Tensor object_tags(const DenseHeadOutput& out) {
  const int64_t bins = out.boxes.size(-1);
  // A bin's value is its centre, so the expectation stays inside (0, 1).
  auto centres = (torch::arange(bins, out.boxes.options()) + 0.5) / double(bins);
  auto box = (out.boxes.softmax(-1) * centres).sum(-1);  // [N, P, 4]
  std::vector<torch::Tensor> parts = {out.classes.softmax(-1)};
  if (out.attributes.defined()) parts.push_back(out.attributes.sigmoid());
  parts.push_back(box);
  return torch::cat(parts, -1);
}

namespace {

// Mean cross-entropy over the targets that are not -100; 0 (with a graph) when
// there are none, where the plain mean would be NaN (a batch without objects).
torch::Tensor masked_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (!targets.ne(-100).any().item<bool>()) return logits.sum() * 0.0;
  return torch::nn::functional::cross_entropy(logits, targets,
                                              torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

}  // namespace

DenseHeadLoss dense_head_loss(const DenseHeadOutput& out, const torch::Tensor& classes, const torch::Tensor& boxes,
                              const torch::Tensor& pixels, const torch::Tensor& attributes) {
  if (classes.sizes() != out.classes.sizes().slice(0, 2) || boxes.sizes() != out.boxes.sizes().slice(0, 3))
    throw Error("dense head: targets " + c10::str(classes.sizes()) + " / " + c10::str(boxes.sizes()) +
                " do not match predictions " + c10::str(out.classes.sizes()) + " / " + c10::str(out.boxes.sizes()));
  auto box_targets = boxes.flatten();
  auto loss = masked_cross_entropy(out.classes.flatten(0, 1), classes.flatten()) +
              masked_cross_entropy(out.boxes.flatten(0, 2), box_targets);
  auto fg = classes.gt(0);
  double pixel_mse = 0;
  if (pixels.defined()) {
    if (pixels.sizes() != out.pixels.sizes())
      throw Error("dense head: pixel targets " + c10::str(pixels.sizes()) + " do not match " +
                  c10::str(out.pixels.sizes()));
    if (fg.any().item<bool>()) {
      auto mse = (out.pixels - pixels).pow(2).index({fg}).mean();
      pixel_mse = mse.item<double>();
      loss = loss + kPixelLossWeight * mse;
    }
  }
  double attribute_accuracy = 0;
  if (attributes.defined()) {
    if (!out.attributes.defined() || attributes.sizes() != out.attributes.sizes())
      throw Error("dense head: attribute targets " + c10::str(attributes.sizes()) + " do not match " +
                  (out.attributes.defined() ? c10::str(out.attributes.sizes()) : "a head without attributes"));
    if (fg.any().item<bool>()) {
      auto logits = out.attributes.index({fg}), targets = attributes.index({fg});
      // Summed over the attributes, averaged over patches (the usual
      // multi-label loss): a mean over all A would shrink each attribute's
      // gradient by A, while a patch has only a few attributes that are true.
      loss = loss + torch::nn::functional::binary_cross_entropy_with_logits(
                        logits, targets, torch::nn::functional::BinaryCrossEntropyWithLogitsFuncOptions().reduction(
                                             torch::kSum)) / double(logits.size(0));
      torch::NoGradGuard no_grad;
      attribute_accuracy = logits.gt(0).eq(targets.gt(0.5)).all(-1).to(torch::kDouble).mean().item<double>();
    }
  }
  torch::NoGradGuard no_grad;
  auto has_box = box_targets.ne(-100);
  auto accuracy = [](const torch::Tensor& right, const torch::Tensor& where) {
    const auto n = where.sum().item<int64_t>();
    return n == 0 ? 0.0 : (right & where).sum().item<double>() / double(n);
  };
  return {loss, accuracy(out.classes.argmax(-1).eq(classes), fg),
          accuracy(out.boxes.flatten(0, 2).argmax(-1).eq(box_targets), has_box), pixel_mse, attribute_accuracy};
}

}  // namespace smoes::model
