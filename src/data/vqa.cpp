#include "data/vqa.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "data/image_paths.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kVqaInstruction = "Answer with a word or a number.";

std::string vqa_prompt(const std::string& question) { return "<image>\nQuestion: " + question + " " + kVqaInstruction; }

namespace {

// The two layouts: VQA v2 wraps the lists in objects and names the image
// folder once per file; VQA-CP has plain lists and a folder per record.
struct VqaLayout {
  std::string task;
  bool plain_lists = false;
  std::string subtype;  // VQA v2 only
};

struct VqaAnnotation {
  int64_t image_id = 0;
  std::vector<std::string> answers;
  std::string multiple_choice_answer, question_type, answer_type;
};

using VqaAnnotations = std::map<int64_t, VqaAnnotation>;

// The record list of a file: doc itself (VQA-CP) or doc[key] (VQA v2).
const json& record_list(const json& doc, const std::string& key, const VqaLayout& layout, const std::string& file) {
  if (layout.plain_lists) {
    if (!doc.is_array()) throw Error(file + ": expected a JSON list of " + key + " records (VQA-CP format)");
    return doc;
  }
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_array())
    throw Error(file + ": expected a JSON object with a \"" + key + "\" list (VQA v2 format)");
  return doc[key];
}

// The image folder of a VQA v2 questions file: "data_subtype", else the name.
std::string vqa_v2_subtype(const json& doc, const std::string& file) {
  std::string subtype;
  auto it = doc.is_object() ? doc.find("data_subtype") : doc.end();
  if (doc.is_object() && it != doc.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty())
      throw Error(file + ": field 'data_subtype': expected a non-empty string");
    subtype = it->get<std::string>();
  } else {
    const std::string name = fs::path(file).filename().string(), pre = "v2_OpenEnded_mscoco_", post = "_questions.json";
    if (name.size() > pre.size() + post.size() && name.rfind(pre, 0) == 0 &&
        name.compare(name.size() - post.size(), post.size(), post) == 0)
      subtype = name.substr(pre.size(), name.size() - pre.size() - post.size());
    else
      throw Error(file +
                  ": cannot tell the COCO image folder: no \"data_subtype\" field and the name is not "
                  "v2_OpenEnded_mscoco_<subtype>_questions.json");
  }
  return subtype == "test-dev2015" ? "test2015" : subtype;  // test-dev is a subset of test2015's images
}

bool read_answers(const Fields& f, std::vector<std::string>& out) {
  const json* answers = f.get("answers");
  if (!answers) return f.fail("answers", "missing");
  if (!answers->is_array()) return f.fail("answers", std::string("expected a list, got ") + answers->type_name());
  if (answers->size() != 10) return f.fail("answers", "expected 10 answers, got " + std::to_string(answers->size()));
  for (size_t i = 0; i < answers->size(); ++i) {
    std::string field = "answers[" + std::to_string(i) + "].answer", problem, text;
    const json& a = (*answers)[i];
    if (!a.is_object() || !a.contains("answer")) return f.fail(field, "missing");
    if (!json_string(a["answer"], text, problem)) return f.fail(field, problem);
    out.push_back(text);
  }
  return true;
}

bool read_annotation(Fields& f, int64_t& question_id, VqaAnnotation& a) {
  if (!f.integer("question_id", question_id, 0)) return false;
  f.add_id("question_id", std::to_string(question_id));
  return f.integer("image_id", a.image_id, 0) && read_answers(f, a.answers) &&
         f.string("multiple_choice_answer", a.multiple_choice_answer) && f.string("question_type", a.question_type) &&
         f.string("answer_type", a.answer_type);
}

VqaAnnotations read_annotations(const std::string& file, const VqaLayout& layout, bool strict, LoadReport* report) {
  verify_file_against_manifest(file);
  json doc = parse_json_file(file);
  const json& list = record_list(doc, "annotations", layout, file);
  RecordErrors errors{file, strict, report};
  VqaAnnotations out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (report) ++report->records;
    Fields f(list[i], "annotations[" + std::to_string(i) + "]", errors);
    int64_t question_id = 0;
    VqaAnnotation a;
    if (!read_annotation(f, question_id, a)) continue;
    if (!out.emplace(question_id, std::move(a)).second) f.fail("question_id", "duplicate question_id");
  }
  return out;
}

struct VqaQuestion {
  int64_t question_id = 0, image_id = 0;
  std::string question, subtype;
};

bool read_question(Fields& f, const VqaLayout& layout, VqaQuestion& q) {
  if (!f.integer("question_id", q.question_id, 0)) return false;
  f.add_id("question_id", std::to_string(q.question_id));
  q.subtype = layout.subtype;
  return f.integer("image_id", q.image_id, 0) && f.string("question", q.question) &&
         (!layout.plain_lists || f.string("coco_split", q.subtype));
}

// Copies the annotation of `q` into `ex`; false after reporting when there is none or it disagrees.
bool attach_annotation(const Fields& f, const VqaQuestion& q, const VqaAnnotations& annotations,
                       const std::string& annotations_file, Example& ex) {
  auto it = annotations.find(q.question_id);
  if (it == annotations.end())
    return f.fail("question_id", "no valid annotation with this question_id in " + annotations_file);
  const VqaAnnotation& a = it->second;
  if (a.image_id != q.image_id)
    return f.fail("image_id", "the annotation of this question has image_id " + std::to_string(a.image_id));
  ex.targets = a.answers;
  ex.meta["multiple_choice_answer"] = a.multiple_choice_answer;
  ex.meta["question_type"] = a.question_type;
  ex.meta["answer_type"] = a.answer_type;
  return true;
}

std::vector<Example> load_vqa(const std::string& questions_json, const std::string& annotations_json,
                              const std::string& images_dir, VqaLayout layout, bool strict, LoadReport* report) {
  verify_file_against_manifest(questions_json);
  json doc = parse_json_file(questions_json);
  const json& list = record_list(doc, "questions", layout, questions_json);
  if (!layout.plain_lists) layout.subtype = vqa_v2_subtype(doc, questions_json);
  const bool annotated = !annotations_json.empty();
  VqaAnnotations annotations;
  if (annotated) annotations = read_annotations(annotations_json, layout, strict, report);

  RecordErrors errors{questions_json, strict, report};
  ImageFinder images;
  std::set<int64_t> seen;
  std::vector<Example> out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (report) ++report->records;
    Fields f(list[i], "questions[" + std::to_string(i) + "]", errors);
    VqaQuestion q;
    if (!read_question(f, layout, q)) continue;
    if (!seen.insert(q.question_id).second) {
      f.fail("question_id", "duplicate question_id");
      continue;
    }
    Example ex;
    if (annotated && !attach_annotation(f, q, annotations, annotations_json, ex)) continue;
    std::string stem = (fs::path(images_dir) / q.subtype / coco2014_image_name(q.subtype, q.image_id)).string();
    std::string image = images.find(stem);
    ex.task = layout.task;
    ex.id = std::to_string(q.question_id);
    ex.image_paths = {image};
    ex.prompt = vqa_prompt(q.question);
    if (layout.plain_lists) ex.meta["coco_split"] = q.subtype;
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace

std::vector<Example> load_vqa_v2(const std::string& questions_json, const std::string& annotations_json,
                                 const std::string& coco_images_dir, bool strict, LoadReport* report) {
  return load_vqa(questions_json, annotations_json, coco_images_dir, VqaLayout{"vqa_v2", false, ""}, strict, report);
}

std::vector<Example> load_vqa_cp(const std::string& questions_json, const std::string& annotations_json,
                                 const std::string& coco_images_dir, bool strict, LoadReport* report) {
  return load_vqa(questions_json, annotations_json, coco_images_dir, VqaLayout{"vqa_cp", true, ""}, strict, report);
}

}  // namespace smoes::data
