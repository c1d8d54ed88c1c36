#include "data/nlvr2.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/image_paths.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kNlvr2Choices = {"no", "yes"};

std::string nlvr2_prompt(const std::string& sentence) {
  return "<image>\n<image>\nStatement: " + sentence +
         "\nIs the statement true for the left and the right image? Answer yes or no.";
}

namespace {

// "<split>-<set>-<pair>-<sentence>" -> split and the image prefix "<split>-<set>-<pair>".
bool parse_identifier(const std::string& id, std::string& split, std::string& prefix) {
  size_t first = id.find('-'), last = id.rfind('-');
  if (first == 0 || first == std::string::npos || last + 1 >= id.size()) return false;
  if (id.find_first_not_of("0123456789", last + 1) != std::string::npos) return false;
  size_t dashes = 0;
  for (char c : id) dashes += c == '-';
  if (dashes < 3) return false;
  split = id.substr(0, first);
  prefix = id.substr(0, last);
  return true;
}

// Where image `side` (0 left, 1 right) may be, best guess first.
std::vector<std::string> image_stems(const std::string& images_dir, const std::string& split,
                                     const std::string& directory, const std::string& prefix, int side) {
  std::string name = prefix + "-img" + std::to_string(side);
  fs::path root(images_dir);
  std::vector<std::string> stems;
  if (!directory.empty()) stems.push_back((root / split / directory / name).string());
  stems.push_back((root / split / name).string());
  stems.push_back((root / name).string());
  return stems;
}

bool read_label(const Fields& f, int& answer_index, std::string& label) {
  if (!f.string("label", label)) return false;
  if (label == "True" || label == "False") {
    answer_index = label == "True" ? 1 : 0;
    return true;
  }
  return f.fail("label", "unknown label \"" + label + "\" (expected \"True\" or \"False\")");
}

}  // namespace

std::vector<Example> load_nlvr2(const std::string& jsonl, const std::string& images_dir, bool strict,
                                LoadReport* report) {
  verify_file_against_manifest(jsonl);
  RecordErrors errors{jsonl, strict, report};
  ImageFinder images({".png", ".jpg"});
  std::vector<Example> out;
  for_each_json_line(jsonl, errors, [&](const std::string& record, const json& value) {
    Fields f(value, record, errors);
    std::string identifier, split, prefix, sentence, label, directory;
    int answer_index = -1;
    if (!f.string("identifier", identifier)) return;
    f.add_id("identifier", identifier);
    if (!parse_identifier(identifier, split, prefix)) {
      f.fail("identifier", "expected \"<split>-<set>-<pair>-<sentence>\"");
      return;
    }
    if (!f.string("sentence", sentence) || !read_label(f, answer_index, label)) return;
    if (f.has("directory") && !f.id("directory", directory)) return;
    Example ex;
    for (int side = 0; side < 2; ++side) {
      auto stems = image_stems(images_dir, split, directory, prefix, side);
      std::string image = images.find(stems);
      ex.image_paths.push_back(image);
    }
    ex.task = "nlvr2";
    ex.id = identifier;
    ex.prompt = nlvr2_prompt(sentence);
    ex.choices = kNlvr2Choices;
    ex.answer_index = answer_index;
    ex.targets = {kNlvr2Choices[answer_index]};
    ex.meta["label"] = label;
    out.push_back(std::move(ex));
  });
  return out;
}

}  // namespace smoes::data
