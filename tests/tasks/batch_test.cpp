// Sequences to batches: padding, labels, dense and grounding targets.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tasks/batch.h"

using namespace smoes;

TEST(Collate, PadsMasksAndShiftsLabels) {
  std::vector<uint8_t> red(2 * 2 * 3, 255);
  tasks::Sequence a{{2, 9, 9, 5, 6, 3}, {0, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 1, 1}, {&red}, {}};
  tasks::Sequence b{{2, 7, 3}, {0, 0, 0}, {0, 1, 1}, {}, {}};
  auto right = tasks::collate({a, b}, 2, /*pad=*/0, /*left_pad=*/false);
  // Row 0: answer tokens 6 and 3 are predicted from positions 3 and 4.
  EXPECT_TRUE(right.labels[0].equal(torch::tensor({-100, -100, -100, 6, 3, -100})));
  EXPECT_TRUE(right.labels[1].equal(torch::tensor({7, 3, -100, -100, -100, -100})));
  EXPECT_TRUE(right.input.input_ids[1].equal(torch::tensor({2, 7, 3, 0, 0, 0})));
  EXPECT_TRUE(right.input.attention_mask[1].equal(torch::tensor({true, true, true, false, false, false})));
  EXPECT_TRUE(right.input.modality[0].equal(torch::tensor({0, 1, 1, 0, 0, 0})));
  ASSERT_EQ(right.input.images.sizes(), (std::vector<int64_t>{1, 3, 2, 2}));
  EXPECT_FLOAT_EQ(right.input.images.max().item<float>(), 1.0f);  // 255 -> 1

  auto left = tasks::collate({a, b}, 2, 0, /*left_pad=*/true);
  EXPECT_TRUE(left.input.input_ids[1].equal(torch::tensor({0, 0, 0, 2, 7, 3})));
  EXPECT_TRUE(left.labels[1].equal(torch::tensor({-100, -100, -100, 7, 3, -100})));
}

TEST(Collate, DenseTargetsGoToTheirSequencesImage) {
  std::vector<uint8_t> px(2 * 2 * 3, 0);
  tasks::Sequence plain{{2, 9, 3}, {0, 1, 0}, {0, 0, 1}, {&px}, {}};
  tasks::Sequence detection{{2, 9, 3}, {0, 1, 0}, {0, 0, 1}, {&px}, {}};
  detection.dense = {{0, 1, 0, 2}, {-100, -100, -100, -100, 1, 2, 3, 4, -100, -100, -100, -100, 5, 6, 7, 8},
                     std::vector<float>(24, 0.5f), {0, 0, 0, 1, 0, 0, 1, 1}};  // 2 attributes per patch
  auto batch = tasks::collate({plain, detection}, 2, 0, false);
  ASSERT_EQ(batch.patch_classes.sizes(), (std::vector<int64_t>{2, 4}));
  ASSERT_EQ(batch.patch_boxes.sizes(), (std::vector<int64_t>{2, 4, 4}));
  EXPECT_TRUE(batch.patch_classes[0].equal(torch::full({4}, -100, torch::kLong)));
  EXPECT_TRUE(batch.patch_classes[1].equal(torch::tensor({0, 1, 0, 2})));
  EXPECT_TRUE(batch.patch_boxes[1][3].equal(torch::tensor({5, 6, 7, 8})));
  ASSERT_EQ(batch.patch_pixels.sizes(), (std::vector<int64_t>{2, 4, 6}));
  EXPECT_TRUE(batch.patch_pixels[1].equal(torch::full({4, 6}, 0.5f)));
  EXPECT_TRUE(batch.patch_pixels[0].equal(torch::zeros({4, 6})));
  ASSERT_EQ(batch.patch_attributes.sizes(), (std::vector<int64_t>{2, 4, 2}));
  EXPECT_TRUE(batch.patch_attributes[1].equal(torch::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 1.f, 1.f}).view({4, 2})));
  EXPECT_TRUE(batch.patch_attributes[0].equal(torch::zeros({4, 2})));
  EXPECT_FALSE(tasks::collate({plain}, 2, 0, false).patch_classes.defined());
}

TEST(GroundingAttention, ThePromptTextAfterTheImageLooksAtTheBoxsVisualTokens) {
  // BOS, 4 visual tokens (2 x 2 patches of a 16 px image), two prompt tokens, the answer.
  tasks::Sequence seq{{2, 9, 9, 9, 9, 5, 6, 7, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 1}, {}, {}};
  data::Example ex;
  ex.task = "refcoco";
  ex.id = "r1";
  ex.image_width = ex.image_height = 16;
  ex.box = {8, 0, 8, 16};  // the right half: patches 1 and 3, at positions 2 and 4
  tasks::set_grounding_target(seq, ex, 2);
  EXPECT_EQ(seq.look_from, (std::vector<int64_t>{5, 6}));  // 6 predicts the first answer token
  EXPECT_EQ(seq.look_at, (std::vector<int64_t>{2, 4}));
  // Collated with left padding, both shift with the sequence.
  tasks::Sequence other{{2, 9, 9, 9, 9, 5, 6, 7, 3, 3, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
                        {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, {}, {}};
  auto batch = tasks::collate({seq, other}, 16, 0, /*left_pad=*/true);
  EXPECT_TRUE(batch.look_from[0].nonzero().flatten().equal(torch::tensor({int64_t(7), int64_t(8)})));
  EXPECT_TRUE(batch.look_at[0].nonzero().flatten().equal(torch::tensor({int64_t(4), int64_t(6)})));
  EXPECT_FALSE(batch.look_from[1].any().item<bool>());
  EXPECT_FALSE(batch.look_at[1].any().item<bool>());
  EXPECT_FALSE(tasks::collate({other}, 16, 0, false).look_from.defined());
  ex.image_width = 0;
  EXPECT_THROW(tasks::set_grounding_target(seq, ex, 2), Error);
}

TEST(GroundingAttention, FromTheBoxThePositionsThatWriteLocationTokensLook) {
  // BOS, 4 visual tokens, two prompt tokens, the answer: a space piece (8), two location tokens (20, 21), EOS.
  tasks::Sequence seq{{2, 9, 9, 9, 9, 5, 6, 8, 20, 21, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
                      {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, {}, {}};
  data::Example ex;
  ex.task = "refcoco";
  ex.id = "r2";
  ex.image_width = ex.image_height = 16;
  ex.box = {0, 0, 8, 8};  // the top-left patch, at position 1
  tasks::set_grounding_target(seq, ex, 2, "box", /*first_location=*/20, /*bins=*/4);
  EXPECT_EQ(seq.look_from, (std::vector<int64_t>{7, 8}));  // they predict 20 and 21
  EXPECT_EQ(seq.look_at, (std::vector<int64_t>{1}));
  seq.ids[8] = seq.ids[9] = 30;  // no location token in the answer
  EXPECT_THROW(tasks::set_grounding_target(seq, ex, 2, "box", 20, 4), Error);
}

TEST(BoxPointer, QueriesFromTheLastPromptTokenAndShiftsWithPadding) {
  tasks::Sequence seq{{2, 9, 9, 9, 9, 5, 6, 7, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 1}, {}, {}};
  data::Example ex;
  ex.task = "refcoco";
  ex.id = "r3";
  ex.image_width = ex.image_height = 16;
  ex.box = {8, 0, 8, 16};
  tasks::set_grounding_target(seq, ex, 2);
  EXPECT_EQ(seq.point_from, 6);  // 6 predicts the first answer token
  tasks::Sequence other{{2, 9, 9, 9, 9, 5, 6, 7, 3, 3, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
                        {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, {}, {}};
  auto batch = tasks::collate({seq, other}, 16, 0, /*left_pad=*/true);
  EXPECT_TRUE(batch.point_from.equal(torch::tensor({int64_t(8), int64_t(-1)})));
}
