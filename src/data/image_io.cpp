#include "data/image_io.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/files.h"

namespace smoes::data {
namespace {

void check_side_lengths(int w, int h, const std::string& name) {
  if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide)
    throw Error(name + ": image declares " + std::to_string(w) + "x" + std::to_string(h) +
                " pixels; refusing sizes over " + std::to_string(kMaxImageSide) + " per side");
}

// stbi_info rejects huge PNGs but its reason is lost behind the other formats' probes,
// so PNG sizes are read from the IHDR chunk directly (bytes 16..23, big-endian).
void check_png_header(const std::string& bytes, const std::string& name) {
  static const std::string signature("\x89PNG\r\n\x1a\n", 8);
  if (bytes.size() < 24 || bytes.compare(0, 8, signature) != 0) return;
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | uint8_t(bytes[at + i]);
    return int64_t(v);
  };
  int64_t w = be32(16), h = be32(20);
  check_side_lengths(int(std::min<int64_t>(w, INT32_MAX)), int(std::min<int64_t>(h, INT32_MAX)), name);
}

}  // namespace

Image decode_image_bytes(const std::string& bytes, const std::string& name) {
  if (bytes.size() > size_t(1) << 30) throw Error(name + ": file over 1 GiB, not decoding");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  check_png_header(bytes, name);
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, int(bytes.size()), &w, &h, &channels))
    throw Error(name + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
  check_side_lengths(w, h, name);
  // Transparent pixels (clip art, icons) are composited over white; without
  // that their hidden RGB, often black, would show.
  const bool alpha = channels == 2 || channels == 4;
  const int want = alpha ? 4 : 3;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, int(bytes.size()), &w, &h, &channels, want), stbi_image_free);
  if (!pixels) throw Error(name + ": cannot decode image (" + std::string(stbi_failure_reason()) + ")");
  Image img;
  img.width = w;
  img.height = h;
  const size_t n = size_t(w) * h;
  if (!alpha) {
    img.rgb.assign(pixels.get(), pixels.get() + n * 3);
    return img;
  }
  img.rgb.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    const int a = pixels.get()[i * 4 + 3];
    for (int c = 0; c < 3; ++c) img.rgb[i * 3 + c] = uint8_t((pixels.get()[i * 4 + c] * a + 255 * (255 - a) + 127) / 255);
  }
  return img;
}

Image decode_image(const std::string& path) { return decode_image_bytes(read_file(path), path); }

std::pair<int, int> probe_image(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::string head(24, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), f.get()));
  check_png_header(head, path);
  std::rewind(f.get());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_file(f.get(), &w, &h, &channels))
    throw Error(path + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
  check_side_lengths(w, h, path);
  return {w, h};
}

Image resize(const Image& img, int width, int height) {
  if (img.width == width && img.height == height) return img;
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.resize(size_t(width) * height * 3);
  if (!stbir_resize_uint8(img.rgb.data(), img.width, img.height, 0, out.rgb.data(), width, height, 0, 3))
    throw Error("image resize failed");
  return out;
}

}  // namespace smoes::data
