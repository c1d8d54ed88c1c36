// COCO object instances (annotations/instances_<split>.json + images/<split>/)
// as a detection task: one Example per image whose `objects` are its
// annotated boxes with category names. Trained Pix2Seq-style (Chen et al.
// 2022): the model reads every object of the image out as "name + 4 location
// tokens", which teaches the encoder what and where the objects are from
// every box, not only the one a referring expression names.
//
// Optional PACO-style attributes (Ramanathan et al. 2023, which extend
// COCO/LVIS instances this way): a top-level "attributes" list of
// {id, name, type} and, per annotation, "attribute_ids" (colour, material,
// ...), kept in LabelledBox::attributes for the dense head.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

extern const char* const kDetectionPrompt;  // "<image>\nDetect the objects."

// strict = true: the first bad record throws smoes::Error naming file, record
// and field; false: bad records are skipped and counted in `report`. Images
// without annotations are kept (an empty scene is a valid answer).
// Images in `images_dir`, by default <coco_root>/images/<split>.
std::vector<Example> load_coco_instances(const std::string& coco_root, const std::string& split, bool strict = true,
                                         LoadReport* report = nullptr, const std::string& images_dir = "");

// The names behind the file's category and attribute ids (Oscar-style object
// tags embed them as words). Bad records throw, naming file, record and field.
struct LabelNames {
  std::map<int, std::string> categories, attributes;
};
LabelNames load_coco_label_names(const std::string& coco_root, const std::string& split);

}  // namespace smoes::data
