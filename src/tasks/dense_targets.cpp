#include "tasks/dense_targets.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "tasks/tasks.h"

namespace smoes::tasks {

DenseTargets dense_targets(const data::Example& ex, int grid, int bins, int classes) {
  const std::string where = ex.task + " example " + ex.id;
  if (ex.image_width <= 0 || ex.image_height <= 0) throw Error(where + ": image size unknown (dense targets need it)");
  for (const auto& o : ex.objects)
    if (o.category < 1 || o.category >= classes)
      throw Error(where + ": category id " + std::to_string(o.category) + " (" + o.label +
                  ") is not in [1, model.vision_classes = " + std::to_string(classes) + ")");
  // Largest first, so each later (smaller) object overwrites the patches it shares.
  std::vector<size_t> order(ex.objects.size());
  std::iota(order.begin(), order.end(), 0);
  auto area = [&](size_t i) { return ex.objects[i].box[2] * ex.objects[i].box[3]; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return area(a) > area(b); });

  const double sx = double(grid) / ex.image_width, sy = double(grid) / ex.image_height;  // pixels -> patches
  std::vector<int> owner(size_t(grid) * grid, -1);
  for (size_t i : order) {
    const auto& b = ex.objects[i].box;
    for (int r = 0; r < grid; ++r)
      for (int c = 0; c < grid; ++c) {
        const double x = c + 0.5, y = r + 0.5;  // patch centre, in patches
        if (x >= b[0] * sx && x <= (b[0] + b[2]) * sx && y >= b[1] * sy && y <= (b[1] + b[3]) * sy)
          owner[r * grid + c] = int(i);
      }
  }
  // The patch under each box centre, unless a smaller object already has it.
  std::vector<size_t> rank(order.size());
  for (size_t k = 0; k < order.size(); ++k) rank[order[k]] = k;
  for (size_t i : order) {
    const auto& b = ex.objects[i].box;
    const int c = std::clamp(int((b[0] + b[2] / 2) * sx), 0, grid - 1);
    const int r = std::clamp(int((b[1] + b[3] / 2) * sy), 0, grid - 1);
    int& o = owner[r * grid + c];
    if (o < 0 || rank[size_t(o)] < rank[i]) o = int(i);
  }

  DenseTargets t{std::vector<int64_t>(owner.size(), 0), std::vector<int64_t>(owner.size() * 4, -100)};
  for (size_t p = 0; p < owner.size(); ++p) {
    if (owner[p] < 0) continue;
    const auto& o = ex.objects[size_t(owner[p])];
    t.classes[p] = o.category;
    auto b = box_to_bins(o.box, ex.image_width, ex.image_height, bins);
    std::copy(b.begin(), b.end(), t.boxes.begin() + long(p) * 4);
  }
  return t;
}

}  // namespace smoes::tasks
