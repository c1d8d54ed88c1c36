#include "data/image_paths.h"

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "core/json_input.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

void verify_file_against_manifest(const std::string& file) {
  // The nearest MANIFEST.json among the file's folder and two ancestors
  // (gqa/questions/x.json is two levels below the world's manifest).
  fs::path dir = fs::path(file).parent_path();
  for (int up = 0; up < 3 && !dir.empty(); ++up, dir = dir.parent_path()) {
    std::error_code ec;
    if (fs::exists(dir / "MANIFEST.json", ec)) return verify_against_manifest(dir.string(), file);
  }
}

// ---- images ---------------------------------------------------------------

ImageFinder::ImageFinder(std::vector<std::string> extensions) : extensions_(std::move(extensions)) {}

std::vector<std::string> ImageFinder::candidates(const std::vector<std::string>& stems) const {
  std::vector<std::string> out;
  for (const auto& stem : stems)
    for (const auto& ext : extensions_) out.push_back(stem + ext);
  return out;
}

std::vector<std::string> ImageFinder::file_candidates(const std::string& path) const {
  std::vector<std::string> out{path};
  fs::path p(path);
  if (!p.has_extension()) return out;
  std::string stem = (p.parent_path() / p.stem()).string();
  for (const auto& ext : extensions_)
    if (stem + ext != path) out.push_back(stem + ext);
  return out;
}

static bool is_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// The first candidate that exists, else the first one: the file the record
// names, which check_images reports when it is needed.
static std::string first_existing(const std::vector<std::string>& paths) {
  for (const auto& p : paths)
    if (is_file(p)) return p;
  return paths.empty() ? "" : paths.front();
}

std::string ImageFinder::find(const std::vector<std::string>& stems) {
  std::string key;
  for (const auto& s : stems) key += s + '\n';
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  return cache_[key] = first_existing(candidates(stems));
}

std::string ImageFinder::find_file(const std::string& path) {
  std::string key = path + '\x01';
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  return cache_[key] = first_existing(file_candidates(path));
}

// ---- JSON lines -----------------------------------------------------------

void for_each_json_line(const std::string& path, const RecordErrors& errors,
                        const std::function<void(const std::string& record, const json& value)>& each) {
  std::istringstream in(read_file(path));
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (n == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (errors.report) ++errors.report->records;
    std::string record = "line " + std::to_string(n);
    json value;
    check_json_depth(line, errors.file + ": " + record);
    try {
      value = json::parse(line);
    } catch (const json::exception& e) {
      std::string msg = errors.file + ": " + record + ": not valid JSON: " + e.what();
      if (errors.strict || !errors.report) throw Error(msg);
      errors.report->skip("not valid JSON", msg);
      continue;
    }
    each(record, value);
  }
}

// ---- fields ---------------------------------------------------------------

static std::string got(const json& v) { return std::string("got ") + v.type_name(); }

std::string text_too_long(size_t bytes) {
  return std::to_string(bytes) + " bytes, more than the " + std::to_string(kMaxTextBytes) +
         "-byte limit on one text field";
}

bool json_string(const json& v, std::string& out, std::string& problem, bool allow_empty) {
  if (!v.is_string()) {
    problem = "expected a string, " + got(v);
    return false;
  }
  if (v.get_ref<const std::string&>().size() > kMaxTextBytes) {
    problem = text_too_long(v.get_ref<const std::string&>().size());
    return false;
  }
  out = v.get<std::string>();
  if (!allow_empty && out.find_first_not_of(" \t\r\n") == std::string::npos) {
    problem = "empty";
    return false;
  }
  return true;
}

static bool json_int64(const json& v, int64_t& out, std::string& problem) {
  if (!v.is_number_integer()) {
    problem = "expected an integer, " + got(v);
    return false;
  }
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
    problem = "integer out of range";
    return false;
  }
  out = v.get<int64_t>();
  return true;
}

Fields::Fields(const json& record, std::string name, const RecordErrors& errors)
    : record_(record), name_(std::move(name)), errors_(errors) {}

void Fields::add_id(const std::string& key, const std::string& value) { name_ += " (" + key + " " + value + ")"; }

const json* Fields::get(const std::string& key) const {
  if (!record_.is_object()) return nullptr;
  auto it = record_.find(key);
  if (it == record_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Fields::fail(const std::string& field, const std::string& problem) const {
  errors_.bad(name_, field, problem);
  return false;
}

bool Fields::require(const std::string& key, const json*& value) const {
  if (!record_.is_object())
    return fail(key, std::string("missing (the record is not an object, ") + got(record_) + ")");
  value = get(key);
  if (!value) return fail(key, "missing");
  return true;
}

bool Fields::string(const std::string& key, std::string& out, bool allow_empty) const {
  const json* v = nullptr;
  std::string problem;
  if (!require(key, v)) return false;
  return json_string(*v, out, problem, allow_empty) || fail(key, problem);
}

bool Fields::integer(const std::string& key, int64_t& out, int64_t min) const {
  const json* v = nullptr;
  std::string problem;
  if (!require(key, v)) return false;
  if (!json_int64(*v, out, problem)) return fail(key, problem);
  if (out < min) return fail(key, "must be at least " + std::to_string(min) + ", got " + std::to_string(out));
  return true;
}

bool Fields::id(const std::string& key, std::string& out) const {
  const json* v = nullptr;
  if (!require(key, v)) return false;
  if (v->is_number_integer()) {
    int64_t n = 0;
    std::string problem;
    if (!json_int64(*v, n, problem)) return fail(key, problem);
    out = std::to_string(n);
    return true;
  }
  if (!v->is_string()) return fail(key, "expected a string or an integer, " + got(*v));
  out = v->get<std::string>();
  if (out.empty()) return fail(key, "empty");
  return true;
}

static bool check_index(const Fields& f, const std::string& key, const json& v, int& out, size_t count) {
  int64_t n = 0;
  std::string problem;
  if (!json_int64(v, n, problem)) return f.fail(key, problem);
  if (n < 0 || uint64_t(n) >= count)
    return f.fail(key, "must be in [0, " + std::to_string(count) + "), got " + std::to_string(n));
  out = int(n);
  return true;
}

bool Fields::index(const std::string& key, int& out, size_t count) const {
  const json* v = nullptr;
  return require(key, v) && check_index(*this, key, *v, out, count);
}

static bool check_strings(const Fields& f, const std::string& key, const json& v, std::vector<std::string>& out,
                          size_t exact_size, bool allow_empty_strings) {
  if (!v.is_array()) return f.fail(key, "expected a list, " + got(v));
  if (exact_size > 0 && v.size() != exact_size)
    return f.fail(key, "expected " + std::to_string(exact_size) + " items, got " + std::to_string(v.size()));
  if (v.empty()) return f.fail(key, "empty list");
  std::vector<std::string> items(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    std::string problem;
    if (!json_string(v[i], items[i], problem, allow_empty_strings))
      return f.fail(key + "[" + std::to_string(i) + "]", problem);
  }
  out = std::move(items);
  return true;
}

bool Fields::strings(const std::string& key, std::vector<std::string>& out, size_t exact_size,
                     bool allow_empty_strings) const {
  const json* v = nullptr;
  return require(key, v) && check_strings(*this, key, *v, out, exact_size, allow_empty_strings);
}

bool Fields::optional_string(const std::string& key, std::string& out, bool& present) const {
  present = has(key);
  return !present || string(key, out, /*allow_empty=*/true);
}

bool Fields::optional_index(const std::string& key, int& out, size_t count, bool& present) const {
  present = has(key);
  return !present || index(key, out, count);
}

bool Fields::optional_strings(const std::string& key, std::vector<std::string>& out, size_t exact_size,
                              bool& present) const {
  present = has(key);
  return !present || strings(key, out, exact_size);
}

// ---- COCO image names -----------------------------------------------------

std::string coco2014_image_name(const std::string& subtype, int64_t image_id) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%012" PRId64, image_id);
  return "COCO_" + subtype + "_" + digits;
}

std::string coco2017_image_name(int64_t image_id) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%012" PRId64, image_id);
  return digits;
}

}  // namespace smoes::data
