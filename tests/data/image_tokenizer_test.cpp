#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "data/image_cache.h"
#include "data/image_io.h"
#include "data/tokenizer.h"
#include "world/render.h"

#include <stb/stb_image_write.h>

using namespace smoes;
namespace fs = std::filesystem;

namespace {

std::string png_of(int w, int h) {
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = uint8_t(i * 7);
  return world::encode_png(rgb, w, h);
}

}  // namespace

TEST(ImageIO, DecodesWhatWasEncoded) {
  auto img = data::decode_image_bytes(png_of(5, 3), "mem.png");
  ASSERT_EQ(img.width, 5);
  ASSERT_EQ(img.height, 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) ASSERT_EQ(img.rgb[i], uint8_t(i * 7));
  auto small = data::resize(img, 2, 2);
  EXPECT_EQ(small.rgb.size(), 12u);
}

TEST(ImageIO, TransparencyIsCompositedOverWhite) {
  // 3 RGBA pixels: opaque red, fully transparent black, half-transparent blue.
  const std::vector<uint8_t> rgba = {255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 128};
  std::string png;
  auto sink = [](void* ctx, void* d, int n) { static_cast<std::string*>(ctx)->append((const char*)d, n); };
  ASSERT_TRUE(stbi_write_png_to_func(sink, &png, 3, 1, 4, rgba.data(), 12));
  auto img = data::decode_image_bytes(png, "rgba.png");
  // Half blue: (0*128 + 255*127 + 127) / 255 = 127; (255*128 + 255*127 + 127) / 255 = 255.
  const std::vector<uint8_t> want = {255, 0, 0, 255, 255, 255, 127, 127, 255};
  EXPECT_EQ(img.rgb, want);
}

TEST(ImageIO, TruncatedGarbageAndHugeImagesAreRejected) {
  auto png = png_of(16, 16);
  EXPECT_THROW(data::decode_image_bytes(png.substr(0, png.size() / 2), "cut.png"), Error);
  EXPECT_THROW(data::decode_image_bytes("this is not an image", "text.png"), Error);
  EXPECT_THROW(data::decode_image_bytes("", "empty.png"), Error);
  // A PNG header declaring 100000 x 100000 pixels: refused before decoding.
  std::string huge("\x89PNG\r\n\x1a\n", 8);
  huge += std::string("\x00\x00\x00\x0dIHDR", 8);
  huge += std::string("\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00", 13);
  huge += std::string("\x00\x00\x00\x00", 4);
  try {
    data::decode_image_bytes(huge, "huge.png");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("100000x100000"), std::string::npos) << e.what();
  }
  EXPECT_THROW(data::decode_image("/nonexistent/x.png"), Error);
}

TEST(Tokenizer, SpecialTokensAreSingleIdsAndTokenizeMasksTheTarget) {
  auto dir = fs::temp_directory_path() / "smoes_tok_test";
  fs::create_directories(dir);
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "a small red circle left of a large blue square number " + std::to_string(i) + "\nthere is a green triangle\n";
  write_file_atomic((dir / "corpus.txt").string(), text);
  auto prefix = (dir / "tok").string();
  data::Tokenizer::train({(dir / "corpus.txt").string()}, prefix, 120, 8);
  // Trained under a temp prefix and moved into place: nothing else is left.
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"corpus.txt", "tok.model", "tok.vocab"}));
  data::Tokenizer tok(prefix + ".model");
  EXPECT_EQ(tok.location_bins(), 8);
  EXPECT_EQ(tok.encode("<loc_3>").back(), tok.location_id(3));
  EXPECT_EQ(tok.decode(tok.encode("a red circle")), "a red circle");

  auto t = data::tokenize(tok, "<image>\nDescribe the image.", "a red circle", /*image_tokens=*/4, 64);
  ASSERT_EQ(t.ids.size(), t.modality.size());
  EXPECT_EQ(t.images, 1);
  EXPECT_EQ(t.ids.front(), tok.bos_id());
  EXPECT_EQ(t.ids.back(), tok.eos_id());
  int vision = 0, loss = 0;
  for (size_t i = 0; i < t.ids.size(); ++i) {
    vision += t.modality[i];
    loss += t.loss[i];
    if (t.modality[i]) {
      EXPECT_EQ(t.ids[i], tok.image_id());
    }
  }
  EXPECT_EQ(vision, 4);
  EXPECT_EQ(loss, int(tok.encode("a red circle").size()) + 1);  // target + eos
  EXPECT_THROW(data::Tokenizer("/nonexistent.model"), Error);
}

TEST(ImageCache, DecodesOnceAcrossInstancesAndNoticesChangedFiles) {
  auto dir = fs::temp_directory_path() / "smoes_image_cache_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto image = (dir / "a.png").string();
  write_file_atomic(image, png_of(8, 6));
  data::ImageCache first((dir / "cache").string(), 4);
  auto pixels = first.get(image);
  EXPECT_EQ(pixels.size(), 4u * 4u * 3u);
  EXPECT_EQ(pixels, data::resize(data::decode_image(image), 4, 4).rgb);
  first.get(image);
  EXPECT_EQ(first.decodes(), 1u);

  data::ImageCache second((dir / "cache").string(), 4);  // a later run: served from disk
  EXPECT_EQ(second.get(image), pixels);
  EXPECT_EQ(second.decodes(), 0u);

  write_file_atomic(image, png_of(9, 9));  // changed file: decoded again
  data::ImageCache third((dir / "cache").string(), 4);
  third.get(image);
  EXPECT_EQ(third.decodes(), 1u);
  EXPECT_THROW(third.get((dir / "missing.png").string()), Error);
}
