#include "data/captions.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kCaptionPrompt = "<image>\nDescribe the image.";

std::vector<Example> load_coco_captions(const std::string& root, const std::string& split, bool strict,
                                        LoadReport* report, const std::string& images_dir) {
  std::string file = (fs::path(root) / "annotations" / ("captions_" + split + ".json")).string();
  verify_against_manifest(root, file);
  json doc = parse_json_file(file);
  RecordErrors errors{file, strict, report};
  if (!doc.is_object() || !doc.contains("images") || !doc["images"].is_array() || !doc.contains("annotations") ||
      !doc["annotations"].is_array())
    throw Error(file + ": expected a COCO captions object with \"images\" and \"annotations\" lists");

  std::map<int64_t, Example> by_id;
  for (size_t i = 0; i < doc["images"].size(); ++i) {
    const json& img = doc["images"][i];
    if (report) ++report->records;
    auto ex = coco_image_example(img, "images[" + std::to_string(i) + "]", errors,
                                 images_dir.empty() ? (fs::path(root) / "images" / split).string() : images_dir);
    if (!ex) continue;
    ex->task = "coco_captions";
    ex->prompt = kCaptionPrompt;
    by_id[img["id"].get<int64_t>()] = std::move(*ex);
  }
  for (size_t i = 0; i < doc["annotations"].size(); ++i) {
    const json& ann = doc["annotations"][i];
    if (report) ++report->records;
    std::string rec = "annotations[" + std::to_string(i) + "]";
    if (!ann.is_object() || !ann.contains("image_id") || !ann["image_id"].is_number_integer()) {
      errors.bad(rec, "image_id", "missing or not an integer");
      continue;
    }
    if (!ann.contains("caption") || !ann["caption"].is_string()) {
      errors.bad(rec, "caption", "missing or not a string");
      continue;
    }
    auto it = by_id.find(ann["image_id"].get<int64_t>());
    if (it == by_id.end()) {
      errors.bad(rec, "image_id", "no image with id " + ann["image_id"].dump());
      continue;
    }
    it->second.targets.push_back(ann["caption"].get<std::string>());
  }
  std::vector<Example> out;
  for (auto& [id, ex] : by_id)
    if (!ex.targets.empty()) out.push_back(std::move(ex));
  return out;
}

std::vector<Example> load_cc_tsv(const std::string& tsv_path, bool strict, LoadReport* report) {
  auto root = fs::path(tsv_path).parent_path();
  verify_against_manifest(root.string(), tsv_path);
  std::istringstream in(read_file(tsv_path));
  RecordErrors errors{tsv_path, strict, report};
  std::vector<Example> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    if (report) ++report->records;
    std::string rec = "line " + std::to_string(n);
    auto tab = line.find('\t');
    if (tab == std::string::npos) {
      errors.bad(rec, "url", "no TAB between caption and url");
      continue;
    }
    std::string caption = line.substr(0, tab), url = line.substr(tab + 1);
    if (caption.empty()) {
      errors.bad(rec, "caption", "empty");
      continue;
    }
    if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
      errors.bad(rec, "url", "remote image (download the images and put their local paths in the TSV)");
      continue;
    }
    Example ex;
    ex.task = "cc";
    ex.id = std::to_string(n);
    ex.image_paths = {(root / url).string()};
    ex.prompt = kCaptionPrompt;
    ex.targets = {caption};
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace smoes::data
