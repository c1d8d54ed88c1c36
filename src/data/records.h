// What every loader shares: JSON parsing that names the file, manifest
// verification, and per-record error reporting (strict: throw; tolerant:
// skip and count in a LoadReport).
#pragma once
#include <nlohmann/json.hpp>
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

}  // namespace smoes::data
