// Per-patch targets for the ViT's dense detection head (model/dense_head.h),
// from a detection example's objects.
//
// Assignment (FCOS-style, smallest object first): a patch belongs to the
// smallest object whose box contains the patch centre; every object also
// claims the patch under its own box centre (smaller objects win there too),
// so an object smaller than a patch is never left without one. A patch's
// targets are that object's category id and its box as four location bins
// (x1, y1, x2, y2, as in the location tokens), and, given the image, the
// mean and standard deviation of that object's pixels: its colour and how
// textured it is, which the boxes do not say (COCO has no attributes, but
// every question about colour or material needs them), and, when the file
// names them (PACO-style attribute_ids), the owner's attributes as a
// multi-hot vector; background is category 0 with no box (-100).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "data/example.h"

namespace smoes::tasks {

struct DenseTargets {
  std::vector<int64_t> classes;  // [grid * grid], row-major patches
  std::vector<int64_t> boxes;    // [grid * grid * 4]; -100 on background
  std::vector<float> pixels;     // [grid * grid * 6] owner's pixel mean, std (RGB in [-1, 1]); empty without image
  std::vector<float> attributes; // [grid * grid * attributes] owner's attribute ids, multi-hot; empty for 0
};

// The patches (row-major in a grid x grid split of a width x height image)
// that belong to `box` ([x, y, w, h] in pixels) by the assignment above when
// no other object competes: those whose centre lies inside it, and the one
// under its centre. Sorted, never empty. The grounding-attention loss
// (train.grounding_attention) uses them as the referred object's patches.
std::vector<int> box_patches(const std::vector<double>& box, int width, int height, int grid);

// `rgb` (optional): the example's image 0 as the model sees it, side x side.
// Errors name the example when its image size is unknown, a category id is
// not in [1, classes) or an attribute id not in [0, attributes).
DenseTargets dense_targets(const data::Example& ex, int grid, int bins, int classes,
                           const std::vector<uint8_t>* rgb = nullptr, int side = 0, int attributes = 0);

// Mean then standard deviation per channel (R, G, B in [-1, 1]) of the pixels
// of a side x side resize of a width x height image whose centres lie inside
// the object's polygons (even-odd rule), else inside its box, else the pixel
// under the box centre.
std::array<float, 6> object_pixel_stats(const std::vector<uint8_t>& rgb, int side, const data::LabelledBox& o,
                                        int width, int height);

}  // namespace smoes::tasks
