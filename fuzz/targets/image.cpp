// Fuzz target: image decoding (data/image_io.h) from memory and from a file
// (the header probe), then the resize every image goes through. stb_image is
// compiled into the target (fuzz/stb_impl.cpp) so its code is instrumented.
// Seeds: SMOES_FUZZ_WRITE_SEEDS=<dir> ./fuzz_image writes a small image in
// each format stb decodes (PNG grey/RGB/RGBA, JPEG, BMP, TGA, HDR, PNM, GIF)
// there and exits; the PNGs of tests/fixtures/openclipart are seeds too.
#include <stb/stb_image_write.h>

#include "data/image_io.h"
#include "fuzz_common.h"

using namespace smoes::data;

namespace {

void write_seeds(const std::string& dir) {
  const int w = 5, h = 3;
  std::vector<uint8_t> px(w * h * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 37 + 11);
  auto at = [&](const char* name) { return (dir + "/" + name); };
  stbi_write_png(at("grey.png").c_str(), w, h, 1, px.data(), w);
  stbi_write_png(at("rgb.png").c_str(), w, h, 3, px.data(), w * 3);
  stbi_write_png(at("rgba.png").c_str(), w, h, 4, px.data(), w * 4);
  stbi_write_jpg(at("rgb.jpg").c_str(), w, h, 3, px.data(), 90);
  stbi_write_jpg(at("grey.jpg").c_str(), w, h, 1, px.data(), 50);
  stbi_write_bmp(at("rgb.bmp").c_str(), w, h, 3, px.data());
  stbi_write_tga(at("rgba.tga").c_str(), w, h, 4, px.data());
  std::vector<float> hdr(w * h * 3, 0.5f);
  stbi_write_hdr(at("rgb.hdr").c_str(), w, h, 3, hdr.data());
  fuzz::write(at("rgb.ppm"),
              std::string("P6\n5 3\n255\n") + std::string(reinterpret_cast<char*>(px.data()), w * h * 3));
  // A 1x1 GIF87a: header, screen, 2-colour table, image descriptor, LZW data.
  static const unsigned char gif[] = {'G', 'I', 'F', '8', '7', 'a', 1, 0, 1, 0, 0x80, 0, 0, 255,  0,    0, 0,  0,
                                      255, ',', 0,   0,   0,   0,   1, 0, 1, 0, 0,    2, 2, 0x44, 0x01, 0, ';'};
  fuzz::write(at("red.gif"), std::string(reinterpret_cast<const char*>(gif), sizeof gif));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SMOES_FUZZ_WRITE_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string file = fuzz::write_input("image/input.img", bytes);
  std::pair<int, int> probed{-1, -1};
  bool probe_ok = false;
  fuzz::guard("probe_image", [&] {
    probed = probe_image(file);
    probe_ok = true;
  });
  fuzz::guard("decode_image_bytes", [&] {
    Image img = decode_image_bytes(bytes, file);
    if (img.width <= 0 || img.height <= 0 || img.width > kMaxImageSide || img.height > kMaxImageSide ||
        img.rgb.size() != size_t(img.width) * img.height * 3)
      fuzz::finding("decode_image_bytes returned a bad image " + std::to_string(img.width) + "x" +
                    std::to_string(img.height) + " with " + std::to_string(img.rgb.size()) + " bytes");
    if (!probe_ok || probed != std::make_pair(img.width, img.height))
      fuzz::finding("probe_image and decode_image_bytes disagree on the size");
    Image small = resize(img, 16, 16);
    if (small.rgb.size() != 16 * 16 * 3) fuzz::finding("resize returned the wrong size");
  });
  return 0;
}
