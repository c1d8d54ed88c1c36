#include "tasks/dense_targets.h"

#include <gtest/gtest.h>

#include "core/error.h"

using namespace smoes;

namespace {

data::Example scene(int width, int height, std::vector<data::LabelledBox> objects) {
  data::Example ex;
  ex.task = "coco_detection";
  ex.id = "7";
  ex.image_width = width;
  ex.image_height = height;
  ex.objects = std::move(objects);
  return ex;
}

std::vector<int64_t> box_of(const tasks::DenseTargets& t, int patch) {
  return {t.boxes.begin() + patch * 4, t.boxes.begin() + patch * 4 + 4};
}

}  // namespace

// 64 px image, 8 x 8 patches of 8 px (centres at 4, 12, 20, ...), 32 bins of 2 px.
TEST(DenseTargets, SmallestObjectWinsAndTinyObjectsKeepTheirCentrePatch) {
  auto ex = scene(64, 64, {{"square", {16, 16, 24, 24}, 2, {}, {}},   // centres 20, 28, 36 inside: 3 x 3 patches
                           {"circle", {26, 26, 6, 6}, 1, {}, {}},     // inside the square; only centre 28 inside
                           {"diamond", {53, 1, 2, 2}, 3, {}, {}}});   // no patch centre inside; its own centre (54, 2)
  auto t = tasks::dense_targets(ex, 8, 32, 5);
  ASSERT_EQ(t.classes.size(), 64u);
  ASSERT_EQ(t.boxes.size(), 256u);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      const int p = r * 8 + c;
      int64_t want = 0;
      if (r >= 2 && r <= 4 && c >= 2 && c <= 4) want = 2;
      if (r == 3 && c == 3) want = 1;  // the square's own centre patch too, but the circle is smaller
      if (r == 0 && c == 6) want = 3;
      EXPECT_EQ(t.classes[p], want) << "patch " << r << "," << c;
      if (want == 0) {
        EXPECT_EQ(box_of(t, p), (std::vector<int64_t>{-100, -100, -100, -100})) << p;
      }
    }
  EXPECT_EQ(box_of(t, 2 * 8 + 2), (std::vector<int64_t>{8, 8, 20, 20}));   // 16/2, 16/2, 40/2, 40/2
  EXPECT_EQ(box_of(t, 3 * 8 + 3), (std::vector<int64_t>{13, 13, 16, 16}));  // 26..32
  EXPECT_EQ(box_of(t, 6), (std::vector<int64_t>{26, 0, 27, 1}));            // 53..55, 1..3
}

TEST(DenseTargets, BoxesScaleWithTheImageSize) {
  // The same object in a 128 x 64 image spans half as many patch columns.
  auto t = tasks::dense_targets(scene(128, 64, {{"square", {32, 16, 48, 24}, 4, {}, {}}}), 8, 32, 5);
  int columns = 0;
  for (int c = 0; c < 8; ++c) columns += t.classes[3 * 8 + c] == 4;
  EXPECT_EQ(columns, 3);  // x 32..80 px holds the 16 px patches' centres 40, 56, 72
  EXPECT_EQ(box_of(t, 3 * 8 + 3), (std::vector<int64_t>{8, 8, 20, 20}));
}

TEST(DenseTargets, PatchesCarryTheirObjectsAttributesMultiHot) {
  // 16 px image, 2 x 2 patches of 8 px (centres 4, 12): a big square over all
  // four with attributes {0, 2}, a small circle over patch 3 with {1}.
  auto ex = scene(16, 16, {{"square", {0, 0, 16, 16}, 2, {}, {0, 2}}, {"circle", {9, 9, 6, 6}, 1, {}, {1}}});
  auto t = tasks::dense_targets(ex, 2, 8, 3, nullptr, 0, /*attributes=*/3);
  EXPECT_EQ(t.classes, (std::vector<int64_t>{2, 2, 2, 1}));
  EXPECT_EQ(t.attributes, (std::vector<float>{1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0}));
  EXPECT_TRUE(tasks::dense_targets(ex, 2, 8, 3).attributes.empty());  // attributes off
  try {
    tasks::dense_targets(ex, 2, 8, 3, nullptr, 0, /*attributes=*/2);  // id 2 does not fit
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("attribute id 2 of a square"), std::string::npos) << e.what();
  }
}

TEST(DenseTargets, AnEmptySceneIsAllBackground) {
  auto t = tasks::dense_targets(scene(64, 64, {}), 4, 8, 3);
  EXPECT_EQ(t.classes, std::vector<int64_t>(16, 0));
  EXPECT_EQ(t.boxes, std::vector<int64_t>(64, -100));
}

TEST(DenseTargets, BadCategoryOrUnknownSizeNamesTheExample) {
  auto bad = scene(64, 64, {{"blob", {1, 1, 5, 5}, 5, {}, {}}});
  try {
    tasks::dense_targets(bad, 8, 32, 5);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("coco_detection example 7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("category id 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tasks::dense_targets(scene(0, 64, {}), 8, 32, 5), Error);
}

namespace {

// A 4 x 4 image, -1 everywhere except red = +1 on the 2 x 2 block at x, y in {1, 2}.
std::vector<uint8_t> block_image() {
  std::vector<uint8_t> rgb(4 * 4 * 3, 0);
  for (int y = 1; y <= 2; ++y)
    for (int x = 1; x <= 2; ++x) rgb[(y * 4 + x) * 3] = 255;
  return rgb;
}

void expect_stats(const std::array<float, 6>& got, const std::array<float, 6>& want) {
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "stat " << i;
}

}  // namespace

TEST(ObjectPixelStats, PolygonThenBoxThenCentrePixel) {
  const auto rgb = block_image();
  // A band over row 1 (pixel centres y = 1.5): -1, +1, +1, -1 in red, -1 in green and blue.
  data::LabelledBox band{"band", {0, 1, 4, 1}, 1, {{0, 1, 4, 1, 4, 2, 0, 2}}, {}};
  expect_stats(tasks::object_pixel_stats(rgb, 4, band, 4, 4), {0, -1, -1, 1, 0, 0});
  // The same band given in an 8 x 8 original image: coordinates scale.
  data::LabelledBox big{"band", {0, 2, 8, 2}, 1, {{0, 2, 8, 2, 8, 4, 0, 4}}, {}};
  expect_stats(tasks::object_pixel_stats(rgb, 4, big, 8, 8), {0, -1, -1, 1, 0, 0});
  // A triangle whose outline holds only the centres (1.5, 1.5) and (2.5, 1.5) and (1.5, 2.5): all red.
  data::LabelledBox tri{"triangle", {1, 1, 2.4, 2.4}, 1, {{1, 1, 3.4, 1, 1, 3.4}}, {}};
  expect_stats(tasks::object_pixel_stats(rgb, 4, tri, 4, 4), {1, -1, -1, 0, 0, 0});
  // No polygon: the box's pixels (the same band).
  data::LabelledBox boxed{"band", {0, 1, 4, 1}, 1, {}, {}};
  expect_stats(tasks::object_pixel_stats(rgb, 4, boxed, 4, 4), {0, -1, -1, 1, 0, 0});
  // A box between pixel centres: the pixel under its centre (0, 0).
  data::LabelledBox speck{"speck", {0.6, 0.6, 0.3, 0.3}, 1, {}, {}};
  expect_stats(tasks::object_pixel_stats(rgb, 4, speck, 4, 4), {-1, -1, -1, 0, 0, 0});
  EXPECT_THROW(tasks::object_pixel_stats(std::vector<uint8_t>(5), 4, band, 4, 4), Error);
}

TEST(DenseTargets, PatchesCarryTheirObjectsPixelStatistics) {
  const auto rgb = block_image();
  // Grid 2 (patch centres at 1 and 3 px): the box (0.5..2.9 px) holds only the centre (1, 1).
  auto ex = scene(4, 4, {{"square", {0.5, 0.5, 2.4, 2.4}, 1, {{1, 1, 3, 1, 3, 3, 1, 3}}, {}}});
  auto t = tasks::dense_targets(ex, 2, 4, 2, &rgb, 4);
  ASSERT_EQ(t.pixels.size(), 24u);
  EXPECT_EQ(t.classes, (std::vector<int64_t>{1, 0, 0, 0}));  // its centre (1.7, 1.7) is patch 0 too
  EXPECT_EQ(std::vector<float>(t.pixels.begin(), t.pixels.begin() + 6), (std::vector<float>{1, -1, -1, 0, 0, 0}));
  EXPECT_EQ(std::vector<float>(t.pixels.begin() + 6, t.pixels.end()), std::vector<float>(18, 0.0f));
  EXPECT_TRUE(tasks::dense_targets(ex, 2, 4, 2).pixels.empty());  // no image, no pixel targets
}

// 64 px image, 4 x 4 patches of 16 px (centres at 8, 24, 40, 56).
TEST(BoxPatches, CentresInsideTheBoxPlusTheCentrePatch) {
  // x 20..50 holds centres 24 and 40; y 4..14 holds centre 8: patches (0,1), (0,2).
  EXPECT_EQ(tasks::box_patches({20, 4, 30, 10}, 64, 64, 4), (std::vector<int>{1, 2}));
  // A 9 px box between centres (x 26..35, y 42..51): no centre inside, so only
  // the patch under its own centre (30.5, 46.5), row 2, column 1.
  EXPECT_EQ(tasks::box_patches({26, 42, 9, 9}, 64, 64, 4), (std::vector<int>{9}));
  // x 0..24 holds centres 8 and 24 (edges count), y 20..30 holds 24: row 1, columns 0 and 1.
  EXPECT_EQ(tasks::box_patches({0, 20, 24, 10}, 64, 64, 4), (std::vector<int>{4, 5}));
  // A 128 x 64 image: the box scales with the image, not with the grid.
  EXPECT_EQ(tasks::box_patches({40, 4, 60, 10}, 128, 64, 4), (std::vector<int>{1, 2}));
  EXPECT_THROW(tasks::box_patches({1, 2, 3}, 64, 64, 4), Error);
}
