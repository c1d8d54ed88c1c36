// One example of any vision-language task, whatever file format it came from.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace smoes::data {

struct Example {
  std::string task;                      // "coco_captions", "cc", ...
  std::string id;                        // image id / question id in the source file
  std::vector<std::string> image_paths;  // absolute or relative to the working dir
  std::string prompt;                    // contains one "<image>" per image
  std::vector<std::string> targets;      // reference answers/captions; training samples one
};

// Problems found while loading in tolerant mode: record -> why it was skipped.
struct LoadReport {
  size_t records = 0, skipped = 0;
  std::map<std::string, size_t> reasons;  // problem -> count
  std::vector<std::string> first_problems;  // up to 10 full messages (file, record, field)
  void skip(const std::string& reason, const std::string& message);
};

}  // namespace smoes::data
