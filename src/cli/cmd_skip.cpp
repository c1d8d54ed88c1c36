// smoes skip: expert skipping on a trained run (skip/run.h), measured against
// the unskipped model in the same process.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "core/files.h"
#include "core/git_revision.h"
#include "eval/results.h"
#include "skip/methods.h"
#include "skip/run.h"
#include "skip/sweep_plot.h"
#include "train/run.h"

namespace smoes::cli {
namespace {

struct SkipArgs {
  std::string ckpt, root, out, replot;
  bool sweep = false;
  skip::SkipOptions skip;
};

std::string num(const nlohmann::json& v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v.is_number() ? v.get<double>() : 0.0);
  return buf;
}

// Every numeric metric of every task, "task.metric=value".
std::string metrics_line(const nlohmann::json& metrics) {
  std::string line;
  for (const auto& [task, m] : metrics.items())
    for (const auto& [name, value] : m.items())
      if (value.is_number()) line += " " + task + "." + name + "=" + num(value);
  return line;
}

void print(const nlohmann::json& r) {
  std::printf("%-16s %6s  %-6s %-6s %-6s  %-8s %-8s %-8s %-8s  %s\n", "method", "target", "skip", "text", "vision",
              "GFLOP/tk", "prefill", "decode", "moe-pre", "metrics");
  std::printf("%-16s %6s  %-6s %-6s %-6s  %-8s %-8s %-8s %-8s %s\n", "unskipped", "-", "0", "0", "0",
              num(r["baseline"]["gflops_per_token"]).c_str(), "1", "1", "1",
              metrics_line(r["baseline"]["metrics"]).c_str());
  for (const auto& run : r["runs"]) {
    const auto& s = run["skip_ratio"];
    const auto& x = run["speedup"];
    std::printf("%-16s %6s  %-6s %-6s %-6s  %-8s %-8s %-8s %-8s %s\n", run["method"].get<std::string>().c_str(),
                num(run["target_ratio"]).c_str(), num(s["all"]).c_str(), num(s["text"]).c_str(),
                num(s["vision"]).c_str(), num(run["gflops_per_token"]).c_str(), num(x["prefill"]).c_str(),
                num(x["decode"]).c_str(), num(x["moe_prefill"]).c_str(), metrics_line(run["metrics"]).c_str());
  }
}

}  // namespace

Command add_skip(CLI::App& app) {
  auto* cmd = app.add_subcommand("skip", "Expert skipping (MoDES, NAEE, baselines): accuracy, skip ratio, FLOPs, speedup");
  auto o = std::make_shared<SkipArgs>();
  auto& s = o->skip;
  std::string methods_help = "skipping method(s):";
  for (const auto& m : skip::skip_methods()) methods_help += " " + m;
  cmd->add_option("--ckpt", o->ckpt, "checkpoint file or run directory");
  cmd->add_option("--method", s.methods, methods_help)->capture_default_str();
  cmd->add_option("--ratio", s.ratios, "target skip ratio(s) in [0, 1) of the routed slots")->check(CLI::Range(0.0, 0.999999))->capture_default_str();
  cmd->add_option("--task", s.tasks, "task(s) to score");
  cmd->add_option("--split", s.split, "split scored")->capture_default_str();
  cmd->add_option("--limit", s.limit, "score the first N examples of each task (0 = all)")->check(at_least(0))->capture_default_str();
  cmd->add_option("--batch", s.batch_size, "generation and timing batch size")->check(at_least(1))->capture_default_str();
  cmd->add_option("--root", o->root, "dataset root (default: the run's data.root)");
  cmd->add_option("--calibration-task", s.calibration.task, "task whose examples calibrate (default: the first --task)");
  cmd->add_option("--calibration-split", s.calibration.split, "its split")->capture_default_str();
  cmd->add_option("--calibration-samples", s.calibration.samples, "calibration examples")->check(at_least(1))->capture_default_str();
  cmd->add_option("--calibration", s.calibration_file,
                  "calibration file to use (default: <run>/calibration/<task>_<split>_n<N>_s<seed>_<fingerprint>.json, made once)");
  cmd->add_option("--candidates", s.candidates, "MoDES thresholds per modality for the frontier search")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_option("--search-samples", s.search_samples,
                 "calibration examples scoring each MoDES frontier pair (the first ones)")
      ->check(at_least(1))
      ->capture_default_str();
  cmd->add_option("--keep", s.keep, "naee-prune: experts kept per MoE layer (default: round(E * (1 - ratio)))")
      ->check(at_least(1));
  cmd->add_option("--timing-batches", s.timing_batches, "prompt batches timed for the speedups")->check(at_least(1))->capture_default_str();
  cmd->add_option("--seed", s.seed, "random skipping's seed")->capture_default_str();
  cmd->add_flag("--sweep", o->sweep,
                "every skipping method (not naee-prune) at ratios 0.2 0.4 0.6 0.8 0.9 (unless --method/--ratio say "
                "otherwise), plotted");
  cmd->add_option("--out", o->out, "result JSON (default: <run>/skip_<split>.json, or skip_sweep_<split>.json)");
  cmd->add_option("--replot", o->replot, "redraw the plot of a --sweep result JSON (no model needed)");
  return {cmd, [o, cmd] {
            if (!o->replot.empty()) {
              auto j = nlohmann::json::parse(read_file(o->replot), nullptr, /*allow_exceptions=*/false);
              if (j.is_discarded() || !j.contains("skip") || !j["skip"].contains("baseline"))
                throw Error(o->replot + ": not a smoes skip result (no skip.baseline)");
              const auto task = j["skip"]["baseline"]["metrics"].begin().key();
              auto plot = std::filesystem::path(o->replot).replace_extension().string();
              if (skip::plot_sweep(j["skip"], task, plot)) std::printf("wrote %s.png and .svg\n", plot.c_str());
              return;
            }
            if (o->ckpt.empty() || o->skip.tasks.empty()) throw Error("skip: give --ckpt and at least one --task");
            auto run = train::load_run(o->ckpt);
            data::ImageCache cache(run.cfg.data.image_cache, run.cfg.model.image_size);
            auto run_dir = std::filesystem::is_directory(o->ckpt)
                               ? std::filesystem::path(o->ckpt)
                               : std::filesystem::path(o->ckpt).parent_path().parent_path();
            skip::SkipSubject subject{run.model, run.tok.get(), &cache,
                                      o->root.empty() ? run.cfg.data.root : o->root, run.checkpoint,
                                      run_dir.string()};
            if (o->sweep) {
              // Pruning keeps k slots per token, so it has no place on the skip-ratio or FLOP
              // axes: it joins a sweep only when named (--method naee-prune --keep r).
              if (cmd->count("--method") == 0) {
                o->skip.methods = skip::skip_methods();
                auto& m = o->skip.methods;
                m.erase(std::remove(m.begin(), m.end(), "naee-prune"), m.end());
              }
              if (cmd->count("--ratio") == 0) o->skip.ratios = {0.2, 0.4, 0.6, 0.8, 0.9};
            }
            auto result = skip::run_skip(subject, o->skip);
            print(result);
            if (o->out.empty())
              o->out = (run_dir / ((o->sweep ? "skip_sweep_" : "skip_") + o->skip.split + ".json")).string();
            eval::write_metrics(o->out, {{"skip", result},
                                         {"provenance",
                                          {{"checkpoint", run.checkpoint},
                                           {"config", run.cfg.to_json()},
                                           {"data_manifest", run.manifest},
                                           {"git_revision", git_revision()}}}});
            std::printf("wrote %s\n", o->out.c_str());
            if (o->sweep) {
              auto plot = std::filesystem::path(o->out).replace_extension().string();
              if (skip::plot_sweep(result, o->skip.tasks.front(), plot)) std::printf("wrote %s.png and .svg\n", plot.c_str());
            }
          }};
}

}  // namespace smoes::cli
