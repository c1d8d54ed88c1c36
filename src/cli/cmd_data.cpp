// smoes data inspect: load a dataset tolerantly and print counts, samples and problems.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "data/example.h"
#include "tasks/tasks.h"

namespace smoes::cli {
namespace {

// One line per field: newlines inside prompts are shown as "\\n".
std::string one_line(std::string s) {
  for (size_t at = s.find('\n'); at != std::string::npos; at = s.find('\n', at + 2)) s.replace(at, 1, "\\n");
  return s;
}

void print_example(const data::Example& ex) {
  std::printf("  - id %s, %zu image(s)%s\n", ex.id.c_str(), ex.image_paths.size(),
              ex.image_paths.empty() ? "" : (": " + ex.image_paths.front()).c_str());
  if (!ex.prompt.empty()) std::printf("    prompt:  %s\n", one_line(ex.prompt).c_str());
  for (size_t i = 0; i < ex.targets.size() && i < 3; ++i) std::printf("    target:  %s\n", ex.targets[i].c_str());
  for (size_t i = 0; i < ex.choices.size(); ++i)
    std::printf("    choice%s %s\n", int(i) == ex.answer_index ? "*:" : ": ", ex.choices[i].c_str());
  if (ex.box.size() == 4)
    std::printf("    box:     [%.1f, %.1f, %.1f, %.1f] in %dx%d\n", ex.box[0], ex.box[1], ex.box[2], ex.box[3],
                ex.image_width, ex.image_height);
}

}  // namespace

Command add_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Dataset tools");
  data->require_subcommand(1);
  auto* inspect = data->add_subcommand("inspect", "Load a dataset tolerantly: counts, samples, problems");
  struct Options {
    std::string format, path, split = "train";
    int samples = 3;
  };
  auto o = std::make_shared<Options>();
  std::string names;
  for (const auto& t : tasks::all_tasks()) names += (names.empty() ? "" : ", ") + t.name;
  inspect->add_option("--format", o->format, "task format: " + names)->required();
  inspect->add_option("--path", o->path, "dataset root, laid out as `smoes world generate` writes it")->required();
  inspect->add_option("--split", o->split, "train, val or test")->capture_default_str();
  inspect->add_option("--samples", o->samples, "examples to print")->capture_default_str();
  return {data, [o] {
            const auto& task = tasks::find_task(o->format);
            data::LoadReport report;
            auto examples = task.load(o->path, o->split, /*strict=*/false, &report);
            std::printf("%s %s under %s: %zu records read, %zu examples, %zu skipped\n", task.name.c_str(),
                        o->split.c_str(), o->path.c_str(), report.records, examples.size(), report.skipped);
            for (const auto& [reason, n] : report.reasons) std::printf("  skipped %zu: %s\n", n, reason.c_str());
            for (const auto& p : report.first_problems) std::printf("  problem: %s\n", p.c_str());
            std::printf("samples:\n");
            for (size_t i = 0; i < examples.size() && int(i) < o->samples; ++i) print_example(examples[i]);
          }};
}

}  // namespace smoes::cli
