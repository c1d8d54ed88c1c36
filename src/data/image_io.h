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

constexpr int kMaxImageSide = 16384;

// Throws smoes::Error naming the file for unreadable, truncated, non-image,
// zero-sized or absurdly large (> kMaxImageSide per side) files.
Image decode_image(const std::string& path);
// The same checks from the file's header alone, without decoding a pixel:
// the declared size. Throws like decode_image.
std::pair<int, int> probe_image(const std::string& path);
Image decode_image_bytes(const std::string& bytes, const std::string& name);
Image resize(const Image& img, int width, int height);

}  // namespace smoes::data
