// smoes data inspect: load a dataset tolerantly and print counts, samples and
// problems, check every image it names, and dump every record as JSON.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/files.h"
#include "data/example.h"
#include "data/image_check.h"
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
  for (size_t i = 1; i < ex.image_paths.size(); ++i) std::printf("    image:   %s\n", ex.image_paths[i].c_str());
  if (!ex.prompt.empty()) std::printf("    prompt:  %s\n", one_line(ex.prompt).c_str());
  for (const auto& t : ex.targets) std::printf("    target:  %s\n", one_line(t).c_str());
  for (size_t i = 0; i < ex.choices.size(); ++i)
    std::printf("    choice%s %s\n", int(i) == ex.answer_index ? "*:" : ": ", ex.choices[i].c_str());
  if (ex.box.size() == 4)
    std::printf("    box:     [%.1f, %.1f, %.1f, %.1f] in %dx%d\n", ex.box[0], ex.box[1], ex.box[2], ex.box[3],
                ex.image_width, ex.image_height);
  if (!ex.objects.empty()) std::printf("    objects: %zu\n", ex.objects.size());
  for (const auto& [k, v] : ex.meta) std::printf("    %s: %s\n", k.c_str(), one_line(v).c_str());
}

nlohmann::json to_json(const data::Example& ex) {
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& o : ex.objects)
    objects.push_back({{"label", o.label},
                       {"category", o.category},
                       {"box", o.box},
                       {"polygons", o.polygons},
                       {"attributes", o.attributes}});
  return {{"task", ex.task},
          {"id", ex.id},
          {"image_paths", ex.image_paths},
          {"prompt", ex.prompt},
          {"targets", ex.targets},
          {"choices", ex.choices},
          {"answer_index", ex.answer_index},
          {"box", ex.box},
          {"image_width", ex.image_width},
          {"image_height", ex.image_height},
          {"objects", objects},
          {"meta", ex.meta}};
}

// Every image reference, checked: counts, then examples of each problem.
void print_image_check(std::vector<data::Example> examples) {
  auto check = data::check_images(examples, /*strict=*/false, nullptr);
  std::printf("images: %zu file(s) referenced, %zu missing, %zu unreadable; %zu example(s) have all their images\n",
              check.images, check.missing, check.bad, examples.size());
  for (const auto& p : check.first_problems) std::printf("  image problem: %s\n", p.c_str());
}

}  // namespace

Command add_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Dataset tools");
  data->require_subcommand(1);
  auto* inspect =
      data->add_subcommand("inspect", "Load a dataset tolerantly: counts, samples, problems, every image checked");
  struct Options {
    std::string format, path, split = "train", json;
    int samples = 3;
  };
  auto o = std::make_shared<Options>();
  std::string names;
  for (const auto& t : tasks::all_tasks()) names += (names.empty() ? "" : ", ") + t.name;
  inspect->add_option("--format", o->format, "task format: " + names)->required();
  inspect->add_option("--path", o->path, "dataset root, laid out as `smoes world generate` writes it")->required();
  inspect->add_option("--split", o->split, "train, val or test")->capture_default_str();
  inspect->add_option("--samples", o->samples, "examples to print")->check(at_least(0))->capture_default_str();
  inspect->add_option("--json", o->json, "also write every parsed record, all fields, to this JSON file");
  return {data, [o] {
            const auto& task = tasks::find_task(o->format);
            data::LoadReport report;
            auto examples = task.load(o->path, o->split, /*strict=*/false, &report);
            std::printf("%s %s under %s: %zu records read, %zu examples, %zu skipped\n", task.name.c_str(),
                        o->split.c_str(), o->path.c_str(), report.records, examples.size(), report.skipped);
            for (const auto& [reason, n] : report.reasons) std::printf("  skipped %zu: %s\n", n, reason.c_str());
            for (const auto& p : report.first_problems) std::printf("  problem: %s\n", p.c_str());
            print_image_check(examples);
            std::printf("samples:\n");
            for (size_t i = 0; i < examples.size() && int(i) < o->samples; ++i) print_example(examples[i]);
            if (!o->json.empty()) {
              nlohmann::json all = nlohmann::json::array();
              for (const auto& ex : examples) all.push_back(to_json(ex));
              write_file_atomic(o->json, all.dump(1) + "\n");
              std::printf("wrote %zu record(s) to %s\n", examples.size(), o->json.c_str());
            }
          }};
}

}  // namespace smoes::cli
