#include "model/dense_head.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

using namespace smoes::model;

namespace {

// -log softmax(logits)[target], by hand.
double nll(const torch::Tensor& logits, int64_t target) {
  auto l = logits.to(torch::kDouble);
  return (l.exp().sum().log() - l[target]).item<double>();
}

}  // namespace

TEST(DenseHead, LossIsClassCrossEntropyPlusForegroundBoxCrossEntropy) {
  torch::manual_seed(3);
  DenseHead head(6, 3, 4);
  auto feats = torch::randn({2, 5, 6});
  auto out = head(feats);
  ASSERT_EQ(out.classes.sizes(), (std::vector<int64_t>{2, 5, 3}));
  ASSERT_EQ(out.boxes.sizes(), (std::vector<int64_t>{2, 5, 4, 4}));
  // Image 0: patch 1 is class 2 with a box, the rest background; image 1 has no targets.
  auto classes = torch::full({2, 5}, -100, torch::kLong);
  classes[0] = torch::tensor({0, 2, 0, 0, 0});
  auto boxes = torch::full({2, 5, 4}, -100, torch::kLong);
  boxes[0][1] = torch::tensor({0, 1, 3, 2});
  double class_nll = 0, box_nll = 0;
  for (int p = 0; p < 5; ++p) class_nll += nll(out.classes[0][p], classes[0][p].item<int64_t>()) / 5;
  for (int k = 0; k < 4; ++k) box_nll += nll(out.boxes[0][1][k], boxes[0][1][k].item<int64_t>()) / 4;
  auto l = dense_head_loss(out, classes, boxes);
  EXPECT_NEAR(l.loss.item<double>(), class_nll + box_nll, 1e-5);
  // Pixel statistics: MSE over the foreground patch's 6 values only, weighted.
  auto pixels = torch::full({2, 5, 6}, 7.0);  // background and image 1 must not count
  pixels[0][1] = torch::linspace(-1, 1, 6);
  const double mse = (out.pixels[0][1] - pixels[0][1]).pow(2).mean().item<double>();
  auto lp = dense_head_loss(out, classes, boxes, pixels);
  EXPECT_NEAR(lp.loss.item<double>(), class_nll + box_nll + kPixelLossWeight * mse, 1e-5);
  EXPECT_NEAR(lp.pixel_mse, mse, 1e-6);

  // The accuracies count foreground patches only.
  DenseHeadOutput sure{torch::zeros({2, 5, 3}), torch::zeros({2, 5, 4, 4}), torch::zeros({2, 5, 6}), {}};
  sure.classes.index_put_({0, 1, 2}, 10.0);     // patch 1 right
  for (int k = 0; k < 3; ++k) sure.boxes.index_put_({0, 1, k, boxes[0][1][k].item<int64_t>()}, 10.0);
  sure.boxes.index_put_({0, 1, 3, 0}, 10.0);     // the 4th bin wrong (target 2)
  auto a = dense_head_loss(sure, classes, boxes);
  EXPECT_DOUBLE_EQ(a.class_accuracy, 1.0);
  EXPECT_DOUBLE_EQ(a.box_bin_accuracy, 0.75);
}

TEST(DenseHead, AttributeLossIsBinaryCrossEntropySummedOverAttributesOnForegroundPatches) {
  torch::manual_seed(4);
  DenseHead head(6, 3, 4, /*attributes=*/3);
  auto out = head(torch::randn({1, 4, 6}));
  ASSERT_EQ(out.attributes.sizes(), (std::vector<int64_t>{1, 4, 3}));
  auto classes = torch::tensor({{0, 2, 1, 0}});
  auto boxes = torch::full({1, 4, 4}, -100, torch::kLong);
  auto attrs = torch::full({1, 4, 3}, 0.5);  // background rows must not count
  attrs[0][1] = torch::tensor({1.0, 0.0, 1.0});
  attrs[0][2] = torch::tensor({0.0, 1.0, 0.0});
  double bce = 0;  // -[y log s(x) + (1 - y) log(1 - s(x))], summed over attributes, averaged over 2 patches
  for (int p : {1, 2})
    for (int a = 0; a < 3; ++a) {
      const double x = out.attributes[0][p][a].item<double>(), y = attrs[0][p][a].item<double>();
      const double s = 1 / (1 + std::exp(-x));
      bce -= (y * std::log(s) + (1 - y) * std::log(1 - s)) / 2;
    }
  const double base = dense_head_loss(out, classes, boxes).loss.item<double>();
  auto l = dense_head_loss(out, classes, boxes, {}, attrs);
  EXPECT_NEAR(l.loss.item<double>(), base + bce, 1e-5);
  // Whole-set accuracy: patch 1 right, patch 2 with one attribute wrong.
  DenseHeadOutput sure{torch::zeros({1, 4, 3}), torch::zeros({1, 4, 4, 4}), torch::zeros({1, 4, 6}),
                       torch::tensor({{{0.0, 0.0, 0.0}, {5.0, -5.0, 5.0}, {-5.0, 5.0, 5.0}, {0.0, 0.0, 0.0}}})};
  EXPECT_DOUBLE_EQ(dense_head_loss(sure, classes, boxes, {}, attrs).attribute_accuracy, 0.5);
  EXPECT_THROW(dense_head_loss(out, classes, boxes, {}, attrs.narrow(2, 0, 2)), smoes::Error);
}

TEST(DenseHead, NoObjectsGivesAFiniteLossAndMismatchedTargetsAreAnError) {
  DenseHead head(4, 2, 3);
  auto out = head(torch::randn({1, 3, 4}));
  auto l = dense_head_loss(out, torch::zeros({1, 3}, torch::kLong), torch::full({1, 3, 4}, -100, torch::kLong));
  EXPECT_TRUE(std::isfinite(l.loss.item<double>()));
  l.loss.backward();  // still differentiable: the class part trains "background"
  EXPECT_GT(head->cls->weight.grad().abs().sum().item<double>(), 0.0);
  EXPECT_THROW(dense_head_loss(out, torch::zeros({1, 4}, torch::kLong), torch::zeros({1, 3, 4}, torch::kLong)),
               smoes::Error);
}

TEST(DenseHead, ObjectTagsAreClassAndAttributeProbabilitiesThenTheExpectedBox) {
  DenseHeadOutput out;
  out.classes = torch::tensor({0.0, std::log(3.0)}).view({1, 1, 2});  // p = 1/4, 3/4
  out.attributes = torch::tensor({0.0, 100.0, -100.0}).view({1, 1, 3});
  // 2 bins with centres 0.25 and 0.75: certain of bin 0, certain of bin 1, even, then 1:3.
  out.boxes = torch::tensor({100.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0, std::log(3.0)}).view({1, 1, 4, 2});
  auto tags = object_tags(out);
  ASSERT_EQ(tags.sizes(), (std::vector<int64_t>{1, 1, object_tag_width(2, 3)}));
  std::vector<double> expected = {0.25, 0.75, 0.5, 1.0, 0.0, 0.25, 0.75, 0.5, 0.25 * 0.25 + 0.75 * 0.75};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(tags[0][0][i].item<double>(), expected[i], 1e-5) << i;
  out.attributes = torch::Tensor();  // a head without attributes: class probabilities then the box
  EXPECT_EQ(object_tags(out).size(-1), object_tag_width(2, 0));
}
