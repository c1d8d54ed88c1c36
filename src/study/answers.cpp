#include "study/answers.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/files.h"
#include "core/log.h"
#include "core/plot.h"
#include "study/answer_kit.h"

namespace smoes::study {
namespace fs = std::filesystem;

nlohmann::json Table::to_json() const { return {{"title", title}, {"columns", columns}, {"rows", rows}}; }

nlohmann::json Answer::to_json() const {
  nlohmann::json t = nlohmann::json::array(), f = nlohmann::json::array();
  for (const auto& x : tables) t.push_back(x.to_json());
  for (const auto& x : figures) f.push_back({{"file", x.file}, {"caption", x.caption}});
  return {{"id", id},    {"title", title}, {"question", question}, {"verdict", verdict}, {"verdicts", verdicts},
          {"tables", t}, {"figures", f},   {"notes", notes}};
}

const nlohmann::json* Results::file(const std::string& model, int seed, const Step& step) {
  const Run* run = grid_.find(model, seed);
  if (!run) return nullptr;
  auto path = (fs::path(run->dir) / step.file(spec_)).string();
  auto it = cache_.find(path);
  if (it == cache_.end()) {
    nlohmann::json j;  // null when absent or unreadable: the run has not finished it
    if (fs::exists(path)) {
      try {
        j = nlohmann::json::parse(read_file(path));
      } catch (const std::exception& e) {
        spdlog::warn("study: {} unreadable ({}); treated as missing", path, e.what());
      }
    }
    it = cache_.emplace(path, std::move(j)).first;
  }
  return it->second.is_null() ? nullptr : &it->second;
}

const nlohmann::json* Results::json(const std::string& model, int seed, const Step& step, const std::string& pointer) {
  const auto* j = file(model, seed, step);
  if (!j) return nullptr;
  nlohmann::json::json_pointer p(pointer);
  return j->contains(p) ? &j->at(p) : nullptr;
}

void Results::record(const std::string& model, int seed, const Step& step, const std::string& pointer, double v) {
  const Run* run = grid_.find(model, seed);
  measurements.push_back({{"model", model},
                          {"seed", seed},
                          {"file", (fs::path(run->dir) / step.file(spec_)).string()},
                          {"pointer", pointer},
                          {"value", v}});
}

std::optional<double> Results::value(const std::string& model, int seed, const Step& step, const std::string& pointer) {
  const auto* v = json(model, seed, step, pointer);
  if (!v || !v->is_number()) return std::nullopt;
  record(model, seed, step, pointer, v->get<double>());
  return v->get<double>();
}

std::string headline_metric(const std::string& task) {
  if (task == "coco_captions" || task == "cc") return "CIDEr-D";
  if (task == "refcoco") return "Acc@0.5";
  return "accuracy";
}

std::vector<Answer> answer_all(Results& r) {
  using Fn = Answer (*)(Results&, const nlohmann::json&);
  const std::vector<std::pair<std::string, Fn>> all = {
      {"rq1", answer_rq1}, {"rq2", answer_rq2}, {"rq3", answer_rq3}, {"rq4", answer_rq4}, {"rq5", answer_rq5}};
  std::vector<Answer> out;
  for (const auto& [id, fn] : all)
    if (auto q = r.spec().questions.find(id); q != r.spec().questions.end()) out.push_back(fn(r, *q));
  return out;
}

namespace kit {

BySeed collect(Results& r, const std::string& model, const Step& step, const std::string& pointer) {
  BySeed out;
  for (int s : r.seeds())
    if (auto v = r.value(model, s, step, pointer)) out[s] = *v;
  return out;
}

BySeed zip(const BySeed& a, const BySeed& b, const std::function<double(double, double)>& f) {
  BySeed out;
  for (const auto& [s, x] : a)
    if (auto it = b.find(s); it != b.end()) out[s] = f(x, it->second);
  return out;
}

BySeed mean_of(const std::vector<BySeed>& parts) {
  if (parts.empty()) return {};
  BySeed sum = parts.front();
  for (size_t i = 1; i < parts.size(); ++i) sum = zip(sum, parts[i], [](double a, double b) { return a + b; });
  for (auto& [s, v] : sum) v /= double(parts.size());
  return sum;
}

Estimate estimate(const BySeed& v) {
  std::vector<double> x;
  for (const auto& [s, y] : v) x.push_back(y);
  return bootstrap(x);
}

Estimate difference(const BySeed& a, const BySeed& b) {
  return estimate(zip(a, b, [](double x, double y) { return x - y; }));
}

std::string claim(const std::string& text, const Estimate& e, bool positive) {
  return text + ": " + format(e) + " -> " + verdict(e, positive);
}

std::string metric_pointer(const std::string& task) { return "/metrics/" + task + "/" + headline_metric(task); }

bool figure(Results& r, Answer& a, const std::string& name, const std::string& caption, const std::string& data,
            const std::string& body) {
  if (!have_gnuplot()) {
    a.notes.push_back("figure '" + caption +
                      "' not drawn: gnuplot is not installed (scripts/bootstrap.sh installs it)");
    return false;
  }
  const auto dir = fs::path(r.grid().out) / "figures";
  fs::create_directories(dir);
  render_gnuplot((dir / name).string(), data, "set termoption noenhanced\n" + body);  // labels are plain text
  a.figures.push_back({"figures/" + name + ".png", caption});
  return true;
}

void learning_curves(Results& r, Answer& a, const std::string& name,
                     const std::vector<std::pair<std::string, std::string>>& label_model) {
  std::string data, plots;
  int k = 0;
  for (const auto& [label, model] : label_model) {
    const Run* run = r.grid().find(model, r.seeds().front());
    if (!run || !fs::exists(fs::path(run->dir) / "metrics.jsonl")) continue;
    std::string block;
    for (const auto& j : read_metrics((fs::path(run->dir) / "metrics.jsonl").string())) {
      if (j.contains("step") && j.contains("loss") && j["loss"].is_number())
        block += std::to_string(j["step"].get<int64_t>()) + " " + std::to_string(j["loss"].get<double>()) + "\n";
    }
    if (block.empty()) continue;
    data += "$c" + std::to_string(k) + " << EOD\n" + block + "EOD\n";
    plots += std::string(plots.empty() ? "plot " : ", ") + "$c" + std::to_string(k) +
             " using 1:2 with lines lw 2 title \"" + label + "\"";
    ++k;
  }
  if (k == 0) return;
  figure(r, a, name, "Training loss against step (seed " + std::to_string(r.seeds().front()) + ")", data,
         "set xlabel \"step\"\nset ylabel \"training loss\"\nset key top right\nset grid\n" + plots + "\n");
}

std::vector<std::pair<std::string, std::string>> roles(const nlohmann::json& q, const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [label, m] : q.at(key).items()) out.emplace_back(label, m.get<std::string>());
  return out;
}

}  // namespace kit
}  // namespace smoes::study
