#include "data/records.h"

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "core/json_input.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

void LoadReport::skip(const std::string& reason, const std::string& message) {
  ++skipped;
  ++reasons[reason];
  if (first_problems.size() < 10) first_problems.push_back(message);
}

json parse_json_file(const std::string& path) {
  std::string text = read_file(path);
  check_json_depth(text, path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw Error(path + ": not valid JSON: " + e.what());
  }
}

void verify_against_manifest(const std::string& root, const std::string& file) {
  for (fs::path dir : {fs::path(root), fs::path(root).parent_path()}) {
    auto manifest_path = dir / "MANIFEST.json";
    if (dir.empty() || !fs::exists(manifest_path)) continue;
    std::string manifest_text = read_file(manifest_path.string());
    check_json_depth(manifest_text, manifest_path.string());
    auto manifest = json::parse(manifest_text, nullptr, false);
    if (manifest.is_discarded() || !manifest.contains("files") || !manifest["files"].is_object())
      throw Error(manifest_path.string() + ": not a valid manifest (no \"files\" object)");
    auto rel = fs::relative(fs::absolute(file), fs::absolute(dir)).generic_string();
    auto entry = manifest["files"].find(rel);
    if (entry == manifest["files"].end()) return;
    if (!entry->is_string() || sha256_file(file) != entry->get<std::string>())
      throw Error(file + ": SHA-256 does not match " + manifest_path.string() + " (file changed or corrupted)");
    return;
  }
}

void RecordErrors::bad(const std::string& record, const std::string& field, const std::string& problem) const {
  std::string msg = file + ": " + record + ": field '" + field + "': " + problem;
  if (strict || !report) throw Error(msg);
  report->skip("field '" + field + "': " + problem, msg);
}

std::optional<Example> coco_image_example(const json& img, const std::string& rec, const RecordErrors& errors,
                                          const std::string& images_dir) {
  if (!img.is_object() || !img.contains("id") || !img["id"].is_number_integer()) {
    errors.bad(rec, "id", "missing or not an integer");
    return std::nullopt;
  }
  if (!img.contains("file_name") || !img["file_name"].is_string()) {
    errors.bad(rec, "file_name", "missing or not a string");
    return std::nullopt;
  }
  Example ex;
  ex.id = std::to_string(img["id"].get<int64_t>());
  ex.image_paths = {(fs::path(images_dir) / img["file_name"].get<std::string>()).string()};
  return ex;
}

}  // namespace smoes::data
