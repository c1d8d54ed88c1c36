#include "world/scene.h"

#include <algorithm>
#include <cmath>

namespace smoes::world {

const std::vector<std::string>& Vocabulary::shapes() {
  static const std::vector<std::string> v = {"circle", "square", "triangle", "diamond"};
  return v;
}
const std::vector<std::string>& Vocabulary::colours() {
  static const std::vector<std::string> v = {"red", "green", "blue", "yellow", "purple", "orange", "white", "black"};
  return v;
}
const std::vector<std::string>& Vocabulary::materials() {
  static const std::vector<std::string> v = {"rubber", "metal", "wood", "glass"};
  return v;
}
const std::vector<std::string>& Vocabulary::backgrounds() {
  static const std::vector<std::string> v = {"grey", "sand", "sky", "grass"};
  return v;
}

bool is_held_out(const std::string& shape, const std::string& colour) {
  return (shape == "triangle" && colour == "blue") || (shape == "circle" && colour == "yellow");
}

namespace {

Object sample_object(Rng& rng, int size, bool allow_held_out) {
  Object o;
  do {
    o.shape = rng.pick(Vocabulary::shapes());
    o.colour = rng.pick(Vocabulary::colours());
  } while (!allow_held_out && is_held_out(o.shape, o.colour));
  o.material = rng.pick(Vocabulary::materials());
  const bool large = rng.chance(0.5);
  o.size = large ? "large" : "small";
  o.radius = size * (large ? rng.uniform(0.15, 0.2) : rng.uniform(0.07, 0.1));
  o.cx = rng.uniform(o.radius, size - o.radius);
  o.cy = rng.uniform(o.radius, size - o.radius);
  return o;
}

bool overlaps_too_much(const Object& o, const std::vector<Object>& placed) {
  for (const auto& p : placed)
    if (std::hypot(o.cx - p.cx, o.cy - p.cy) < 0.8 * (o.radius + p.radius)) return true;  // partial occlusion only
  return false;
}

}  // namespace

Scene sample_scene(Rng& rng, int size, const std::string& domain, const std::string& split_kind, int max_objects) {
  Scene s;
  s.width = s.height = size;
  s.domain = domain;
  s.background = rng.pick(Vocabulary::backgrounds());
  const int n = 1 + int(rng.below(uint64_t(max_objects)));
  for (int tries = 0; int(s.objects.size()) < n && tries < 200; ++tries) {
    Object o = sample_object(rng, size, split_kind != "train");
    if (!overlaps_too_much(o, s.objects)) s.objects.push_back(o);
  }
  if (split_kind == "heldout") {
    bool any = false;
    for (const auto& o : s.objects) any = any || is_held_out(o.shape, o.colour);
    if (!any) {  // make the first object a held-out combination
      s.objects[0].shape = rng.chance(0.5) ? "triangle" : "circle";
      s.objects[0].colour = s.objects[0].shape == "triangle" ? "blue" : "yellow";
    }
  }
  return s;
}

std::string relation(const Object& a, const Object& b) {
  const double dx = a.cx - b.cx, dy = a.cy - b.cy;
  if (std::abs(dx) >= std::abs(dy)) return dx < 0 ? "left of" : "right of";
  return dy < 0 ? "above" : "below";
}

std::vector<double> outline(const Scene& s, const Object& o) {
  const double r = o.radius;
  std::vector<std::pair<double, double>> pts;  // offsets from the centre, as the renderer's distance functions
  if (o.shape == "circle") {
    for (int i = 0; i < 16; ++i) pts.push_back({r * std::cos(i * M_PI / 8), r * std::sin(i * M_PI / 8)});
  } else if (o.shape == "square") {
    pts = {{-0.85 * r, -0.85 * r}, {0.85 * r, -0.85 * r}, {0.85 * r, 0.85 * r}, {-0.85 * r, 0.85 * r}};
  } else if (o.shape == "diamond") {
    const double d = 0.75 * std::sqrt(2.0) * r;
    pts = {{0, -d}, {d, 0}, {0, d}, {-d, 0}};
  } else {  // upward triangle: apex at -r, base at +r/2
    const double h = 1.5 * r / std::sqrt(3.0);
    pts = {{0, -r}, {h, 0.5 * r}, {-h, 0.5 * r}};
  }
  std::vector<double> poly;
  for (auto [dx, dy] : pts) {
    // Two decimals, as COCO's files.
    poly.push_back(std::round(std::clamp(o.cx + dx, 0.0, double(s.width)) * 100) / 100);
    poly.push_back(std::round(std::clamp(o.cy + dy, 0.0, double(s.height)) * 100) / 100);
  }
  return poly;
}

std::vector<double> bbox(const Scene& s, const Object& o) {
  auto poly = outline(s, o);
  double x0 = poly[0], x1 = poly[0], y0 = poly[1], y1 = poly[1];
  for (size_t i = 0; i < poly.size(); i += 2) {
    x0 = std::min(x0, poly[i]), x1 = std::max(x1, poly[i]);
    y0 = std::min(y0, poly[i + 1]), y1 = std::max(y1, poly[i + 1]);
  }
  return {x0, y0, std::round((x1 - x0) * 100) / 100, std::round((y1 - y0) * 100) / 100};
}

double area(const Scene& s, const Object& o) {
  auto p = outline(s, o);
  const size_t n = p.size() / 2;
  double twice = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t j = (i + 1) % n;
    twice += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1];
  }
  return std::round(std::abs(twice) / 2 * 100) / 100;
}

}  // namespace smoes::world
