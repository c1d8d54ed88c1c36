// Running the grid: each run trains (`smoes train` on its resolved config,
// resuming from its checkpoints) and then makes each missing measurement
// (`smoes eval`, `smoes analyze routing`, `smoes skip`), all as child
// processes of the smoes executable whose output goes to <run>/study.log.
// Finished parts are never redone, so a killed study continues where it
// stopped. `--jobs N` runs N runs at once, each its own `smoes study --only`.
#pragma once
#include <string>
#include <vector>

#include "study/grid.h"

namespace smoes::study {

struct ExecOptions {
  std::string exe;        // the smoes executable
  std::string spec_path;  // passed on to `--only` children
  std::string world;      // --world given to this study ("" = the spec's), passed on too
  int jobs = 1;
  int threads = 0;  // per job (SMOES_THREADS of each child); 0 = cores / jobs
};

struct ExecReport {
  int runs = 0, already_done = 0, executed = 0;
};

// The run's missing parts, in order. Throws smoes::Error naming the run when
// the run it starts from has not finished training, or a command fails (with
// its log file).
void run_one(const Run& run, const Grid& grid, const StudySpec& spec, const ExecOptions& o);
ExecReport execute(const Grid& grid, const StudySpec& spec, const ExecOptions& o);

// Generates the spec's world and its tokenizer when absent (log: <out>/world.log);
// throws when the world there was made with another preset.
void prepare_world(const StudySpec& spec, const std::string& out, const ExecOptions& o);

// One shell command per run, in an order that respects `from` (a run's
// parent is on an earlier line): the `--plan` file.
std::string plan(const Grid& grid, const ExecOptions& o);

// The path of this process's executable (/proc/self/exe).
std::string self_executable();

}  // namespace smoes::study
