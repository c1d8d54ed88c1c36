#include "study/execute.h"

#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/process.h"
#include "core/runtime.h"

namespace smoes::study {
namespace fs = std::filesystem;
namespace {

std::string quoted(const std::string& s) {
  if (s.find_first_of(" \t'\"$\\;&|<>()*?[]{}!#~") == std::string::npos && !s.empty()) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + quoted(a);
  return s;
}

int threads_per_job(const ExecOptions& o) {
  return o.threads > 0 ? o.threads : std::max(1, default_thread_count() / std::max(1, o.jobs));
}

// Starts argv with SMOES_THREADS set and stdout/stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log, int threads) {
  return spawn_process(argv, {"SMOES_THREADS=" + std::to_string(threads)}, log);
}

bool exited_ok(pid_t pid) { return wait_process(pid) == 0; }

// Runs argv to the end, its output appended to `log`; false when it failed.
bool logged(const std::vector<std::string>& argv, const std::string& log, const ExecOptions& o) {
  std::ofstream(log, std::ios::app) << "$ " << command_line(argv) << "\n";
  return exited_ok(spawn(argv, log, threads_per_job(o)));
}

void run_command(const Run& run, const std::vector<std::string>& argv, const ExecOptions& o) {
  const auto log = (fs::path(run.dir) / "study.log").string();
  if (!logged(argv, log, o)) {
    write_file_atomic((fs::path(run.dir) / "FAILED").string(), command_line(argv) + "\n");
    throw Error("study: run " + run.id + ": `" + command_line(argv) + "` failed; its output is in " + log);
  }
}

// A run waits for the run it starts from (another machine or job may be training it).
void wait_for_parent(const Run& run, const Grid& grid) {
  if (run.parent.empty()) return;
  const auto& parent = grid.get(run.parent);
  for (int waited = 0; !trained(parent) || must_retrain(parent, grid); ++waited) {
    if (fs::exists(fs::path(parent.dir) / "FAILED"))
      throw Error("study: run " + run.id + " starts from " + parent.id + ", which failed (see " + parent.dir +
                  "/study.log)");
    if (waited % 60 == 0) spdlog::info("study: {} waits for {} to finish training", run.id, parent.id);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

void prepare_world(const StudySpec& spec, const std::string& out, const ExecOptions& o) {
  fs::create_directories(out);
  const auto log = (fs::path(out) / "world.log").string();
  const auto manifest = fs::path(spec.world_root) / "MANIFEST.json";
  if (!fs::exists(manifest)) {
    spdlog::info("study: generating the {} world in {}", spec.world_preset, spec.world_root);
    if (!logged({o.exe, "world", "generate", "--out", spec.world_root, "--preset", spec.world_preset, "--seed",
                 std::to_string(spec.world_seed)},
                log, o))
      throw Error("study: generating the world failed; see " + log);
  }
  auto j = nlohmann::json::parse(read_file(manifest.string()), nullptr, false);
  const std::string preset = j.is_object() ? j.value("preset", "") : "";
  if (preset != spec.world_preset)
    throw Error(manifest.string() + ": preset '" + preset + "', but " + spec.source + " wants the '" +
                spec.world_preset + "' world (give another --world, or remove that folder)");
  if (!fs::exists(fs::path(spec.world_root) / "tokenizer.model") &&
      !logged({o.exe, "tokenizer", "train", "--world", spec.world_root}, log, o))
    throw Error("study: training the tokenizer failed; see " + log);
}

std::string self_executable() { return fs::read_symlink("/proc/self/exe").string(); }

namespace {

// The last record of a run's metrics.jsonl (null when there is none).
nlohmann::json last_metrics(const Run& run) {
  auto path = fs::path(run.dir) / "metrics.jsonl";
  if (!fs::exists(path)) return nullptr;
  auto records = read_metrics(path.string());
  return records.empty() ? nlohmann::json() : records.back();
}

// A carried-over run without checkpoints forgets that it trained (keeping its
// measurements and the final record it logged), so that it trains again.
void begin_retrain(const Run& run) {
  spdlog::info("study: {} has no checkpoint and a child must start from it: training it again", run.id);
  nlohmann::json j{{"first_final", last_metrics(run)}};
  write_file_atomic((fs::path(run.dir) / "study_retrain.json").string(), j.dump(2) + "\n");
  fs::remove(fs::path(run.dir) / "DONE");
}

// The retrain must reproduce the first training: same step, same final loss.
void finish_retrain(const Run& run, const std::string& file, double seconds) {
  auto j = nlohmann::json::parse(read_file(file), nullptr, false);
  if (j.is_discarded()) j = nlohmann::json::object();
  const auto first = j.value("first_final", nlohmann::json()), now = last_metrics(run);
  auto field = [](const nlohmann::json& r, const char* k) {
    return r.is_object() ? r.value(k, nlohmann::json()) : nlohmann::json();
  };
  const bool same = !field(now, "loss").is_null() && field(first, "loss") == field(now, "loss") &&
                    field(first, "step") == field(now, "step");
  if (!same)
    spdlog::warn(
        "study: {} trained again ended at loss {} where its first training ended at {}: the children "
        "start from a different model than the one measured",
        run.id, field(now, "loss").dump(), field(first, "loss").dump());
  j["retrain_seconds"] = seconds;
  j["same_final_loss"] = same;
  write_file_atomic(file, j.dump(2) + "\n");
}

void train(const Run& run, const ExecOptions& o) {
  const auto config = (fs::path(run.dir) / "study_config.json").string();
  write_file_atomic(config, run.config.dump(2) + "\n");
  auto t0 = std::chrono::steady_clock::now();
  run_command(run, {o.exe, "train", "--config", config}, o);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto retrain = (fs::path(run.dir) / "study_retrain.json").string();
  const auto info_file = (fs::path(run.dir) / "study_run.json").string();
  if (fs::exists(retrain)) finish_retrain(run, retrain, seconds);
  if (!fs::exists(retrain) || !fs::exists(info_file)) {  // the first training's time stands
    nlohmann::json info{{"id", run.id}, {"model", run.model}, {"seed", run.seed}, {"train_seconds", seconds}};
    write_file_atomic(info_file, info.dump(2) + "\n");
  }
  write_file_atomic((fs::path(run.dir) / "DONE").string(), "");
}

}  // namespace

void run_one(const Run& run, const Grid& grid, const StudySpec& spec, const ExecOptions& o) {
  wait_for_parent(run, grid);
  fs::create_directories(run.dir);
  fs::remove(fs::path(run.dir) / "FAILED");
  if (must_retrain(run, grid)) begin_retrain(run);
  if (!trained(run)) train(run, o);
  for (const auto& step : run.steps)
    if (!fs::exists(fs::path(run.dir) / step.file(spec))) {
      auto argv = step.args(spec, run.dir);
      argv.insert(argv.begin(), o.exe);
      run_command(run, argv, o);
    }
}

namespace {

// The `smoes study --only` command of one run.
std::vector<std::string> only_command(const Grid& grid, const ExecOptions& o, const std::string& id) {
  std::vector<std::string> argv = {o.exe, "study", "--spec", o.spec_path, "--out", grid.out, "--only", id};
  if (!o.world.empty()) argv.insert(argv.end(), {"--world", o.world});
  return argv;
}

}  // namespace

ExecReport execute(const Grid& grid, const StudySpec& spec, const ExecOptions& o) {
  ExecReport rep;
  rep.runs = int(grid.runs.size());
  std::vector<const Run*> todo;
  for (const auto& r : grid.runs) {
    if (finished(r, spec) && !must_retrain(r, grid))
      ++rep.already_done;
    else
      todo.push_back(&r);
  }
  spdlog::info("study: {} runs, {} already finished, {} to do ({} at a time, {} threads each)", rep.runs,
               rep.already_done, todo.size(), o.jobs, threads_per_job(o));
  Progress progress("study runs", rep.runs, 1.0);
  int done = rep.already_done;
  progress.update(done);
  if (o.jobs <= 1) {
    for (const Run* r : todo) {
      spdlog::info("study: run {} ({})", r->id, r->dir);
      run_one(*r, grid, spec, o);
      ++rep.executed;
      progress.update(++done, r->id);
    }
    progress.finish();
    return rep;
  }
  // N at a time; a run starts once its parent has trained (children wait for it anyway).
  std::map<pid_t, const Run*> running;
  std::string failed;
  size_t next = 0;
  while (next < todo.size() || !running.empty()) {
    while (failed.empty() && next < todo.size() && int(running.size()) < o.jobs) {
      const Run* r = todo[next++];
      fs::create_directories(r->dir);
      running[spawn(only_command(grid, o, r->id), (fs::path(r->dir) / "study_driver.log").string(),
                    threads_per_job(o))] = r;
    }
    if (running.empty()) break;
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const Run* r = it->second;
    running.erase(it);
    if (exit_code(status) != 0) {
      failed = r->id;
      spdlog::error("study: run {} failed; see {}/study_driver.log", r->id, r->dir);
      continue;
    }
    ++rep.executed;
    progress.update(++done, r->id);
  }
  progress.finish();
  if (!failed.empty())
    throw Error("study: run " + failed + " failed; the runs that finished are kept (rerun to continue)");
  return rep;
}

std::string plan(const Grid& grid, const ExecOptions& o) {
  std::string text =
      "# smoes study: one command per run, parents before children (a run waits for the run it\n"
      "# starts from). Run them with GNU parallel (`parallel < plan.txt`), a Slurm array or any\n"
      "# scheduler on machines sharing this folder; then `smoes study --collect` writes the report.\n";
  // Relative paths in the spec and configs are relative to this folder.
  const auto here = fs::current_path().string();
  for (const auto& r : grid.runs)
    text += "cd " + quoted(here) + " && " + command_line(only_command(grid, o, r.id)) + "\n";
  return text;
}

}  // namespace smoes::study
