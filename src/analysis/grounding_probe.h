// Why does a VLM write the boxes it writes? On a grounding task's examples,
// teacher-forced, for each of the first box's four location tokens (x1, y1,
// x2, y2): how often the model's top token is the right bin (or within one),
// and, per decoder layer, where the position that writes it looks: the mass
// of its head-averaged attention on the referred object's visual tokens
// (tasks::box_patches), on those and their 8 neighbours, on all visual
// tokens, and whether its most-attended visual token is on the object. With
// a dense head (model.vision_classes), also how often the head's own box at
// one of the object's patches has IoU >= 0.5: what copying could reach; with
// a box pointer (model.box_pointer), how often it points at the object and
// how often the head's box where it points has IoU >= 0.5.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"

namespace smoes::analysis {

struct LookShares {
  double object = 0, neighbourhood = 0, visual = 0;
  bool argmax_on_object = false;
};

// `row`: one query's attention over an image's grid x grid visual tokens
// (row-major, [grid * grid]); `object`: the object's patches.
LookShares look_shares(const torch::Tensor& row, const std::vector<int>& object, int grid);

struct GroundingProbeOptions {
  std::string split = "val";
  int examples = 320;
  int batch_size = 32;
  int max_text_len = 40;
  uint64_t seed = 1;  // picks the reference sentence of multi-sentence refs
};

// {"examples", "head_box_acc" (with a dense head), "pointer_on_object" and
// "pointer_box_acc" (with a box pointer), "coordinates": [{"name",
// "accuracy", "within_one_bin", "layers": [{"object", "neighbourhood",
// "visual", "argmax_on_object"}]}]}, each a mean over the examples.
nlohmann::json probe_grounding(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                               const std::string& root, const std::string& task, const GroundingProbeOptions& o);

}  // namespace smoes::analysis
