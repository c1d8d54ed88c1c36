#include "world/scene.h"

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

Scene sample_scene(Rng& rng, int size, const std::string& domain, const std::string& split_kind) {
  Scene s;
  s.width = s.height = size;
  s.domain = domain;
  s.background = rng.pick(Vocabulary::backgrounds());
  const int n = 1 + int(rng.below(6));
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

}  // namespace smoes::world
