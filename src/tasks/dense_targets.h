// Per-patch targets for the ViT's dense detection head (model/dense_head.h),
// from a detection example's objects.
//
// Assignment (FCOS-style, smallest object first): a patch belongs to the
// smallest object whose box contains the patch centre; every object also
// claims the patch under its own box centre (smaller objects win there too),
// so an object smaller than a patch is never left without one. A patch's
// targets are that object's category id and its box as four location bins
// (x1, y1, x2, y2, as in the location tokens); background is category 0 with
// no box (-100).
#pragma once
#include <cstdint>
#include <vector>

#include "data/example.h"

namespace smoes::tasks {

struct DenseTargets {
  std::vector<int64_t> classes;  // [grid * grid], row-major patches
  std::vector<int64_t> boxes;    // [grid * grid * 4]; -100 on background
};

// Errors name the example when its image size is unknown or a category id is
// not in [1, classes).
DenseTargets dense_targets(const data::Example& ex, int grid, int bins, int classes);

}  // namespace smoes::tasks
