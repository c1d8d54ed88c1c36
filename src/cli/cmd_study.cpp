// smoes study: the five research questions (METHOD.md section 5) as one
// command: the grid of a spec (configs/study/grid/), run, resumed, planned for
// other machines, and written up as a report (docs/STUDY.md).
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "core/files.h"
#include "study/execute.h"
#include "study/report.h"

namespace smoes::cli {
namespace {

struct StudyArgs {
  std::string preset = "quick", spec, out, only, world;
  bool plan = false, collect = false;
  int jobs = 1;
};

void run(const StudyArgs& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto spec_path = o.spec.empty() ? study::preset_path(".", o.preset) : o.spec;
  if (!std::filesystem::exists(spec_path))
    throw Error("study: no spec " + spec_path + (o.spec.empty() ? " (presets: quick, full; or give --spec)" : ""));
  auto spec = study::load_spec(spec_path);
  if (!o.world.empty()) spec.world_root = o.world;
  const auto label = o.spec.empty() ? o.preset : spec_path;
  const auto out = o.out.empty() ? "out/study-" + o.preset : o.out;
  auto grid = study::expand(spec, out);
  study::ExecOptions ex;
  ex.exe = study::self_executable();
  ex.spec_path = spec_path;
  ex.jobs = o.jobs;
  ex.world = o.world;
  if (!o.only.empty()) {
    study::run_one(grid.get(o.only), grid, spec, ex);
    return;
  }
  if (!o.collect) study::prepare_world(spec, out, ex);
  if (o.plan) {
    const auto path = out + "/plan.txt";
    write_file_atomic(path, study::plan(grid, ex));
    std::printf("wrote %s (%zu runs)\n", path.c_str(), grid.runs.size());
    return;
  }
  if (!o.collect) {
    auto rep = study::execute(grid, spec, ex);
    spdlog::info("study: {} runs executed, {} were already finished", rep.executed, rep.already_done);
  }
  study::ReportInputs in{label, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  auto answers = study::write_report(grid, spec, in);
  std::printf("report: %s/report.html (and report.md, results.json)\n", out.c_str());
  for (const auto& a : answers) std::printf("%s: %s\n", a.title.c_str(), a.verdict.c_str());
}

}  // namespace

Command add_study(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("study", "The five research questions: train, evaluate, analyse, report (docs/STUDY.md)");
  auto o = std::make_shared<StudyArgs>();
  cmd->add_option("--preset", o->preset, "quick (a pipeline check, minutes) or full (the evidence, hours)")
      ->capture_default_str();
  cmd->add_option("--spec", o->spec, "a study spec file instead of a preset (see configs/study/grid/)");
  cmd->add_option("--out", o->out, "study folder (default: out/study-<preset>)");
  cmd->add_option("--jobs", o->jobs, "runs at once on this machine (threads split between them)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--plan", o->plan, "write <out>/plan.txt, one shell command per run, and stop");
  cmd->add_flag("--collect", o->collect, "write the report from the runs that have finished, run nothing");
  cmd->add_option("--only", o->only, "run one run of the grid (the commands of --plan)");
  cmd->add_option("--world", o->world, "dataset root instead of the spec's world.root");
  return {cmd, [o] { run(*o); }};
}

}  // namespace smoes::cli
