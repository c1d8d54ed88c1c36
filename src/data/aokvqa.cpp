#include "data/aokvqa.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/image_paths.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

std::string aokvqa_prompt(const std::string& question) {
  return "<image>\nQuestion: " + question + " Answer with a word or a short phrase.";
}

namespace {

struct AokvqaRecord {
  std::string question_id, split, question;
  int64_t image_id = 0;
  std::vector<std::string> choices, direct_answers, rationales;
  int correct_choice = -1;
  bool has_correct = false, has_direct = false, has_rationales = false;
};

bool read_difficult(const Fields& f, Example& ex) {
  const json* v = f.get("difficult_direct_answer");
  if (!v) return true;
  if (!v->is_boolean())
    return f.fail("difficult_direct_answer", std::string("expected true or false, got ") + v->type_name());
  ex.meta["difficult_direct_answer"] = v->get<bool>() ? "true" : "false";
  return true;
}

bool read_record(Fields& f, AokvqaRecord& r) {
  if (!f.id("question_id", r.question_id)) return false;
  f.add_id("question_id", r.question_id);
  return f.string("split", r.split) && f.integer("image_id", r.image_id, 0) && f.string("question", r.question) &&
         f.strings("choices", r.choices, 4, /*allow_empty_strings=*/false) &&
         f.optional_index("correct_choice_idx", r.correct_choice, r.choices.size(), r.has_correct) &&
         f.optional_strings("direct_answers", r.direct_answers, 10, r.has_direct) &&
         f.optional_strings("rationales", r.rationales, 0, r.has_rationales);
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

}  // namespace

std::vector<Example> load_aokvqa(const std::string& json_path, const std::string& coco_dir, bool strict,
                                 LoadReport* report) {
  verify_file_against_manifest(json_path);
  json doc = parse_json_file(json_path);
  if (!doc.is_array()) throw Error(json_path + ": expected a JSON list of questions (A-OKVQA format)");
  RecordErrors errors{json_path, strict, report};
  ImageFinder images;
  std::vector<Example> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    if (report) ++report->records;
    Fields f(doc[i], "[" + std::to_string(i) + "]", errors);
    AokvqaRecord r;
    Example ex;
    if (!read_record(f, r) || !read_difficult(f, ex)) continue;
    std::string stem = (fs::path(coco_dir) / (r.split + "2017") / coco2017_image_name(r.image_id)).string();
    std::string image = images.find(stem);
    ex.task = "aokvqa";
    ex.id = r.question_id;
    ex.image_paths = {image};
    ex.prompt = aokvqa_prompt(r.question);
    ex.choices = r.choices;
    ex.answer_index = r.correct_choice;
    ex.targets = r.direct_answers;
    if (r.has_rationales) ex.meta["rationales"] = join_lines(r.rationales);
    out.push_back(std::move(ex));
  }
  return out;
}

}  // namespace smoes::data
