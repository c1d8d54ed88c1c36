#include "data/refcoco.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/error.h"
#include "data/pickle.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kRefCocoPrompt = "<image>\nWhere is: {}?";

std::string refcoco_prompt(const std::string& sentence) {
  std::string prompt = kRefCocoPrompt;
  auto at = prompt.find("{}");
  return prompt.replace(at, 2, sentence);
}

namespace {

std::string article_type(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a bool";
    case json::value_t::number_float: return "a float";
    case json::value_t::null: return "null";
    default: return "an integer";
  }
}

// One record of a file, with typed field getters that report problems
// through RecordErrors ("<file>: <record>: field '<field>': <problem>") and
// return false (strict mode throws instead).
struct Record {
  const RecordErrors& errors;
  std::string name;
  const json& value;

  bool fail(const std::string& field, const std::string& problem) const {
    errors.bad(name, field, problem);
    return false;
  }
  const json* get(const char* key) const {
    if (!value.is_object()) return nullptr;
    auto it = value.find(key);
    return it == value.end() || it->is_null() ? nullptr : &*it;
  }
  bool is_object() const {
    return value.is_object() || fail("(record)", "expected an object, got " + article_type(value));
  }
  bool integer(const char* key, int64_t& out) const {
    const json* v = get(key);
    if (!v) return fail(key, "missing");
    if (!v->is_number_integer()) return fail(key, "expected an integer, got " + article_type(*v));
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)) return fail(key, "out of range");
    out = v->get<int64_t>();
    return true;
  }
  bool positive(const char* key, int& out) const {
    int64_t v = 0;
    if (!integer(key, v)) return false;
    if (v <= 0 || v > INT32_MAX) return fail(key, "expected a positive size, got " + std::to_string(v));
    out = int(v);
    return true;
  }
  bool string(const char* key, std::string& out) const {
    const json* v = get(key);
    if (!v) return fail(key, "missing");
    if (!v->is_string()) return fail(key, "expected a string, got " + article_type(*v));
    out = v->get<std::string>();
    if (out.empty()) return fail(key, "empty");
    return true;
  }
  // [x, y, w, h]: four finite numbers, w and h > 0.
  bool box(const char* key, std::vector<double>& out) const {
    const json* v = get(key);
    if (!v) return fail(key, "missing");
    if (!v->is_array() || v->size() != 4) return fail(key, "expected [x, y, w, h], got " + v->dump().substr(0, 80));
    out.clear();
    for (const auto& n : *v) {
      if (!n.is_number() || !std::isfinite(n.get<double>()))
        return fail(key, "expected four numbers, got " + v->dump().substr(0, 80));
      out.push_back(n.get<double>());
    }
    if (out[2] <= 0 || out[3] <= 0) return fail(key, "width and height must be positive, got " + v->dump());
    return true;
  }
};

std::string indexed(const char* list, size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; }

struct CocoImage {
  std::string path;
  int width = 0, height = 0;
};

// instances.json: images and annotations indexed by id; each record's
// fields are checked when a ref uses it.
class Instances {
 public:
  Instances(const std::string& file, bool strict, LoadReport* report);
  // The image / the annotation's box; false after reporting a problem
  // (against `ref` when the id is unknown, against the record otherwise).
  bool image(int64_t id, const std::string& images_dir, const Record& ref, CocoImage& out) const;
  bool box(int64_t ann_id, int64_t image_id, const Record& ref, std::vector<double>& out) const;

 private:
  json doc_;
  RecordErrors errors_;
  std::unordered_map<int64_t, size_t> images_, annotations_;
  void index(const char* list, std::unordered_map<int64_t, size_t>& ids, LoadReport* report);
  Record record(const char* list, size_t i, int64_t id) const {
    return Record{errors_, indexed(list, i) + " (id " + std::to_string(id) + ")", doc_.at(list)[i]};
  }
};

Instances::Instances(const std::string& file, bool strict, LoadReport* report)
    : doc_(parse_json_file(file)), errors_{file, strict, report} {
  for (const char* list : {"images", "annotations"})
    if (!doc_.is_object() || !doc_.contains(list) || !doc_[list].is_array())
      throw Error(file + ": expected a COCO instances object with \"images\" and \"annotations\" lists");
  index("images", images_, report);
  index("annotations", annotations_, report);
}

void Instances::index(const char* list, std::unordered_map<int64_t, size_t>& ids, LoadReport* report) {
  const json& records = doc_.at(list);
  for (size_t i = 0; i < records.size(); ++i) {
    if (report) ++report->records;
    Record r{errors_, indexed(list, i), records[i]};
    int64_t id = 0;
    if (!r.is_object() || !r.integer("id", id)) continue;
    auto [it, added] = ids.emplace(id, i);
    if (!added) r.fail("id", "duplicate id " + std::to_string(id) + " (also " + indexed(list, it->second) + ")");
  }
}

bool Instances::image(int64_t id, const std::string& images_dir, const Record& ref, CocoImage& out) const {
  auto it = images_.find(id);
  if (it == images_.end())
    return ref.fail("image_id", "no image with id " + std::to_string(id) + " in " + errors_.file);
  Record r = record("images", it->second, id);
  std::string file_name;
  if (!r.string("file_name", file_name) || !r.positive("width", out.width) || !r.positive("height", out.height))
    return false;
  out.path = (fs::path(images_dir) / file_name).string();
  return true;
}

bool Instances::box(int64_t ann_id, int64_t image_id, const Record& ref, std::vector<double>& out) const {
  auto it = annotations_.find(ann_id);
  if (it == annotations_.end())
    return ref.fail("ann_id", "no annotation with id " + std::to_string(ann_id) + " in " + errors_.file);
  Record r = record("annotations", it->second, ann_id);
  int64_t ann_image = 0;
  if (!r.integer("image_id", ann_image)) return false;
  if (ann_image != image_id)
    return ref.fail("image_id", std::to_string(image_id) + ", but annotation " + std::to_string(ann_id) +
                                    " belongs to image " + std::to_string(ann_image));
  return r.box("bbox", out);
}

// The Example a ref's sentences share.
bool ref_base(const Record& ref, const Instances& inst, const std::string& images_dir, const std::string& split,
              Example& ex) {
  int64_t ann_id = 0, image_id = 0, category_id = 0;
  CocoImage image;
  if (!ref.integer("ann_id", ann_id) || !ref.integer("image_id", image_id)) return false;
  if (ref.get("category_id") && !ref.integer("category_id", category_id)) return false;
  const json* sentences = ref.get("sentences");
  if (!sentences) return ref.fail("sentences", "missing");
  if (!sentences->is_array()) return ref.fail("sentences", "expected a list, got " + article_type(*sentences));
  if (sentences->empty()) return ref.fail("sentences", "empty list");
  if (!inst.box(ann_id, image_id, ref, ex.box) || !inst.image(image_id, images_dir, ref, image)) return false;
  ex.task = "refcoco";
  ex.image_paths = {image.path};
  ex.image_width = image.width;
  ex.image_height = image.height;
  ex.meta["split"] = split;
  ex.meta["ann_id"] = std::to_string(ann_id);
  ex.meta["image_id"] = std::to_string(image_id);
  if (ref.get("category_id")) ex.meta["category_id"] = std::to_string(category_id);
  return true;
}

// One sentence of a ref: "sent" (refer's normalised text), else "raw".
bool add_sentence(const Record& s, const Example& base, std::vector<Example>& out) {
  if (!s.is_object()) return false;
  const char* key = (s.get("sent") || !s.get("raw")) ? "sent" : "raw";
  std::string text;
  int64_t sent_id = 0;
  if (!s.string(key, text)) return false;
  if (s.get("sent_id") && !s.integer("sent_id", sent_id)) return false;
  Example ex = base;
  ex.prompt = refcoco_prompt(text);
  ex.meta["sentence"] = text;
  if (s.get("sent_id")) ex.meta["sent_id"] = std::to_string(sent_id);
  const json* raw = s.get("raw");
  if (raw && raw->is_string()) ex.meta["raw"] = raw->get<std::string>();
  out.push_back(std::move(ex));
  return true;
}

// REFER's split names: "test" is every test split (testA + testB for
// RefCOCO/RefCOCO+, test for RefCOCOg umd), "all" every ref, any other name itself.
bool in_split(const std::string& wanted, const std::string& ref_split) {
  if (wanted == "all" || wanted == ref_split) return true;
  return wanted == "test" && ref_split.rfind("test", 0) == 0;
}

void add_ref(const Record& ref, const Instances& inst, const std::string& images_dir, const std::string& split,
             LoadReport* report, std::vector<Example>& out) {
  int64_t ref_id = 0;
  Example base;
  if (!ref.integer("ref_id", ref_id)) return;
  Record named{ref.errors, ref.name + " (ref_id " + std::to_string(ref_id) + ")", ref.value};
  std::string ref_split;
  if (!named.string("split", ref_split) || !in_split(split, ref_split)) return;
  if (!ref_base(named, inst, images_dir, ref_split, base)) return;
  base.id = std::to_string(ref_id);
  base.meta["ref_id"] = base.id;
  const json& sentences = *named.get("sentences");
  for (size_t j = 0; j < sentences.size(); ++j) {
    if (report) ++report->records;
    add_sentence(Record{ref.errors, named.name + " " + indexed("sentences", j), sentences[j]}, base, out);
  }
}

// "finetune_refcoco+_testA.json" -> {"refcoco+", "testA"}; empty when the name has another form.
std::pair<std::string, std::string> mdetr_name_and_split(const std::string& path) {
  std::string stem = fs::path(path).stem().string();
  const std::string prefix = "finetune_";
  auto last = stem.rfind('_');
  if (stem.rfind(prefix, 0) != 0 || last == std::string::npos || last < prefix.size()) return {};
  return {stem.substr(prefix.size(), last - prefix.size()), stem.substr(last + 1)};
}

// annotations[] grouped by image_id.
std::unordered_map<int64_t, std::vector<size_t>> boxes_by_image(const json& annotations, const RecordErrors& errors,
                                                                LoadReport* report) {
  std::unordered_map<int64_t, std::vector<size_t>> by_image;
  for (size_t k = 0; k < annotations.size(); ++k) {
    if (report) ++report->records;
    Record a{errors, indexed("annotations", k), annotations[k]};
    int64_t image_id = 0;
    if (a.is_object() && a.integer("image_id", image_id)) by_image[image_id].push_back(k);
  }
  return by_image;
}

bool mdetr_example(const Record& img, const json& annotations,
                   const std::unordered_map<int64_t, std::vector<size_t>>& by_image, const std::string& images_dir,
                   Example& ex) {
  int64_t id = 0, original_id = 0;
  std::string file_name, caption;
  if (!img.is_object() || !img.integer("id", id)) return false;
  Record r{img.errors, img.name + " (id " + std::to_string(id) + ")", img.value};
  if (!r.string("file_name", file_name) || !r.string("caption", caption) || !r.positive("width", ex.image_width) ||
      !r.positive("height", ex.image_height))
    return false;
  if (r.get("original_id") && !r.integer("original_id", original_id)) return false;
  auto it = by_image.find(id);
  size_t count = it == by_image.end() ? 0 : it->second.size();
  if (count != 1)
    return r.fail("id", std::to_string(count) + " annotations have this image_id; an expression has exactly one box");
  size_t k = it->second.front();
  Record ann{img.errors, indexed("annotations", k) + " (image_id " + std::to_string(id) + ")", annotations[k]};
  if (!ann.box("bbox", ex.box)) return false;
  ex.task = "refcoco";
  ex.id = std::to_string(id);
  ex.image_paths = {(fs::path(images_dir) / file_name).string()};
  ex.prompt = refcoco_prompt(caption);
  ex.meta["sentence"] = caption;
  if (r.get("original_id")) ex.meta["image_id"] = std::to_string(original_id);
  const json* dataset = r.get("dataset_name");
  if (dataset && dataset->is_string()) ex.meta["dataset_name"] = dataset->get<std::string>();
  return true;
}

}  // namespace

std::vector<Example> load_refcoco(const std::string& refcoco_dir, const std::string& images_dir,
                                  const std::string& split, bool strict, LoadReport* report,
                                  const std::string& split_by) {
  std::string refs_file = (fs::path(refcoco_dir) / ("refs(" + split_by + ").p")).string();
  std::string instances_file = (fs::path(refcoco_dir) / "instances.json").string();
  verify_against_manifest(refcoco_dir, refs_file);
  verify_against_manifest(refcoco_dir, instances_file);
  json refs = unpickle_file(refs_file);
  if (!refs.is_array())
    throw Error(refs_file + ": expected a list of refs (refer API format), got " + article_type(refs));
  Instances inst(instances_file, strict, report);
  RecordErrors errors{refs_file, strict, report};
  std::vector<Example> out;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (report) ++report->records;
    Record ref{errors, indexed("refs", i), refs[i]};
    if (ref.is_object()) add_ref(ref, inst, images_dir, split, report, out);
  }
  return out;
}

std::vector<Example> load_mdetr_refexp(const std::string& json_path, const std::string& images_dir, bool strict,
                                       LoadReport* report) {
  verify_against_manifest(fs::path(json_path).parent_path().string(), json_path);
  json doc = parse_json_file(json_path);
  for (const char* list : {"images", "annotations"})
    if (!doc.is_object() || !doc.contains(list) || !doc[list].is_array())
      throw Error(json_path + ": expected an MDETR refexp object with \"images\" and \"annotations\" lists");
  RecordErrors errors{json_path, strict, report};
  auto by_image = boxes_by_image(doc["annotations"], errors, report);
  auto [dataset, split] = mdetr_name_and_split(json_path);
  std::vector<Example> out;
  for (size_t i = 0; i < doc["images"].size(); ++i) {
    if (report) ++report->records;
    Example ex;
    if (!mdetr_example(Record{errors, indexed("images", i), doc["images"][i]}, doc["annotations"], by_image,
                       images_dir, ex))
      continue;
    if (!split.empty()) ex.meta["split"] = split;
    if (!dataset.empty() && !ex.meta.count("dataset_name")) ex.meta["dataset_name"] = dataset;
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace smoes::data
