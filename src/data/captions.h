// Caption datasets in their published formats:
//   COCO Captions: annotations/captions_<split>.json + images/<split>/<file_name>
//   Conceptual Captions: a TSV of "caption<TAB>url"; here the url column may be
//     an image path relative to the TSV's directory (the world writes that).
// One Example per image with all its captions as targets. When the dataset
// root (or its parent) has a MANIFEST.json, the annotation file's SHA-256 is
// checked against it before parsing.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

extern const char* const kCaptionPrompt;  // "<image>\nDescribe the image."

// strict = true: the first bad record throws smoes::Error naming file, record
// and field. strict = false: bad records are skipped and counted in `report`.
// Images in `images_dir`, by default <coco_root>/images/<split> (COCO's own
// zips unpack them to <coco_root>/<split>: the task registry finds which).
std::vector<Example> load_coco_captions(const std::string& coco_root, const std::string& split, bool strict = true,
                                        LoadReport* report = nullptr, const std::string& images_dir = "");
std::vector<Example> load_cc_tsv(const std::string& tsv_path, bool strict = true, LoadReport* report = nullptr);

}  // namespace smoes::data
