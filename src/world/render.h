// Draws a scene into RGB pixels: anti-aliased shapes (4x4 supersampling),
// painter's-order occlusion, and two visual domains:
//   photo    textured gradient background, shading, material highlights, noise
//   clipart  flat palette colours with dark outlines
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "world/rng.h"
#include "world/scene.h"

namespace smoes::world {

std::vector<uint8_t> render(const Scene& scene, Rng& rng);  // width * height * 3, row-major RGB

// Base RGB of a named colour in a domain (exposed for tests).
std::vector<double> colour_rgb(const std::string& colour, const std::string& domain);

// PNG bytes (stb_image_write, zlib level fixed, so output is byte-stable).
std::string encode_png(const std::vector<uint8_t>& rgb, int width, int height);

}  // namespace smoes::world
