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
  auto ex = scene(64, 64, {{"square", {16, 16, 24, 24}, 2},   // centres 20, 28, 36 inside: 3 x 3 patches
                           {"circle", {26, 26, 6, 6}, 1},     // inside the square; only centre 28 inside
                           {"diamond", {53, 1, 2, 2}, 3}});   // no patch centre inside; its own centre (54, 2)
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
      if (want == 0) EXPECT_EQ(box_of(t, p), (std::vector<int64_t>{-100, -100, -100, -100})) << p;
    }
  EXPECT_EQ(box_of(t, 2 * 8 + 2), (std::vector<int64_t>{8, 8, 20, 20}));   // 16/2, 16/2, 40/2, 40/2
  EXPECT_EQ(box_of(t, 3 * 8 + 3), (std::vector<int64_t>{13, 13, 16, 16}));  // 26..32
  EXPECT_EQ(box_of(t, 6), (std::vector<int64_t>{26, 0, 27, 1}));            // 53..55, 1..3
}

TEST(DenseTargets, BoxesScaleWithTheImageSize) {
  // The same object in a 128 x 64 image spans half as many patch columns.
  auto t = tasks::dense_targets(scene(128, 64, {{"square", {32, 16, 48, 24}, 4}}), 8, 32, 5);
  int columns = 0;
  for (int c = 0; c < 8; ++c) columns += t.classes[3 * 8 + c] == 4;
  EXPECT_EQ(columns, 3);  // x 32..80 px holds the 16 px patches' centres 40, 56, 72
  EXPECT_EQ(box_of(t, 3 * 8 + 3), (std::vector<int64_t>{8, 8, 20, 20}));
}

TEST(DenseTargets, AnEmptySceneIsAllBackground) {
  auto t = tasks::dense_targets(scene(64, 64, {}), 4, 8, 3);
  EXPECT_EQ(t.classes, std::vector<int64_t>(16, 0));
  EXPECT_EQ(t.boxes, std::vector<int64_t>(64, -100));
}

TEST(DenseTargets, BadCategoryOrUnknownSizeNamesTheExample) {
  auto bad = scene(64, 64, {{"blob", {1, 1, 5, 5}, 5}});
  try {
    tasks::dense_targets(bad, 8, 32, 5);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("coco_detection example 7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("category id 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tasks::dense_targets(scene(0, 64, {}), 8, 32, 5), Error);
}
