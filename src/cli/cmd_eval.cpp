// smoes eval: score a trained run on tasks, or score a results file made by
// any system against the annotations, with the same scorers.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "core/git_revision.h"
#include "eval/evaluate.h"
#include "eval/results.h"
#include "train/run.h"

namespace smoes::cli {
namespace {

struct EvalArgs {
  std::string ckpt, results, annotations, split = "val", out, root;
  std::vector<std::string> tasks, sets;
  int limit = 0, batch = 16;
  bool blank_images = false;
};

void print_table(const nlohmann::json& metrics) {
  std::printf("%-16s %-18s %s\n", "task", "metric", "value");
  for (const auto& [task, m] : metrics.items())
    for (const auto& [name, value] : m.items())
      if (value.is_number()) std::printf("%-16s %-18s %.4f\n", task.c_str(), name.c_str(), value.get<double>());
}

nlohmann::json score_results_file(const EvalArgs& o) {
  if (o.tasks.size() != 1) throw Error("eval --results: give exactly one --task");
  const auto& task = tasks::find_task(o.tasks.front());
  auto examples = task.load(o.annotations, o.split, /*strict=*/true, nullptr);
  auto predictions = eval::read_results(task, examples, o.results);
  return {{task.name, eval::score(task, examples, predictions)}};
}

nlohmann::json score_run(const EvalArgs& o, nlohmann::json& provenance, nlohmann::json& flops) {
  auto run = train::load_run(o.ckpt);
  // The image ablation: the same weights scored on blank images (as the blind
  // baseline sees them); the gap to a normal eval is what the model reads from pixels.
  if (o.blank_images) run.model->cfg.model.blind = true;
  model::apply_inference_overrides(*run.model, o.sets);
  std::string root = o.root.empty() ? run.cfg.data.root : o.root;
  data::ImageCache cache(run.cfg.data.image_cache, run.cfg.model.image_size);
  eval::EvalOptions eo;
  eo.split = o.split;
  eo.limit = o.limit;
  eo.predict.batch_size = o.batch;
  eo.predict.max_text_len = run.cfg.data.max_text_len;
  // A blank-image or --set eval is a diagnostic, not a submission: keep the run's results files.
  eo.results_dir = (o.blank_images || !o.sets.empty()) ? "" : std::filesystem::path(o.out).parent_path().string();
  auto tasks = o.tasks.empty() ? std::vector<std::string>{} : o.tasks;
  if (tasks.empty())
    for (const auto& [name, weight] : run.cfg.data.mixture) {  // "vqa_v2/what color is the" scores as vqa_v2
      auto task = name.substr(0, name.find('/'));
      if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) tasks.push_back(task);
    }
  provenance = {{"checkpoint", run.checkpoint}, {"config", run.model->cfg.to_json()}, {"data_manifest", run.manifest},
                {"root", root}, {"blank_images", o.blank_images}, {"set", o.sets}};
  return eval::evaluate_tasks(run.model, *run.tok, cache, root, tasks, eo, &flops);
}

}  // namespace

Command add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Score a run (--ckpt) or a results file (--results) on tasks");
  auto o = std::make_shared<EvalArgs>();
  cmd->add_option("--ckpt", o->ckpt, "checkpoint file or run directory");
  cmd->add_option("--task", o->tasks, "task(s) to score (default: the run's training mixture)");
  cmd->add_option("--split", o->split, "train, val or test (mapped to each dataset's split names)")->capture_default_str();
  cmd->add_option("--limit", o->limit, "score the first N examples of each task (0 = all)")->check(at_least(0))->capture_default_str();
  cmd->add_option("--batch", o->batch, "generation batch size")->check(at_least(1))->capture_default_str();
  cmd->add_option("--root", o->root, "dataset root (default: the run's data.root)");
  cmd->add_option("--results", o->results, "a results file in the task's official format (no model needed)");
  cmd->add_option("--annotations", o->annotations, "with --results: dataset root holding the task's annotations");
  cmd->add_flag("--blank-images", o->blank_images,
                "image ablation: score the same weights on blank images (how much does the model use pixels?)");
  cmd->add_option("--set", o->sets,
                 "inference-time override a.b=value on the loaded model (e.g. moe.top_k=1); fields that would change "
                 "tensors are refused");
  cmd->add_option("--out", o->out, "metrics JSON (default: <run>/eval_<split>.json, or stdout only for --results)");
  return {cmd, [o] {
            if (o->ckpt.empty() == o->results.empty()) throw Error("eval: give either --ckpt or --results");
            nlohmann::json provenance, metrics, flops;
            if (!o->results.empty()) {
              if (o->annotations.empty()) throw Error("eval --results: give --annotations (the dataset root)");
              metrics = score_results_file(*o);
              provenance = {{"results", o->results}, {"annotations", o->annotations}};
            } else {
              if (o->out.empty()) {
                auto run_dir = std::filesystem::is_directory(o->ckpt)
                                   ? std::filesystem::path(o->ckpt)
                                   : std::filesystem::path(o->ckpt).parent_path().parent_path();
                std::string suffix = o->blank_images ? "_blank" : "";
                for (const auto& set : o->sets) suffix += "_" + set;  // never the run's own eval file
                o->out = (run_dir / ("eval_" + o->split + suffix + ".json")).string();
              }
              metrics = score_run(*o, provenance, flops);
            }
            print_table(metrics);
            if (!o->out.empty()) {
              provenance["split"] = o->split;
              provenance["git_revision"] = git_revision();
              nlohmann::json result{{"metrics", metrics}, {"provenance", provenance}};
              if (!flops.is_null()) result["flops"] = flops;  // executed, per task (model/flops.h)
              eval::write_metrics(o->out, result);
              std::printf("wrote %s\n", o->out.c_str());
            }
          }};
}

}  // namespace smoes::cli
