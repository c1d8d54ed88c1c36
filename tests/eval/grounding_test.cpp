#include "eval/grounding.h"

#include <gtest/gtest.h>

#include "core/error.h"

using namespace smoes::eval;

TEST(BoxIou, HandComputedValues) {
  Box a{0, 0, 10, 10};
  EXPECT_DOUBLE_EQ(box_iou(a, a), 1.0);
  EXPECT_DOUBLE_EQ(box_iou(a, {5, 5, 10, 10}), 25.0 / 175.0);                // 5x5 overlap, union 100 + 100 - 25
  EXPECT_DOUBLE_EQ(box_iou(a, {0, 0, 10, 5}), 0.5);                          // half of a
  EXPECT_DOUBLE_EQ(box_iou(a, {2, 2, 5, 5}), 0.25);                          // contained: 25 / 100
  EXPECT_DOUBLE_EQ(box_iou(a, {10, 0, 10, 10}), 0.0);                        // touching edges
  EXPECT_DOUBLE_EQ(box_iou(a, {30, 30, 5, 5}), 0.0);                         // disjoint
  EXPECT_DOUBLE_EQ(box_iou({1, 1, 0, 0}, {1, 1, 0, 0}), 0.0);                // no area at all
  EXPECT_DOUBLE_EQ(box_iou({0.5, 0.5, 2, 2}, {1.5, 0.5, 2, 2}), 2.0 / 6.0);  // sub-pixel boxes, no +1
}

TEST(GroundingMetrics, AccAtHalfCountsIouOfExactlyHalf) {
  std::map<std::string, Box> gt = {{"1", {0, 0, 10, 10}}, {"2", {0, 0, 10, 10}}, {"3", {0, 0, 10, 10}}};
  std::map<std::string, Box> pred = {{"1", {0, 0, 10, 10}}, {"2", {0, 0, 10, 5}}, {"3", {5, 5, 10, 10}}};
  auto m = grounding_metrics(gt, pred);  // IoUs 1, 0.5, 1/7 -> 2 of 3 hit
  EXPECT_NEAR(m["Acc@0.5"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m["mean_IoU"].get<double>(), (1.0 + 0.5 + 1.0 / 7.0) / 3.0, 1e-12);
  EXPECT_EQ(m["count"].get<int>(), 3);
  EXPECT_NEAR(grounding_metrics(gt, pred, 0.75)["Acc@0.75"].get<double>(), 1.0 / 3.0, 1e-12);
  pred.erase("3");
  EXPECT_THROW(grounding_metrics(gt, pred), smoes::Error);
}
