// Loaders read annotations alone: scoring a results file needs nothing else,
// as the official scorers do. The images an example refers to are checked
// here, before anything decodes them: the file exists, its header reads as
// an image, and its sides are within kMaxImageSide. Training, prediction and
// `smoes data inspect` call it; each image file is probed once.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

struct ImageCheck {
  size_t images = 0, missing = 0, bad = 0;  // distinct files referenced, absent, unreadable
  std::vector<std::string> first_problems;  // up to 10: "<example>: <file>: <why>"
};

// Drops the examples with a missing or bad image, counting them in `report`
// ("image file not found" / "image not readable") when given. Strict: then
// throws smoes::Error with the counts and the first ten, each naming the
// example and the file.
ImageCheck check_images(std::vector<Example>& examples, bool strict, LoadReport* report);

}  // namespace smoes::data
