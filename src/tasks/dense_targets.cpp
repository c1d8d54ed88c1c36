#include "tasks/dense_targets.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "tasks/tasks.h"

namespace smoes::tasks {

namespace {

// Even-odd rule: a ray to the right crosses the outline an odd number of times.
bool inside_polygon(const std::vector<double>& poly, double x, double y) {
  bool inside = false;
  const size_t n = poly.size() / 2;
  for (size_t i = 0, j = n - 1; i < n; j = i++) {
    const double xi = poly[2 * i], yi = poly[2 * i + 1], xj = poly[2 * j], yj = poly[2 * j + 1];
    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Patches whose centre lies inside the box (edges included).
std::vector<int> patches_centred_in(const std::vector<double>& b, int width, int height, int grid) {
  const double sx = double(grid) / width, sy = double(grid) / height;  // pixels -> patches
  std::vector<int> out;
  for (int r = 0; r < grid; ++r)
    for (int c = 0; c < grid; ++c) {
      const double x = c + 0.5, y = r + 0.5;  // patch centre, in patches
      if (x >= b[0] * sx && x <= (b[0] + b[2]) * sx && y >= b[1] * sy && y <= (b[1] + b[3]) * sy)
        out.push_back(r * grid + c);
    }
  return out;
}

int centre_patch(const std::vector<double>& b, int width, int height, int grid) {
  const double sx = double(grid) / width, sy = double(grid) / height;
  const int c = std::clamp(int((b[0] + b[2] / 2) * sx), 0, grid - 1);
  const int r = std::clamp(int((b[1] + b[3] / 2) * sy), 0, grid - 1);
  return r * grid + c;
}

}  // namespace

std::vector<int> box_patches(const std::vector<double>& box, int width, int height, int grid) {
  if (box.size() != 4 || width <= 0 || height <= 0 || grid <= 0)
    throw Error("box_patches: need a box [x, y, w, h], an image size and a grid");
  // A box that holds any patch centre holds the one nearest its own centre,
  // so the centre patch only adds itself to a box that holds none.
  auto out = patches_centred_in(box, width, height, grid);
  if (out.empty()) out.push_back(centre_patch(box, width, height, grid));
  return out;
}

std::array<float, 6> object_pixel_stats(const std::vector<uint8_t>& rgb, int side, const data::LabelledBox& o,
                                        int width, int height) {
  if (rgb.size() != size_t(side) * side * 3)
    throw Error("dense targets: image is not " + std::to_string(side) + "x" + std::to_string(side) + " RGB");
  const double sx = double(width) / side, sy = double(height) / side;  // resized pixel -> original
  const auto& b = o.box;
  auto in_box = [&](double x, double y) { return x >= b[0] && x <= b[0] + b[2] && y >= b[1] && y <= b[1] + b[3]; };
  auto in_outline = [&](double x, double y) {
    for (const auto& poly : o.polygons)
      if (inside_polygon(poly, x, y)) return true;
    return false;
  };
  // Only pixels whose centres can lie in the box (COCO polygons lie inside their box).
  auto first = [&](double lo, double s) { return std::clamp(int(std::floor(lo / s - 0.5)), 0, side - 1); };
  auto last = [&](double hi, double s) { return std::clamp(int(std::ceil(hi / s - 0.5)), 0, side - 1); };
  const int x0 = first(b[0], sx), x1 = last(b[0] + b[2], sx), y0 = first(b[1], sy), y1 = last(b[1] + b[3], sy);
  std::vector<size_t> pixels;
  auto collect = [&](auto&& inside) {
    for (int py = y0; py <= y1; ++py)
      for (int px = x0; px <= x1; ++px)
        if (inside((px + 0.5) * sx, (py + 0.5) * sy)) pixels.push_back(size_t(py) * side + px);
  };
  if (!o.polygons.empty()) collect(in_outline);
  if (pixels.empty()) collect(in_box);
  if (pixels.empty()) {
    const int px = std::clamp(int((b[0] + b[2] / 2) / sx), 0, side - 1),
              py = std::clamp(int((b[1] + b[3] / 2) / sy), 0, side - 1);
    pixels.push_back(size_t(py) * side + px);
  }
  std::array<float, 6> stats{};
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (size_t p : pixels) {
      const double v = rgb[p * 3 + c] / 127.5 - 1.0;
      sum += v;
      sq += v * v;
    }
    const double mean = sum / pixels.size();
    stats[c] = float(mean);
    stats[3 + c] = float(std::sqrt(std::max(sq / pixels.size() - mean * mean, 0.0)));
  }
  return stats;
}

DenseTargets dense_targets(const data::Example& ex, int grid, int bins, int classes, const std::vector<uint8_t>* rgb,
                           int side, int attributes) {
  const std::string where = ex.task + " example " + ex.id;
  if (ex.image_width <= 0 || ex.image_height <= 0) throw Error(where + ": image size unknown (dense targets need it)");
  for (const auto& o : ex.objects)
    if (o.category < 1 || o.category >= classes)
      throw Error(where + ": category id " + std::to_string(o.category) + " (" + o.label +
                  ") is not in [1, model.vision_classes = " + std::to_string(classes) + ")");
  if (attributes > 0)
    for (const auto& o : ex.objects)
      for (int a : o.attributes)
        if (a < 0 || a >= attributes)
            throw Error(where + ": attribute id " + std::to_string(a) + " of a " + o.label +
                      " is not in [0, model.vision_attributes = " + std::to_string(attributes) + ")");
  // Largest first, so each later (smaller) object overwrites the patches it shares.
  std::vector<size_t> order(ex.objects.size());
  std::iota(order.begin(), order.end(), 0);
  auto area = [&](size_t i) { return ex.objects[i].box[2] * ex.objects[i].box[3]; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return area(a) > area(b); });

  std::vector<int> owner(size_t(grid) * grid, -1);
  for (size_t i : order)
    for (int p : patches_centred_in(ex.objects[i].box, ex.image_width, ex.image_height, grid)) owner[size_t(p)] = int(i);
  // The patch under each box centre, unless a smaller object already has it.
  std::vector<size_t> rank(order.size());
  for (size_t k = 0; k < order.size(); ++k) rank[order[k]] = k;
  for (size_t i : order) {
    int& o = owner[size_t(centre_patch(ex.objects[i].box, ex.image_width, ex.image_height, grid))];
    if (o < 0 || rank[size_t(o)] < rank[i]) o = int(i);
  }

  DenseTargets t{std::vector<int64_t>(owner.size(), 0), std::vector<int64_t>(owner.size() * 4, -100), {}, {}};
  if (attributes > 0) t.attributes.assign(owner.size() * size_t(attributes), 0.0f);
  std::vector<std::array<float, 6>> stats;
  if (rgb) {
    t.pixels.assign(owner.size() * 6, 0.0f);
    for (const auto& o : ex.objects)
      stats.push_back(object_pixel_stats(*rgb, side, o, ex.image_width, ex.image_height));
  }
  for (size_t p = 0; p < owner.size(); ++p) {
    if (owner[p] < 0) continue;
    const auto& o = ex.objects[size_t(owner[p])];
    t.classes[p] = o.category;
    auto b = box_to_bins(o.box, ex.image_width, ex.image_height, bins);
    std::copy(b.begin(), b.end(), t.boxes.begin() + long(p) * 4);
    if (rgb) std::copy(stats[size_t(owner[p])].begin(), stats[size_t(owner[p])].end(), t.pixels.begin() + long(p) * 6);
    if (attributes > 0)
      for (int a : o.attributes) t.attributes[p * size_t(attributes) + size_t(a)] = 1.0f;
  }
  return t;
}

}  // namespace smoes::tasks
