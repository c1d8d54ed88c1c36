// Helpers shared by the question-answering loaders (VQA v2, VQA-CP v2, GQA,
// NLVR2, SNLI-VE, VCR, A-OKVQA):
//   * verify_file_against_manifest: the MANIFEST.json check of a file read;
//   * ImageFinder: the image file of a record, trying several extensions
//     (real datasets ship .jpg, the embedded world writes .png) and several
//     folders, with a cache (many questions share one image). Annotations
//     never need the images: a record whose image is absent keeps the path
//     it names, and data/image_check.h reports it where images are needed;
//   * for_each_json_line: a JSON-lines reader that names the bad line;
//   * Fields: typed access to one record's fields that reports every problem
//     through RecordErrors ("<file>: <record>: field '<field>': <problem>").
//     Getters return false after reporting (strict mode throws instead), so a
//     loader writes `if (!f.string("question", q)) continue;`. They never
//     throw anything but smoes::Error, whatever the JSON shape.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/example.h"
#include "data/records.h"

namespace smoes::data {

// verify_against_manifest(root, file) with root = the nearest of the file's
// folder, its parent and its grandparent that holds a MANIFEST.json (the
// world's gqa/questions/*.json is two levels below it); nothing is checked
// when none does. Throws when the file's SHA-256 differs from the manifest's
// entry for it.
void verify_file_against_manifest(const std::string& file);

class ImageFinder {
 public:
  explicit ImageFinder(std::vector<std::string> extensions = {".jpg", ".png"});
  // The first existing `stem + extension`, over `stems` in order and the
  // extensions in order for each stem; when none exists, the first of them.
  // Cached by stems.
  std::string find(const std::vector<std::string>& stems);
  std::string find(const std::string& stem) { return find(std::vector<std::string>{stem}); }
  // A file name that already has an extension: itself if it exists, else the
  // first existing same name with each of the finder's extensions, else itself.
  std::string find_file(const std::string& path);

 private:
  std::vector<std::string> extensions_;
  std::unordered_map<std::string, std::string> cache_;
  std::vector<std::string> candidates(const std::vector<std::string>& stems) const;
  std::vector<std::string> file_candidates(const std::string& path) const;
};

// Calls `each(record, value)` for every non-blank line of a JSON-lines file,
// record = "line <n>" (1-based; CRLF and a UTF-8 BOM are accepted). A line that
// is not JSON is reported as "<file>: line <n>: not valid JSON: <why>" (strict:
// throws; tolerant: skipped, counted under "not valid JSON"). Every non-blank
// line is counted in errors.report->records.
void for_each_json_line(const std::string& path, const RecordErrors& errors,
                        const std::function<void(const std::string& record, const nlohmann::json& value)>& each);

// Typed, reporting access to the fields of one JSON record.
class Fields {
 public:
  Fields(const nlohmann::json& record, std::string name, const RecordErrors& errors);

  const std::string& name() const { return name_; }
  // Appends " (<key> <value>)" to the record name once the id is known.
  void add_id(const std::string& key, const std::string& value);

  // The field, or nullptr when the record is not an object, lacks it, or it is null.
  const nlohmann::json* get(const std::string& key) const;
  bool has(const std::string& key) const { return get(key) != nullptr; }
  // Reports `problem` for `field` and returns false.
  bool fail(const std::string& field, const std::string& problem) const;

  // Required fields ("missing" / "expected a string, got number" / "empty"):
  bool string(const std::string& key, std::string& out, bool allow_empty = false) const;
  bool integer(const std::string& key, int64_t& out, int64_t min = INT64_MIN) const;
  // A string or an integer, as text (ids some releases write either way).
  bool id(const std::string& key, std::string& out) const;
  // An integer in [0, count).
  bool index(const std::string& key, int& out, size_t count) const;
  // A list of strings; exact_size > 0 requires that many (else: non-empty).
  bool strings(const std::string& key, std::vector<std::string>& out, size_t exact_size = 0,
               bool allow_empty_strings = true) const;

  // Optional fields: absent or null -> true with `present` = false; present
  // with a wrong type -> reported like the required ones.
  bool optional_string(const std::string& key, std::string& out, bool& present) const;
  bool optional_index(const std::string& key, int& out, size_t count, bool& present) const;
  bool optional_strings(const std::string& key, std::vector<std::string>& out, size_t exact_size, bool& present) const;

 private:
  const nlohmann::json& record_;
  std::string name_;
  const RecordErrors& errors_;
  bool require(const std::string& key, const nlohmann::json*& value) const;
};

// The most bytes one text field may hold (a question, an answer, a VCR
// sentence once its object references are spelled out): real ones are under
// a kilobyte; a longer one is refused with this limit named, before it is
// copied, tokenised or (VCR) expanded. 64 KiB.
inline constexpr size_t kMaxTextBytes = size_t(1) << 16;
// "<n> bytes, more than the 65536-byte limit on one text field"
std::string text_too_long(size_t bytes);

// Checks a JSON value is a string (optionally non-empty) of at most
// kMaxTextBytes; `problem` says why not.
bool json_string(const nlohmann::json& v, std::string& out, std::string& problem, bool allow_empty = true);

// "COCO_<subtype>_<12-digit id>" (VQA v2 / VQA-CP image names, no extension).
std::string coco2014_image_name(const std::string& subtype, int64_t image_id);
// "<12-digit id>" (COCO 2017 image names, no extension).
std::string coco2017_image_name(int64_t image_id);

}  // namespace smoes::data
