// One measurement of a trained run, made by a smoes CLI command whose JSON
// output lands in the run's folder: an evaluation, a routing profile or an
// expert-skipping comparison. Its file name says what it measured, so a
// finished measurement is found again and never redone.
#pragma once
#include <string>
#include <vector>

namespace smoes::study {

struct StudySpec;

struct Step {
  Step(std::string kind, std::vector<std::string> tasks, std::vector<std::string> methods = {}, double ratio = 0)
      : kind(std::move(kind)), tasks(std::move(tasks)), methods(std::move(methods)), ratio(ratio) {}

  std::string kind;  // "eval", "routing" or "skip"
  std::vector<std::string> tasks;
  std::vector<std::string> methods;  // skip: smoes skip --method
  double ratio = 0;                  // skip: target skip ratio

  // The result file's name inside the run folder.
  std::string file(const StudySpec& spec) const;
  // The smoes CLI arguments that make it (after the executable).
  std::vector<std::string> args(const StudySpec& spec, const std::string& run_dir) const;
};

}  // namespace smoes::study
