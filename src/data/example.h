// One example of any vision-language task, whatever file format it came from.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace smoes::data {

// An annotated object: category name and id, box [x, y, w, h] in pixels and
// its outline as polygons [x1, y1, x2, y2, ...] (COCO "segmentation"; empty
// when the file has none or an RLE mask).
struct LabelledBox {
  std::string label;
  std::vector<double> box;
  int category = 0;  // the file's category id (COCO: 1-90)
  std::vector<std::vector<double>> polygons;
  std::vector<int> attributes;  // the file's attribute ids (PACO-style instances), if it has them
};

struct Example {
  std::string task;                      // "coco_captions", "cc", "refcoco", "vqa_v2", "gqa", ...
  std::string id;                        // question id / ref id / image id in the source file
  std::vector<std::string> image_paths;  // as resolved by the loader (exists on disk for the world)
  std::string prompt;                    // contains one "<image>" per image
  std::vector<std::string> targets;      // references: captions, the 10 VQA answers, the answer; training samples one
  std::vector<std::string> choices;      // multiple choice options (A-OKVQA, VCR, ...), empty otherwise
  int answer_index = -1;                 // index of the correct choice, -1 when not multiple choice
  std::vector<double> box;               // grounding target [x, y, w, h] in pixels of image 0, empty otherwise
  std::vector<LabelledBox> objects;      // detection: every annotated object of image 0
  int image_width = 0, image_height = 0; // size of image 0 when the format gives it (boxes need it)
  std::map<std::string, std::string> meta;  // question_type, answer_type, structural type, split, ...
};

// Problems found while loading in tolerant mode: record -> why it was skipped.
struct LoadReport {
  size_t records = 0, skipped = 0;
  std::map<std::string, size_t> reasons;  // problem -> count
  std::vector<std::string> first_problems;  // up to 10 full messages (file, record, field)
  void skip(const std::string& reason, const std::string& message);
};

}  // namespace smoes::data
