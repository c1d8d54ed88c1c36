#include "study/spec.h"

#include <filesystem>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "core/files.h"
#include "study/questions.h"

namespace smoes::study {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& problem) {
  throw Error(source + ": " + field + ": " + problem);
}

template <class T>
T get(const nlohmann::json& j, const char* key, T fallback, const std::string& source, const std::string& prefix) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(source, prefix + key, std::string("wrong type (") + it->type_name() + ")");
  }
}

void only_keys(const nlohmann::json& j, const std::set<std::string>& known, const std::string& source,
               const std::string& prefix) {
  if (!j.is_object()) fail(source, prefix.empty() ? "(top level)" : prefix, "expected an object");
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) fail(source, prefix + k, "unknown field");
}

std::vector<std::string> overrides(const nlohmann::json& set, const std::string& source, const std::string& field) {
  if (!set.is_object()) fail(source, field, "expected an object of {\"a.b\": value}");
  std::vector<std::string> out;
  for (const auto& [k, v] : set.items()) out.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  return out;
}

ModelSpec read_model(const nlohmann::json& j, const StudySpec& spec, size_t i) {
  const std::string at = "models[" + std::to_string(i) + "].";
  only_keys(j, {"name", "config", "set", "from", "per_seed"}, spec.source, at);
  ModelSpec m;
  m.name = get<std::string>(j, "name", "", spec.source, at);
  if (m.name.empty()) fail(spec.source, at + "name", "missing");
  m.config = get<std::string>(j, "config", "", spec.source, at);
  if (m.config.empty()) fail(spec.source, at + "config", "missing");
  m.set = j.value("set", nlohmann::json::object());
  m.from = get<std::string>(j, "from", "", spec.source, at);
  m.per_seed = get<bool>(j, "per_seed", true, spec.source, at);
  for (const auto& earlier : spec.models)
    if (earlier.name == m.name) fail(spec.source, at + "name", "'" + m.name + "' is declared twice");
  if (!m.from.empty()) {
    const auto& parent = spec.model(m.from);  // declared earlier: no cycles
    if (!m.per_seed && parent.per_seed)
      fail(spec.source, at + "per_seed", "a shared model cannot start from the per-seed model '" + m.from + "'");
  }
  // The config must load with every override, so a typo fails here, not an hour in.
  auto path = (fs::path(spec.source).parent_path() / m.config).string();
  auto sets = overrides(spec.set, spec.source, "set");
  auto own = overrides(m.set, spec.source, at + "set");
  sets.insert(sets.end(), own.begin(), own.end());
  try {
    Config::load(path, sets);
  } catch (const Error& e) {
    fail(spec.source, at + "config", e.what());
  }
  return m;
}

}  // namespace

const ModelSpec& StudySpec::model(const std::string& name) const {
  for (const auto& m : models)
    if (m.name == name) return m;
  throw Error(source + ": no model named '" + name + "' is declared before it is used");
}

StudySpec load_spec(const std::string& path) {
  StudySpec s;
  s.source = path;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": not valid JSON: " + e.what());
  }
  only_keys(j, {"description", "evidence", "world", "seeds", "set", "split", "eval", "models", "questions"}, path, "");
  s.description = get<std::string>(j, "description", "", path, "");
  s.evidence = get<bool>(j, "evidence", false, path, "");
  if (auto w = j.find("world"); w != j.end()) {
    only_keys(*w, {"root", "preset", "seed"}, path, "world.");
    s.world_root = get<std::string>(*w, "root", s.world_root, path, "world.");
    s.world_preset = get<std::string>(*w, "preset", s.world_preset, path, "world.");
    s.world_seed = get<uint64_t>(*w, "seed", s.world_seed, path, "world.");
  }
  s.seeds = get<std::vector<int>>(j, "seeds", {}, path, "");
  if (s.seeds.empty()) fail(path, "seeds", "needs at least one seed");
  if (std::set<int>(s.seeds.begin(), s.seeds.end()).size() != s.seeds.size()) fail(path, "seeds", "repeats a seed");
  s.set = j.value("set", nlohmann::json::object());
  s.split = get<std::string>(j, "split", s.split, path, "");
  if (auto e = j.find("eval"); e != j.end()) {
    only_keys(*e, {"limit", "routing_examples", "skip_limit", "calibration_samples", "candidates"}, path, "eval.");
    s.eval_limit = get<int>(*e, "limit", s.eval_limit, path, "eval.");
    s.routing_examples = get<int>(*e, "routing_examples", s.routing_examples, path, "eval.");
    s.skip_limit = get<int>(*e, "skip_limit", s.skip_limit, path, "eval.");
    s.calibration_samples = get<int>(*e, "calibration_samples", s.calibration_samples, path, "eval.");
    s.candidates = get<int>(*e, "candidates", s.candidates, path, "eval.");
    for (int v : {s.eval_limit, s.routing_examples, s.skip_limit, s.candidates})
      if (v < 1) fail(path, "eval", "every count must be at least 1");
    if (s.calibration_samples < 16) fail(path, "eval.calibration_samples", "at least 16 (smoes skip's minimum)");
  }
  auto models = j.find("models");
  if (models == j.end() || !models->is_array() || models->empty()) fail(path, "models", "needs a non-empty list");
  for (size_t i = 0; i < models->size(); ++i) s.models.push_back(read_model((*models)[i], s, i));
  s.questions = j.value("questions", nlohmann::json::object());
  validate_questions(s);
  return s;
}

std::string preset_path(const std::string& repo_root, const std::string& preset) {
  return (fs::path(repo_root) / "configs" / "study" / "grid" / (preset + ".json")).string();
}

}  // namespace smoes::study
