#include "data/gqa.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/image_paths.h"
#include "data/records.h"
#include "data/vqa.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// types{structural, semantic, detailed} -> meta, when present.
bool read_types(const Fields& f, Example& ex) {
  const json* types = f.get("types");
  if (!types) return true;
  if (!types->is_object()) return f.fail("types", std::string("expected an object, got ") + types->type_name());
  for (const char* key : {"structural", "semantic", "detailed"}) {
    auto it = types->find(key);
    if (it == types->end() || it->is_null()) continue;
    std::string value, problem;
    if (!json_string(*it, value, problem)) return f.fail(std::string("types.") + key, problem);
    ex.meta[key] = value;
  }
  return true;
}

// answer / fullAnswer / types, all optional (the test files have none).
bool read_labels(const Fields& f, Example& ex) {
  std::string answer, full_answer;
  bool has_answer = false, has_full = false;
  if (!f.optional_string("answer", answer, has_answer) || !f.optional_string("fullAnswer", full_answer, has_full))
    return false;
  if (has_answer) ex.targets = {answer};
  if (has_full) ex.meta["fullAnswer"] = full_answer;
  return read_types(f, ex);
}

}  // namespace

std::vector<Example> load_gqa(const std::string& questions_json, const std::string& images_dir, bool strict,
                              LoadReport* report) {
  verify_file_against_manifest(questions_json);
  json doc = parse_json_file(questions_json);
  if (!doc.is_object())
    throw Error(questions_json + ": expected a JSON object mapping question ids to questions (GQA format)");
  RecordErrors errors{questions_json, strict, report};
  ImageFinder images;
  std::vector<Example> out;
  for (const auto& [key, record] : doc.items()) {
    if (report) ++report->records;
    Fields f(record, "question \"" + key + "\"", errors);
    std::string image_id, question;
    if (key.empty()) {
      f.fail("(question id)", "empty key");
      continue;
    }
    if (!f.id("imageId", image_id) || !f.string("question", question)) continue;
    Example ex;
    if (!read_labels(f, ex)) continue;
    std::string stem = (fs::path(images_dir) / image_id).string();
    std::string image = images.find(stem);
    ex.task = "gqa";
    ex.id = key;
    ex.image_paths = {image};
    ex.prompt = vqa_prompt(question);
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace smoes::data
