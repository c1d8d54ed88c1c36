#include "study/step.h"

#include <cstdio>

#include "study/spec.h"

namespace smoes::study {
namespace {

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

void add_each(std::vector<std::string>& args, const char* flag, const std::vector<std::string>& values) {
  for (const auto& v : values) args.insert(args.end(), {flag, v});
}

}  // namespace

std::string Step::file(const StudySpec& spec) const {
  std::string name = "study_" + kind + "_" + spec.split + "_" + joined(tasks, "+");
  if (kind == "skip") {
    char r[16];
    std::snprintf(r, sizeof r, "%.2f", ratio);
    name += "_" + joined(methods, "+") + "_r" + r + "_n" + std::to_string(spec.skip_limit) + "_c" +
            std::to_string(spec.calibration_samples);
  } else {
    name += "_n" + std::to_string(kind == "routing" ? spec.routing_examples : spec.eval_limit);
  }
  return name + ".json";
}

std::vector<std::string> Step::args(const StudySpec& spec, const std::string& run_dir) const {
  const std::string out = run_dir + "/" + file(spec);
  std::vector<std::string> a;
  if (kind == "eval") {
    a = {"eval", "--ckpt", run_dir, "--split", spec.split, "--limit", std::to_string(spec.eval_limit)};
  } else if (kind == "routing") {
    a = {"analyze",   "routing",  "--ckpt",     run_dir,
         "--split",   spec.split, "--examples", std::to_string(spec.routing_examples),
         "--devices", "2"};  // any even E divides 2
  } else {
    char r[16];
    std::snprintf(r, sizeof r, "%.2f", ratio);
    a = {"skip",
         "--ckpt",
         run_dir,
         "--split",
         spec.split,
         "--limit",
         std::to_string(spec.skip_limit),
         "--ratio",
         r,
         "--calibration-samples",
         std::to_string(spec.calibration_samples),
         "--candidates",
         std::to_string(spec.candidates)};
    add_each(a, "--method", methods);
  }
  add_each(a, "--task", tasks);
  a.insert(a.end(), {"--out", out});
  return a;
}

}  // namespace smoes::study
