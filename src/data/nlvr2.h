// NLVR2 (Suhr et al. 2019) in its published format:
//   {train,dev,test1}.json, JSON lines:
//   {identifier: "<split>-<set>-<pair>-<sentence>", sentence, label: "True"/"False",
//    left_url, right_url, directory (train only: the image subfolder), ...}
//   images <images_dir>/<split>/[<directory>/]<split>-<set>-<pair>-img0.png
//   (left) and ...-img1.png (right). Also accepted: .jpg, the image without
//   the directory subfolder, and the image directly in <images_dir>.
//
// One Example per line: task "nlvr2", id = identifier, image_paths {left,
// right}, prompt nlvr2_prompt(sentence) with two "<image>", choices
// kNlvr2Choices = {"no", "yes"} (answer_index 1 when label is "True", 0 when
// "False"), targets {the right choice}, meta label (as in the file).
//
// The file is checked against the nearest MANIFEST.json (verify_file_against_manifest).
// strict = true: the first bad line throws smoes::Error naming the file, the
// line (and identifier) and the field; strict = false: bad lines and pairs
// with a missing image are skipped and counted in `report`.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

extern const std::vector<std::string> kNlvr2Choices;  // {"no", "yes"}

// "<image>\n<image>\nStatement: <sentence>\nIs the statement true for the left and the right image? Answer yes or no."
std::string nlvr2_prompt(const std::string& sentence);

std::vector<Example> load_nlvr2(const std::string& jsonl, const std::string& images_dir, bool strict = true,
                                LoadReport* report = nullptr);

}  // namespace smoes::data
