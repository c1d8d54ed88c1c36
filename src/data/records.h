// What every loader shares: JSON parsing that names the file, manifest
// verification, and per-record error reporting (strict: throw; tolerant:
// skip and count in a LoadReport).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/example.h"

namespace smoes::data {

// Parses a JSON file; throws smoes::Error naming the path and the parse error.
nlohmann::json parse_json_file(const std::string& path);

// Verifies `file` against the MANIFEST.json found in `root` or its parent (if
// any); throws on mismatch, does nothing without a manifest or entry.
void verify_against_manifest(const std::string& root, const std::string& file);

// Reports a bad record: throws in strict mode (or without a report), counts it otherwise.
struct RecordErrors {
  std::string file;
  bool strict = true;
  LoadReport* report = nullptr;
  // "<file>: <record>: field '<field>': <problem>"
  void bad(const std::string& record, const std::string& field, const std::string& problem) const;
};

// One entry of a COCO file's "images" list (captions, instances) -> an
// Example with its id and image path (images_dir / file_name); a bad `id` or
// `file_name` is reported and gives nullopt.
std::optional<Example> coco_image_example(const nlohmann::json& image, const std::string& record,
                                          const RecordErrors& errors, const std::string& images_dir);

}  // namespace smoes::data
