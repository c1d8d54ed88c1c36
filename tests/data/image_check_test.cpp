// check_images: every image an example names is probed once (exists, header,
// size) without decoding; tolerant drops and counts, strict throws with all.
#include "data/image_check.h"

#include <gtest/gtest.h>

#include "loader_test_util.h"

using namespace loader_test;

namespace {

data::Example with_images(std::string id, std::vector<std::string> images) {
  data::Example ex;
  ex.task = "t";
  ex.id = std::move(id);
  ex.image_paths = std::move(images);
  return ex;
}

// A PNG signature and an IHDR declaring 100000 x 100000 pixels, nothing else.
std::string huge_png_header() {
  std::string b("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (int side = 0; side < 2; ++side) b += std::string("\x00\x01\x86\xa0", 4);
  return b + std::string(5, '\0');
}

}  // namespace

TEST(ImageCheck, DropsAndCountsMissingAndUnreadableImagesEachProbedOnce) {
  std::string dir = temp_dir("image_check");
  write_png(dir + "/ok.png");
  write_text(dir + "/text.png", "not an image at all");
  write_text(dir + "/huge.png", huge_png_header());
  std::vector<data::Example> examples = {
      with_images("a", {dir + "/ok.png"}),   with_images("b", {dir + "/ok.png", dir + "/gone.png"}),
      with_images("c", {dir + "/text.png"}), with_images("d", {dir + "/huge.png"}),
      with_images("e", {dir + "/gone.png"}), with_images("f", {}),  // text-only examples pass
  };
  auto strict_copy = examples;
  data::LoadReport report;
  auto check = data::check_images(examples, /*strict=*/false, &report);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].id, "a");
  EXPECT_EQ(examples[1].id, "f");
  EXPECT_EQ(check.images, 4u);  // ok, gone, text, huge: gone is probed once for b and e
  EXPECT_EQ(check.missing, 1u);
  EXPECT_EQ(check.bad, 2u);
  EXPECT_EQ(report.skipped, 4u);
  EXPECT_EQ(report.reasons["image file not found"], 2u);
  EXPECT_EQ(report.reasons["image not readable"], 2u);
  ASSERT_EQ(check.first_problems.size(), 4u);
  EXPECT_EQ(check.first_problems[0], "t b: " + dir + "/gone.png: image file not found");
  EXPECT_NE(check.first_problems[1].find("t c: " + dir + "/text.png: not a readable image"), std::string::npos)
      << check.first_problems[1];
  EXPECT_NE(check.first_problems[2].find("100000x100000 pixels; refusing sizes over 16384"), std::string::npos)
      << check.first_problems[2];

  std::string msg = error_of([&] { data::check_images(strict_copy, /*strict=*/true, nullptr); });
  EXPECT_NE(msg.find("4 example(s) refer to 1 missing and 2 unreadable image file(s):\n  t b: "), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("t e: " + dir + "/gone.png: image file not found"), std::string::npos) << msg;
}
