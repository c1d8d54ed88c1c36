#include "study/grid.h"

#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "core/files.h"
#include "study/questions.h"

namespace smoes::study {
namespace fs = std::filesystem;
namespace {

void add_overrides(std::vector<std::string>& out, const nlohmann::json& set) {
  for (const auto& [k, v] : set.items()) out.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
}

std::string key_of(nlohmann::json config, const std::string& parent_key) {
  config["train"]["out_dir"] = "";
  config["train"]["init_from"] = parent_key;
  config["data"]["image_cache"] = "";
  return sha256_hex(config.dump()).substr(0, 16);
}

Run make_run(const StudySpec& spec, const ModelSpec& m, int seed, const Grid& grid) {
  Run r;
  r.model = m.name;
  r.seed = m.per_seed ? seed : 0;
  r.id = m.per_seed ? m.name + "-s" + std::to_string(seed) : m.name;
  std::vector<std::string> sets;
  add_overrides(sets, spec.set);
  add_overrides(sets, m.set);
  sets.push_back("data.root=" + spec.world_root);
  sets.push_back("data.image_cache=" + (fs::path(grid.out) / "image_cache").string());
  if (m.per_seed) sets.push_back("train.seed=" + std::to_string(seed));
  auto cfg = Config::load((fs::path(spec.source).parent_path() / m.config).string(), sets);
  std::string parent_key;
  if (!m.from.empty()) {
    const Run* p = grid.find(m.from, seed);
    r.parent = p->id;
    parent_key = p->key;
    cfg.train.init_from = p->dir;
  } else {
    cfg.train.init_from = "";
  }
  r.key = key_of(cfg.to_json(), parent_key);
  r.dir = (fs::path(grid.out) / "runs" / r.key).string();
  cfg.train.out_dir = r.dir;
  r.config = cfg.to_json();
  return r;
}

}  // namespace

const Run& Grid::get(const std::string& id) const {
  for (const auto& r : runs)
    if (r.id == id) return r;
  throw Error("study: no run '" + id + "' in this study (smoes study --plan lists them)");
}

const Run* Grid::find(const std::string& model, int seed) const {
  auto is = [&](const std::string& m, int s) { return m == model && (s == seed || s == 0); };
  for (const auto& r : runs) {
    if (is(r.model, r.seed)) return &r;
    for (const auto& [m, s] : r.aliases)
      if (is(m, s)) return &r;
  }
  return nullptr;
}

void Grid::add(Run r) {
  for (auto& have : runs)
    if (have.key == r.key) {
      have.aliases.emplace_back(r.model, r.seed);
      return;
    }
  runs.push_back(std::move(r));
}

Grid expand(const StudySpec& spec, const std::string& out_dir) {
  Grid g;
  g.out = out_dir;
  for (const auto& m : spec.models) {
    if (!m.per_seed) {
      g.add(make_run(spec, m, spec.seeds.front(), g));
      continue;
    }
    for (int seed : spec.seeds) g.add(make_run(spec, m, seed, g));
  }
  for (const auto& need : needs(spec))
    for (auto& r : g.runs) {
      bool serves = r.model == need.model;
      for (const auto& a : r.aliases) serves |= a.first == need.model;
      if (!serves) continue;
      bool have = false;
      for (const auto& s : r.steps) have |= s.file(spec) == need.step.file(spec);
      if (!have) r.steps.push_back(need.step);
    }
  return g;
}

bool trained(const Run& r) { return fs::exists(fs::path(r.dir) / "DONE"); }

bool has_checkpoint(const Run& r) {
  const auto dir = fs::path(r.dir) / "checkpoints";
  return fs::is_directory(dir) && !fs::is_empty(dir);
}

bool must_retrain(const Run& r, const Grid& g) {
  if (!trained(r) || has_checkpoint(r)) return false;
  for (const auto& child : g.runs)
    if (child.parent == r.id && !trained(child)) return true;
  return false;
}

bool finished(const Run& r, const StudySpec& spec) {
  if (!trained(r)) return false;
  for (const auto& s : r.steps)
    if (!fs::exists(fs::path(r.dir) / s.file(spec))) return false;
  return true;
}

}  // namespace smoes::study
