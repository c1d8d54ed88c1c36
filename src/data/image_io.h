// Image decoding for untrusted files: PNG/JPEG via stb, dimensions checked
// with stbi_info before any pixel is decoded, transparency composited over
// white, then resized (stb_image_resize)
// to the model's square input.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace smoes::data {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes per pixel
};

// Limits on what an image header may declare, checked before anything is
// allocated for the pixels: a side over kMaxImageSide or more than
// kMaxImagePixels in all (32 Mpx: decoding allocates ~10 bytes per pixel).
constexpr int kMaxImageSide = 16384;
constexpr int64_t kMaxImagePixels = int64_t(1) << 25;

// Throws smoes::Error naming the file for unreadable, truncated, non-image,
// zero-sized or absurdly large (> kMaxImageSide per side, > kMaxImagePixels)
// files. Only PNG and JPEG are read; a PNG declaring more rows than its bytes
// can hold (deflate expands at most 1032x) or a chunk longer than the rest
// of the file, and a JPEG Huffman table of more than 256 codes (stb_image
// 2.27 overruns its tables on those) are refused before stb decodes anything.
Image decode_image(const std::string& path);
// The same checks from the file's header alone, without decoding a pixel:
// the declared size. Throws like decode_image.
std::pair<int, int> probe_image(const std::string& path);
Image decode_image_bytes(const std::string& bytes, const std::string& name);
Image resize(const Image& img, int width, int height);

}  // namespace smoes::data
