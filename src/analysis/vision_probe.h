// Does a VLM read its images? Two measurements on a trained run:
//  - where the energy of the visual tokens sits: in one vector shared by every
//    image and patch, in what depends only on the patch position, or in what
//    differs between images (the only part that carries the image);
//  - the teacher-forced answer loss on real vs blank images, per task.
// A model whose visual tokens are all "constant" and whose loss gap is 0 is
// blind, however it was trained (docs/RESULTS.md).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"

namespace smoes::analysis {

// mean(F^2) of features F [N images, P patches, C] split exactly into
// constant (the mean vector over images and patches), position (each patch's
// mean over images minus the constant) and image (the rest) parts.
struct EnergySplit {
  double constant = 0, position = 0, image = 0;
  double total() const { return constant + position + image; }
  nlohmann::json to_json() const;
};
EnergySplit split_energy(const torch::Tensor& features);

struct ProbeOptions {
  std::string split = "val";
  int images = 64;      // images for the energy split
  int examples = 128;   // examples per task for the loss gap
  int batch_size = 16;
  int max_text_len = 40;
  uint64_t seed = 1;    // picks the training target of multi-reference tasks
};

// {"vit": split, "projector": split, "loss": {task: {"real", "blank", "gap"}}}, and with word/box tags
// "tag_energy_share": sum |tags|^2 / sum |visual tokens|^2 over the probed images.
nlohmann::json probe_vision(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                            const std::string& root, const std::vector<std::string>& tasks, const ProbeOptions& o);

}  // namespace smoes::analysis
