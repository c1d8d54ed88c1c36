// Scenes of the embedded world: 1-6 objects with shape, colour, size and
// material at a position, and the spatial relations between them.
#pragma once
#include <string>
#include <vector>

#include "world/rng.h"

namespace smoes::world {

struct Object {
  std::string shape, colour, size, material;
  double cx = 0, cy = 0, radius = 0;  // pixels
};

struct Scene {
  int width = 64, height = 64;
  std::string domain;  // "photo" or "clipart"
  std::string background;
  std::vector<Object> objects;  // drawn in order: later objects occlude earlier ones
};

struct Vocabulary {
  static const std::vector<std::string>& shapes();     // circle, square, triangle, diamond
  static const std::vector<std::string>& colours();
  static const std::vector<std::string>& materials();  // rubber, metal, wood, glass
  static const std::vector<std::string>& backgrounds();
};

// Held out of training splits (CLEVR-CoGenT style): these shape/colour pairs
// appear only in the held-out split.
bool is_held_out(const std::string& shape, const std::string& colour);

// split_kind: "train" never draws held-out combinations; "heldout" draws at
// least one; anything else draws freely. 1..max_objects objects, uniformly.
Scene sample_scene(Rng& rng, int size, const std::string& domain, const std::string& split_kind, int max_objects);

// "left of", "right of", "above", "below": where a is relative to b.
std::string relation(const Object& a, const Object& b);

// The drawn outline of an object as a polygon [x0, y0, x1, y1, ...] clipped to
// the image (the renderer's exact shape; a circle as a 16-gon), its tight
// bounding box [x, y, w, h] and its area in pixels (COCO conventions).
std::vector<double> outline(const Scene& scene, const Object& o);
std::vector<double> bbox(const Scene& scene, const Object& o);
double area(const Scene& scene, const Object& o);

}  // namespace smoes::world
