#include "study/questions.h"

#include "core/error.h"
#include "study/spec.h"

namespace smoes::study {

const std::vector<std::string> kQuestions = {"rq1", "rq2", "rq3", "rq4", "rq5"};

namespace {

const std::vector<std::string> kTransfer = {"caption", "caption_to_grounding", "grounding", "grounding_to_caption"};

[[noreturn]] void fail(const StudySpec& s, const std::string& field, const std::string& problem) {
  throw Error(s.source + ": questions." + field + ": " + problem);
}

const nlohmann::json& field(const StudySpec& s, const nlohmann::json& q, const std::string& at, const char* key) {
  auto it = q.find(key);
  if (it == q.end()) fail(s, at + "." + key, "missing");
  return *it;
}

std::string text(const StudySpec& s, const nlohmann::json& q, const std::string& at, const char* key) {
  const auto& v = field(s, q, at, key);
  if (!v.is_string() || v.get<std::string>().empty()) fail(s, at + "." + key, "expected a name");
  return v.get<std::string>();
}

std::vector<std::string> texts(const StudySpec& s, const nlohmann::json& q, const std::string& at, const char* key) {
  const auto& v = field(s, q, at, key);
  if (!v.is_array() || v.empty()) fail(s, at + "." + key, "expected a non-empty list of names");
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string()) fail(s, at + "." + key, "expected a list of names");
    out.push_back(x.get<std::string>());
  }
  return out;
}

// A model role: the model must be declared (StudySpec::model throws).
std::string model(const StudySpec& s, const nlohmann::json& q, const std::string& at, const char* key) {
  auto name = text(s, q, at, key);
  try {
    s.model(name);
  } catch (const Error& e) {
    fail(s, at + "." + key, e.what());
  }
  return name;
}

// {label: model} with every model declared.
std::vector<std::pair<std::string, std::string>> labelled(const StudySpec& s, const nlohmann::json& q,
                                                          const std::string& at, const char* key) {
  const auto& v = field(s, q, at, key);
  if (!v.is_object() || v.empty()) fail(s, at + "." + key, "expected {label: model}");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [label, m] : v.items()) out.emplace_back(label, model(s, v, at + "." + key, label.c_str()));
  return out;
}

// `baseline`: the label the others are compared with.
void require_label(const StudySpec& s, const nlohmann::json& q, const std::string& at,
                   const std::vector<std::pair<std::string, std::string>>& labels) {
  auto base = text(s, q, at, "baseline");
  for (const auto& [label, m] : labels)
    if (label == base) return;
  fail(s, at + ".baseline", "'" + base + "' is not one of the labels");
}

using Add = void (*)(const StudySpec&, const nlohmann::json&, std::vector<Need>&);

void rq1(const StudySpec& s, const nlohmann::json& q, std::vector<Need>& out) {
  const std::string at = "rq1";
  auto cap = text(s, q, at, "caption_task"), gnd = text(s, q, at, "grounding_task");
  auto txt = text(s, q, at, "text_task");
  out.push_back({model(s, q, at, "pretrained"), {"routing", {txt}}});
  for (const char* role : {"frozen", "full", "smoes"}) {
    auto m = model(s, q, at, role);
    out.push_back({m, {"eval", {cap, gnd}}});
    out.push_back({m, {"routing", {txt}}});
  }
}

void rq2(const StudySpec& s, const nlohmann::json& q, std::vector<Need>& out) {
  auto cap = text(s, q, "rq2", "caption_task"), gnd = text(s, q, "rq2", "grounding_task");
  for (const char* family : {"standard", "smoes"}) {
    const auto at = std::string("rq2.") + family;
    const auto& f = field(s, q, "rq2", family);
    // Each model is scored, and profiled, on the task it was last trained on.
    const std::string task_of[] = {cap, gnd, gnd, cap};
    for (size_t i = 0; i < kTransfer.size(); ++i) {
      auto m = model(s, f, at, kTransfer[i].c_str());
      out.push_back({m, {"eval", {task_of[i]}}});
      out.push_back({m, {"routing", {task_of[i]}}});
    }
  }
}

void rq3(const StudySpec& s, const nlohmann::json& q, std::vector<Need>& out) {
  auto id = texts(s, q, "rq3", "id_tasks"), ood = texts(s, q, "rq3", "ood_tasks");
  auto all = id;
  all.insert(all.end(), ood.begin(), ood.end());
  auto methods = labelled(s, q, "rq3", "methods");
  require_label(s, q, "rq3", methods);
  for (const auto& [label, m] : methods) {
    out.push_back({m, {"eval", all}});
    out.push_back({m, {"routing", id}});
    out.push_back({m, {"routing", ood}});
  }
}

void rq4(const StudySpec& s, const nlohmann::json& q, std::vector<Need>& out) {
  auto id = text(s, q, "rq4", "id_task"), ood = text(s, q, "rq4", "ood_task");
  for (const char* group : {"equal_active", "equal_total"})
    for (const auto& [e, m] : labelled(s, q, "rq4", group)) {
      if (e.find_first_not_of("0123456789") != std::string::npos)
        fail(s, std::string("rq4.") + group + "." + e, "the label must be the number of experts");
      out.push_back({m, {"eval", {id, ood}}});
    }
}

void rq5(const StudySpec& s, const nlohmann::json& q, std::vector<Need>& out) {
  auto tasks = texts(s, q, "rq5", "tasks");
  auto methods = texts(s, q, "rq5", "methods");
  const auto& r = field(s, q, "rq5", "ratio");
  if (!r.is_number() || r.get<double>() <= 0 || r.get<double>() >= 1)
    fail(s, "rq5.ratio", "expected a number in (0, 1)");
  auto fixed = labelled(s, q, "rq5", "fixed");
  require_label(s, q, "rq5", fixed);
  for (const auto& [label, m] : fixed) out.push_back({m, {"eval", tasks}});
  for (const auto& [label, m] : labelled(s, q, "rq5", "dynamic_on"))
    out.push_back({m, {"skip", tasks, methods, r.get<double>()}});
}

const std::vector<std::pair<std::string, Add>>& adders() {
  static const std::vector<std::pair<std::string, Add>> a = {
      {"rq1", rq1}, {"rq2", rq2}, {"rq3", rq3}, {"rq4", rq4}, {"rq5", rq5}};
  return a;
}

}  // namespace

void validate_questions(const StudySpec& spec) { needs(spec); }

std::vector<Need> needs(const StudySpec& spec) {
  if (!spec.questions.is_object()) fail(spec, "", "expected an object");
  for (const auto& [name, q] : spec.questions.items()) {
    bool known = false;
    for (const auto& [n, add] : adders()) known |= n == name;
    if (!known) fail(spec, name, "unknown question (known: rq1, rq2, rq3, rq4, rq5)");
  }
  std::vector<Need> out;
  for (const auto& [name, add] : adders())
    if (auto q = spec.questions.find(name); q != spec.questions.end()) add(spec, *q, out);
  return out;
}

}  // namespace smoes::study
