#include "data/instances.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kDetectionPrompt = "<image>\nDetect the objects.";

namespace {

bool is_box(const json& b) {
  if (!b.is_array() || b.size() != 4) return false;
  for (const auto& v : b)
    if (!v.is_number()) return false;
  return b[2].get<double>() > 0 && b[3].get<double>() > 0;
}

// COCO polygons: a list of [x1, y1, x2, y2, ...] with at least 3 points each.
bool is_polygon_list(const json& seg) {
  if (!seg.is_array()) return false;
  for (const auto& poly : seg) {
    if (!poly.is_array() || poly.size() < 6 || poly.size() % 2 != 0) return false;
    for (const auto& v : poly)
      if (!v.is_number()) return false;
  }
  return true;
}

bool has_list(const json& doc, const char* key) { return doc.contains(key) && doc[key].is_array(); }

// PACO-style attributes: an optional top-level list of {id, name[, type]}.
std::map<int, std::string> declared_attributes(const json& doc, const RecordErrors& errors) {
  std::map<int, std::string> ids;
  if (!doc.contains("attributes")) return ids;
  if (!doc["attributes"].is_array()) {
    errors.bad("attributes", "attributes", "not a list of {id, name}");
    return ids;
  }
  for (size_t i = 0; i < doc["attributes"].size(); ++i) {
    const json& a = doc["attributes"][i];
    std::string rec = "attributes[" + std::to_string(i) + "]";
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || a["id"].get<int64_t>() < 0 ||
        a["id"].get<int64_t>() > INT32_MAX)
      errors.bad(rec, "id", "missing or not a non-negative integer");
    else if (!a.contains("name") || !a["name"].is_string())
      errors.bad(rec, "name", "missing or not a string");
    else
      ids[int(a["id"].get<int64_t>())] = a["name"].get<std::string>();
  }
  return ids;
}

std::map<int64_t, std::string> category_names(const json& doc, const RecordErrors& errors) {
  std::map<int64_t, std::string> category;
  for (size_t i = 0; i < doc["categories"].size(); ++i) {
    const json& c = doc["categories"][i];
    std::string rec = "categories[" + std::to_string(i) + "]";
    if (!c.is_object() || !c.contains("id") || !c["id"].is_number_integer())
      errors.bad(rec, "id", "missing or not an integer");
    else if (!c.contains("name") || !c["name"].is_string() || c["name"].get<std::string>().empty())
      errors.bad(rec, "name", "missing, empty or not a string");
    else
      category[c["id"].get<int64_t>()] = c["name"].get<std::string>();
  }
  return category;
}

json parse_instances(const std::string& root, const std::string& split, std::string& file) {
  file = (fs::path(root) / "annotations" / ("instances_" + split + ".json")).string();
  verify_against_manifest(root, file);
  json doc = parse_json_file(file);
  if (!doc.is_object() || !has_list(doc, "images") || !has_list(doc, "annotations") || !has_list(doc, "categories"))
    throw Error(file + ": expected a COCO instances object with \"images\", \"annotations\" and \"categories\" lists");
  return doc;
}

// An annotation's attribute_ids: a list of declared attribute ids.
bool read_attribute_ids(const json& ann, const std::map<int, std::string>& declared, std::vector<int>& out) {
  if (!ann.contains("attribute_ids")) return true;
  if (!ann["attribute_ids"].is_array()) return false;
  for (const auto& v : ann["attribute_ids"]) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX ||
        !declared.count(int(v.get<int64_t>())))
      return false;
    out.push_back(int(v.get<int64_t>()));
  }
  return true;
}

}  // namespace

std::vector<Example> load_coco_instances(const std::string& root, const std::string& split, bool strict,
                                         LoadReport* report, const std::string& images_dir) {
  std::string file;
  json doc = parse_instances(root, split, file);
  RecordErrors errors{file, strict, report};
  const auto category = category_names(doc, errors);
  const auto attributes = declared_attributes(doc, errors);
  std::map<int64_t, Example> by_id;
  for (size_t i = 0; i < doc["images"].size(); ++i) {
    const json& img = doc["images"][i];
    if (report) ++report->records;
    std::string rec = "images[" + std::to_string(i) + "]";
    auto ex = coco_image_example(img, rec, errors,
                                 images_dir.empty() ? (fs::path(root) / "images" / split).string() : images_dir);
    if (!ex) continue;
    if (!img.contains("width") || !img["width"].is_number_integer() || img["width"].get<int>() <= 0 ||
        !img.contains("height") || !img["height"].is_number_integer() || img["height"].get<int>() <= 0) {
      errors.bad(rec, "width/height", "missing or not positive integers (boxes need the image size)");
      continue;
    }
    ex->task = "coco_detection";
    ex->prompt = kDetectionPrompt;
    ex->image_width = img["width"].get<int>();
    ex->image_height = img["height"].get<int>();
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
    auto it = by_id.find(ann["image_id"].get<int64_t>());
    if (it == by_id.end()) {
      errors.bad(rec, "image_id", "no image with id " + ann["image_id"].dump());
      continue;
    }
    auto cat = ann.contains("category_id") && ann["category_id"].is_number_integer()
                   ? category.find(ann["category_id"].get<int64_t>())
                   : category.end();
    if (cat == category.end()) {
      errors.bad(rec, "category_id", "missing or not one of the categories");
      continue;
    }
    if (!ann.contains("bbox") || !is_box(ann["bbox"])) {
      errors.bad(rec, "bbox", "missing or not [x, y, w, h] with w, h > 0");
      continue;
    }
    // A crowd region's RLE mask (an object) is fine: the box stands in for it.
    const bool rle = ann.contains("segmentation") && ann["segmentation"].is_object();
    if (ann.contains("segmentation") && !rle && !is_polygon_list(ann["segmentation"])) {
      errors.bad(rec, "segmentation", "neither polygons [[x1, y1, x2, y2, x3, y3, ...], ...] nor an RLE object");
      continue;
    }
    std::vector<int> attribute_ids;
    if (!read_attribute_ids(ann, attributes, attribute_ids)) {
      errors.bad(rec, "attribute_ids", "not a list of ids from the file's \"attributes\"");
      continue;
    }
    const int id = int(std::clamp<int64_t>(cat->first, INT32_MIN, INT32_MAX));
    it->second.objects.push_back({cat->second, ann["bbox"].get<std::vector<double>>(), id, {}, attribute_ids});
    if (ann.contains("segmentation") && !rle)
      it->second.objects.back().polygons = ann["segmentation"].get<std::vector<std::vector<double>>>();
  }
  std::vector<Example> out;
  for (auto& [id, ex] : by_id) out.push_back(std::move(ex));
  return out;
}

LabelNames load_coco_label_names(const std::string& root, const std::string& split) {
  std::string file;
  json doc = parse_instances(root, split, file);
  RecordErrors errors{file, /*strict=*/true, nullptr};
  LabelNames names;
  for (const auto& [id, name] : category_names(doc, errors)) names.categories[int(id)] = name;
  names.attributes = declared_attributes(doc, errors);
  return names;
}

}  // namespace smoes::data
