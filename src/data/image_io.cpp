#include "data/image_io.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>

#include "core/error.h"
#include "core/files.h"

namespace smoes::data {
namespace {

// Reads `n` bytes at `offset` of the image; fewer at its end.
using ReadAt = std::function<std::string(size_t offset, size_t n)>;

void check_size(int64_t w, int64_t h, const std::string& name) {
  if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide)
    throw Error(name + ": image declares " + std::to_string(w) + "x" + std::to_string(h) +
                " pixels; refusing sizes over " + std::to_string(kMaxImageSide) + " per side");
  if (w * h > kMaxImagePixels)
    throw Error(name + ": image declares " + std::to_string(w) + "x" + std::to_string(h) + " = " +
                std::to_string(w * h) + " pixels; refusing images over " + std::to_string(kMaxImagePixels) +
                " pixels (downscale it first)");
}

const std::string kPngSignature("\x89PNG\r\n\x1a\n", 8);

enum class Format { kPng, kJpeg };

// PNG or JPEG from the first bytes; stb's other decoders (GIF, BMP, PSD, TGA,
// HDR, PIC, PNM) are never reached, as no dataset ships those.
Format sniff(const std::string& head, const std::string& name) {
  if (head.compare(0, 8, kPngSignature) == 0) return Format::kPng;
  if (head.size() >= 3 && uint8_t(head[0]) == 0xff && uint8_t(head[1]) == 0xd8 && uint8_t(head[2]) == 0xff)
    return Format::kJpeg;
  throw Error(name + ": not a readable image (neither a PNG nor a JPEG file)");
}

uint32_t be(const std::string& b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | uint8_t(at + i < b.size() ? b[at + i] : 0);
  return v;
}

// The IHDR's size (bytes 16..23, big-endian), before stb allocates for it.
// A PNG's pixels are deflate-compressed, which expands data at most 1032
// times: a file too short to hold the rows it declares is refused before
// anything is allocated for them (file_size 0 = unknown).
void check_png_header(const std::string& head, size_t file_size, const std::string& name) {
  if (head.size() < 24) return;  // stb reports the truncation
  const int64_t w = be(head, 16, 4), h = be(head, 20, 4);
  check_size(w, h, name);
  // Bits per pixel from the bit depth and colour type (grey, RGB, palette, grey + alpha, RGBA).
  const int64_t depth = std::max<int64_t>(be(head, 24, 1), 1);
  const int type = int(be(head, 25, 1));
  const int64_t channels = type == 2 ? 3 : type == 4 ? 2 : type == 6 ? 4 : 1;
  const int64_t row_bytes = (w * channels * depth + 7) / 8 + 1;  // and a filter byte
  if (file_size > 0 && h * row_bytes > int64_t(file_size) * 1032 + 4096)
    throw Error(name + ": PNG declares " + std::to_string(w) + "x" + std::to_string(h) + " pixels, more than its " +
                std::to_string(file_size) + " bytes can hold (deflate expands at most 1032x); truncated or hostile");
}

// Every chunk's declared length must fit in the file: stb_image grows its
// IDAT buffer to the declared length before reading the data, so a 100-byte
// file declaring a 2 GB chunk would allocate 2 GB first and fail after.
void check_png_chunks(const ReadAt& read, size_t file_size, const std::string& name) {
  for (size_t pos = 8; pos + 8 <= file_size;) {
    const std::string head = read(pos, 8);
    if (head.size() < 8) return;
    const uint64_t length = be(head, 0, 4);
    const std::string type = head.substr(4, 4);
    if (length > file_size - pos - 8) {
      bool letters = std::all_of(type.begin(), type.end(), [](char c) { return std::isalpha(uint8_t(c)) != 0; });
      throw Error(name + ": PNG chunk " + (letters ? "'" + type + "'" : "of unknown type") + " at byte " +
                  std::to_string(pos) + " declares " + std::to_string(length) + " bytes, only " +
                  std::to_string(file_size - pos - 8) + " left in the file; truncated or hostile");
    }
    if (type == "IEND") return;
    pos += 12 + length;  // length, type, data, CRC
  }
}

// stb_image 2.27 (Debian 12's libstb) writes past its Huffman tables when a
// JPEG's DHT segment declares more than 256 codes (fixed upstream in 2.28).
// Such files are refused here: every DHT segment stb could read is walked
// the way stb reads it (markers, segments, entropy-coded data up to the next
// marker). `whole` = false stops at the first SOF, as stbi_info does.
void check_jpeg_tables(const ReadAt& read, const std::string& name, bool whole) {
  const std::string bad = name + ": corrupt JPEG: a Huffman table (DHT) declares more than 256 codes";
  size_t pos = 2;  // after SOI
  std::string buf;
  size_t buf_at = 0;
  auto byte = [&](size_t at) -> int {  // -1 past the end
    if (at < buf_at || at >= buf_at + buf.size()) {
      buf_at = at;
      buf = read(at, 1 << 16);
      if (buf.empty()) return -1;
    }
    return uint8_t(buf[at - buf_at]);
  };
  for (;;) {  // each turn moves past at least one byte
    // The next marker: stb skips anything up to a 0xff, then the 0xff fill bytes.
    int c = byte(pos);
    while (c >= 0 && c != 0xff) c = byte(++pos);
    while (c == 0xff) c = byte(++pos);
    if (c < 0) return;
    const int marker = c;
    ++pos;
    if (marker == 0xd9) return;  // EOI
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;  // no length
    if (!whole && marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) return;
    const int hi = byte(pos), lo = byte(pos + 1);
    if (hi < 0 || lo < 0) return;
    const int64_t length = (hi << 8) | lo;
    if (marker == 0xc4) {  // DHT: tables of (class/id, 16 counts, codes), as stb reads them
      int64_t left = length - 2;
      size_t at = pos + 2;
      while (left > 0) {
        int codes = 0;
        for (int i = 0; i < 16; ++i) codes += std::max(byte(at + 1 + i), 0);
        if (codes > 256) throw Error(bad);
        at += 17 + codes;
        left -= 17 + codes;
      }
      if (left != 0) return;  // stb stops at an inconsistent segment
    }
    pos += length;
    if (marker == 0xda) {  // SOS: entropy-coded data until a marker (0xff, then neither 0x00 nor RSTn)
      for (c = byte(pos);; c = byte(++pos)) {
        if (c < 0) return;
        if (c != 0xff) continue;
        int next = byte(pos + 1);
        if (next < 0) return;
        if (next != 0x00 && !(next >= 0xd0 && next <= 0xd7)) break;
      }
    }
  }
}

}  // namespace

Image decode_image_bytes(const std::string& bytes, const std::string& name) {
  if (bytes.size() > size_t(1) << 30) throw Error(name + ": file over 1 GiB, not decoding");
  const Format format = sniff(bytes.substr(0, 8), name);
  const ReadAt read = [&](size_t at, size_t n) { return at < bytes.size() ? bytes.substr(at, n) : std::string(); };
  if (format == Format::kPng) {
    check_png_header(bytes.substr(0, 26), bytes.size(), name);
    check_png_chunks(read, bytes.size(), name);
  }
  if (format == Format::kJpeg) check_jpeg_tables(read, name, /*whole=*/true);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, int(bytes.size()), &w, &h, &channels))
    throw Error(name + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
  check_size(w, h, name);
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
  auto read_at = [&](size_t at, size_t n) {
    std::string out(n, '\0');
    if (std::fseek(f.get(), long(at), SEEK_SET) != 0) return std::string();
    out.resize(std::fread(out.data(), 1, n, f.get()));
    return out;
  };
  std::fseek(f.get(), 0, SEEK_END);
  const long size = std::ftell(f.get());
  const std::string head = read_at(0, 26);
  const Format format = sniff(head, path);
  if (format == Format::kPng) {
    check_png_header(head, size > 0 ? size_t(size) : 0, path);
    check_png_chunks(read_at, size > 0 ? size_t(size) : 0, path);
  }
  if (format == Format::kJpeg) check_jpeg_tables(read_at, path, /*whole=*/false);
  std::rewind(f.get());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_file(f.get(), &w, &h, &channels))
    throw Error(path + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
  check_size(w, h, path);
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
