#include "world/render.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"

namespace smoes::world {

std::vector<double> colour_rgb(const std::string& colour, const std::string& domain) {
  static const std::map<std::string, std::vector<double>> photo = {
      {"red", {200, 40, 35}},     {"green", {50, 160, 60}},  {"blue", {40, 70, 200}},   {"yellow", {225, 205, 40}},
      {"purple", {130, 50, 170}}, {"orange", {235, 130, 30}}, {"white", {235, 235, 235}}, {"black", {25, 25, 25}}};
  // Clip-art palette: saturated, shifted hues (another visual domain, same names).
  static const std::map<std::string, std::vector<double>> clipart = {
      {"red", {255, 0, 60}},      {"green", {0, 210, 110}},  {"blue", {0, 120, 255}},   {"yellow", {255, 240, 0}},
      {"purple", {170, 0, 255}},  {"orange", {255, 150, 0}}, {"white", {255, 255, 255}}, {"black", {0, 0, 0}}};
  const auto& table = domain == "clipart" ? clipart : photo;
  auto it = table.find(colour);
  if (it == table.end()) throw Error("world: unknown colour '" + colour + "'");
  return it->second;
}

namespace {

std::vector<double> background_rgb(const std::string& name) {
  static const std::map<std::string, std::vector<double>> table = {
      {"grey", {128, 128, 128}}, {"sand", {194, 178, 128}}, {"sky", {150, 190, 225}}, {"grass", {110, 150, 90}}};
  return table.at(name);
}

// Signed distance (negative inside) of point (x, y) to the object's outline.
double distance(const Object& o, double x, double y) {
  const double dx = x - o.cx, dy = y - o.cy, r = o.radius;
  if (o.shape == "circle") return std::hypot(dx, dy) - r;
  if (o.shape == "square") return std::max(std::abs(dx), std::abs(dy)) - 0.85 * r;
  if (o.shape == "diamond") return (std::abs(dx) + std::abs(dy)) / std::sqrt(2.0) - 0.75 * r;
  // Upward triangle: intersection of three half-planes.
  const double k = std::sqrt(3.0);
  double d1 = dy - 0.5 * r;                        // base
  double d2 = (k * dx - dy - r) / 2.0;             // right edge
  double d3 = (-k * dx - dy - r) / 2.0;            // left edge
  return std::max({d1, d2, d3});
}

}  // namespace

std::vector<uint8_t> render(const Scene& s, Rng& rng) {
  const int w = s.width, h = s.height;
  const bool photo = s.domain == "photo";
  std::vector<double> img(size_t(w) * h * 3);
  auto bg = background_rgb(s.background);
  if (!photo) bg = {245, 245, 240};  // clip-art: plain paper background
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        double v = bg[c];
        if (photo) v *= 0.8 + 0.4 * (1.0 - double(y) / h);  // lit from above
        img[(size_t(y) * w + x) * 3 + c] = v;
      }
  constexpr int ss = 4;  // 4x4 supersampling for anti-aliasing
  for (const auto& o : s.objects) {
    auto base = colour_rgb(o.colour, s.domain);
    const int x0 = std::max(0, int(o.cx - o.radius) - 2), x1 = std::min(w - 1, int(o.cx + o.radius) + 2);
    const int y0 = std::max(0, int(o.cy - o.radius) - 2), y1 = std::min(h - 1, int(o.cy + o.radius) + 2);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        int inside = 0, edge = 0;
        for (int sy = 0; sy < ss; ++sy)
          for (int sx = 0; sx < ss; ++sx) {
            double d = distance(o, x + (sx + 0.5) / ss, y + (sy + 0.5) / ss);
            inside += d <= 0;
            edge += d <= 0 && d > -1.0;  // the outermost pixel of the shape
          }
        if (inside == 0) continue;
        const double cover = double(inside) / (ss * ss);
        double shade = 1.0;
        if (photo) {  // diffuse shading toward the lower right, highlights for shiny materials
          double nx = (x - o.cx) / o.radius, ny = (y - o.cy) / o.radius;
          shade = 1.05 - 0.25 * (nx + ny) / 2.0;
          if ((o.material == "metal" || o.material == "glass") && std::hypot(nx + 0.35, ny + 0.35) < 0.25) shade = 1.5;
          if (o.material == "wood" && (int(std::floor((y - o.cy) * 0.8)) & 1)) shade *= 0.85;
        }
        const bool outline = !photo && edge * 2 > inside;
        for (int c = 0; c < 3; ++c) {
          double v = outline ? 20.0 : base[c] * shade;
          if (photo && o.material == "glass") v = 0.6 * v + 0.4 * img[(size_t(y) * w + x) * 3 + c];
          double& px = img[(size_t(y) * w + x) * 3 + c];
          px = cover * v + (1 - cover) * px;
        }
      }
  }
  std::vector<uint8_t> out(img.size());
  for (size_t i = 0; i < img.size(); ++i) {
    double v = img[i] + (photo ? rng.uniform(-12, 12) : 0.0);  // sensor noise
    out[i] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
  }
  return out;
}

std::string encode_png(const std::vector<uint8_t>& rgb, int width, int height) {
  std::string bytes;
  auto sink = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append((const char*)data, size); };
  if (!stbi_write_png_to_func(sink, &bytes, width, height, 3, rgb.data(), width * 3))
    throw Error("world: PNG encoding failed");
  return bytes;
}

}  // namespace smoes::world
