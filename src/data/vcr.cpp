#include "data/vcr.h"

#include <filesystem>

#include "data/image_paths.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

std::string vcr_qa_prompt(const std::string& question) { return "<image>\nQuestion: " + question + "\nAnswer:"; }

std::string vcr_qar_prompt(const std::string& question, const std::string& answer) {
  return "<image>\nQuestion: " + question + "\nAnswer: " + answer + "\nRationale:";
}

namespace {

// Punctuation, closing brackets and contractions ("'s", "'t", "n't") follow the previous word without a space.
bool attaches_left(const std::string& word) {
  return word.empty() || std::string(".,!?;:)]}%'").find(word[0]) != std::string::npos || word == "n't";
}

bool opens(const std::string& word) { return word == "(" || word == "[" || word == "{" || word == "$"; }

// Short texts for messages: "7", "\"x\"", "[...]"; nested values are not printed.
std::string brief(const json& v) {
  if (!v.is_primitive()) return v.is_array() ? "[...]" : "{...}";
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 40 ? text.substr(0, 40) + "..." : text;
}

// "[0,7]" (at most 8 items).
std::string brief_reference(const json& ref) {
  std::string text = "[";
  for (size_t i = 0; i < ref.size() && i < 8; ++i) text += (i ? "," : "") + brief(ref[i]);
  return text + (ref.size() > 8 ? ",...]" : "]");
}

// [i, j, k] -> "name_i<i>, name_j<j> and name_k<k>".
bool render_reference(const json& ref, const std::vector<std::string>& objects, std::string& text,
                      std::string& problem) {
  if (ref.empty()) {
    problem = "empty object reference";
    return false;
  }
  for (size_t i = 0; i < ref.size(); ++i) {
    const json& v = ref[i];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || uint64_t(v.get<int64_t>()) >= objects.size()) {
      problem = "object reference " + brief_reference(ref) + ": " + brief(v) + " is not an index into the " +
                std::to_string(objects.size()) + " objects";
      return false;
    }
    size_t k = size_t(v.get<int64_t>());
    if (i > 0) text += i + 1 == ref.size() ? " and " : ", ";
    text += objects[k] + std::to_string(k);
    // A long name referenced many times would spell out far more than the file holds.
    if (text.size() > kMaxTextBytes) {
      problem = "object reference " + brief_reference(ref) + " spells out more than " + std::to_string(kMaxTextBytes) +
                " bytes (the limit on one text field)";
      return false;
    }
  }
  return true;
}

// The `objects` list (may be empty).
bool read_objects(const Fields& f, std::vector<std::string>& objects) {
  const json* v = f.get("objects");
  if (!v) return f.fail("objects", "missing");
  if (!v->is_array()) return f.fail("objects", std::string("expected a list, got ") + v->type_name());
  for (size_t i = 0; i < v->size(); ++i) {
    std::string name, problem;
    if (!json_string((*v)[i], name, problem, /*allow_empty=*/false))
      return f.fail("objects[" + std::to_string(i) + "]", problem);
    objects.push_back(name);
  }
  return true;
}

bool read_tokens(const Fields& f, const std::string& field, const json* tokens, const std::vector<std::string>& objects,
                 std::string& text) {
  std::string problem;
  if (!tokens) return f.fail(field, "missing");
  if (!render_vcr_tokens(*tokens, objects, text, problem)) return f.fail(field, problem);
  return true;
}

// answer_choices / rationale_choices: 4 token lists.
bool read_choices(const Fields& f, const std::string& key, const std::vector<std::string>& objects,
                  std::vector<std::string>& choices) {
  const json* v = f.get(key);
  if (!v) return f.fail(key, "missing");
  if (!v->is_array() || v->size() != 4)
    return f.fail(key, v->is_array() ? "expected 4 choices, got " + std::to_string(v->size())
                                     : std::string("expected a list of 4 choices, got ") + v->type_name());
  choices.resize(4);
  for (size_t i = 0; i < 4; ++i)
    if (!read_tokens(f, key + "[" + std::to_string(i) + "]", &(*v)[i], objects, choices[i])) return false;
  return true;
}

struct VcrRecord {
  std::string annot_id, img_fn, metadata_fn, question;
  std::vector<std::string> objects, answers, rationales;
  int answer_label = -1, rationale_label = -1;
  bool has_metadata = false, has_answer_label = false, has_rationale_label = false;
};

bool read_record(Fields& f, VcrRecord& r) {
  if (!f.id("annot_id", r.annot_id)) return false;
  f.add_id("annot_id", r.annot_id);
  return f.string("img_fn", r.img_fn) && f.optional_string("metadata_fn", r.metadata_fn, r.has_metadata) &&
         read_objects(f, r.objects) && read_tokens(f, "question", f.get("question"), r.objects, r.question) &&
         read_choices(f, "answer_choices", r.objects, r.answers) &&
         read_choices(f, "rationale_choices", r.objects, r.rationales) &&
         f.optional_index("answer_label", r.answer_label, 4, r.has_answer_label) &&
         f.optional_index("rationale_label", r.rationale_label, 4, r.has_rationale_label);
}

Example make_example(const VcrRecord& r, const std::string& image, const std::string& images_dir) {
  Example ex;
  ex.id = r.annot_id;
  ex.image_paths = {image};
  if (r.has_metadata) ex.meta["metadata_fn"] = (fs::path(images_dir) / r.metadata_fn).string();
  return ex;
}

}  // namespace

bool render_vcr_tokens(const json& tokens, const std::vector<std::string>& objects, std::string& text,
                       std::string& problem) {
  if (!tokens.is_array()) {
    problem = std::string("expected a list of tokens, got ") + tokens.type_name();
    return false;
  }
  text.clear();
  bool glue = true;  // no space before the next token
  for (const json& token : tokens) {
    std::string word;
    if (token.is_string()) {
      word = token.get<std::string>();
    } else if (token.is_array()) {
      if (!render_reference(token, objects, word, problem)) return false;
    } else {
      problem = std::string("a token must be a word or a list of object indices, got ") + token.type_name();
      return false;
    }
    if (word.empty()) continue;
    if (!glue && !(token.is_string() && attaches_left(word))) text += ' ';
    if (text.size() + word.size() > kMaxTextBytes) {
      problem = text_too_long(text.size() + word.size());
      return false;
    }
    text += word;
    glue = token.is_string() && opens(word);
  }
  if (text.empty()) {
    problem = "empty";
    return false;
  }
  return true;
}

std::vector<Example> load_vcr(const std::string& jsonl, const std::string& images_dir, bool strict,
                              LoadReport* report) {
  verify_file_against_manifest(jsonl);
  RecordErrors errors{jsonl, strict, report};
  ImageFinder images;
  std::vector<Example> out;
  for_each_json_line(jsonl, errors, [&](const std::string& line, const json& value) {
    Fields f(value, line, errors);
    VcrRecord r;
    if (!read_record(f, r)) return;
    std::string path = (fs::path(images_dir) / r.img_fn).string();
    std::string image = images.find_file(path);
    Example qa = make_example(r, image, images_dir);
    qa.task = "vcr_qa";
    qa.prompt = vcr_qa_prompt(r.question);
    qa.choices = r.answers;
    qa.answer_index = r.answer_label;
    if (r.has_answer_label) qa.targets = {r.answers[r.answer_label]};
    out.push_back(std::move(qa));
    if (!r.has_answer_label) return;
    Example qar = make_example(r, image, images_dir);
    qar.task = "vcr_qar";
    qar.prompt = vcr_qar_prompt(r.question, r.answers[r.answer_label]);
    qar.choices = r.rationales;
    qar.answer_index = r.rationale_label;
    if (r.has_rationale_label) qar.targets = {r.rationales[r.rationale_label]};
    out.push_back(std::move(qar));
  });
  return out;
}

}  // namespace smoes::data
