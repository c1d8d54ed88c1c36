// smoes analyze: measurements on a trained run that explain its scores.
//   vision  does the model read its images? (train/vision_probe.h)
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "core/git_revision.h"
#include "eval/results.h"
#include "train/run.h"
#include "train/vision_probe.h"

namespace smoes::cli {
namespace {

struct VisionOptions {
  std::string ckpt, root, out;
  std::vector<std::string> tasks = {"coco_captions", "vqa_v2", "refcoco"};
  train::ProbeOptions probe;
};

void print_split(const char* where, const nlohmann::json& s) {
  std::printf("%-10s energy %.4g: constant %.4f  position %.4f  image %.4f\n", where, s["mean_square"].get<double>(),
              s["constant"].get<double>(), s["position"].get<double>(), s["image"].get<double>());
}

void run_vision(const VisionOptions& o) {
  auto run = train::load_run(o.ckpt);
  const std::string root = o.root.empty() ? run.cfg.data.root : o.root;
  data::ImageCache cache(run.cfg.data.image_cache, run.cfg.model.image_size);
  auto probe = o.probe;
  probe.max_text_len = run.cfg.data.max_text_len;
  auto result = train::probe_vision(run.model, *run.tok, cache, root, o.tasks, probe);
  std::printf("visual tokens over %d images (share of their mean square):\n", result["images"].get<int>());
  print_split("ViT", result["vit"]);
  print_split("projector", result["projector"]);
  std::printf("%-16s %-10s %-10s %s\n", "task", "loss real", "blank", "gap (blank - real)");
  for (const auto& [task, l] : result["loss"].items())
    std::printf("%-16s %-10.4f %-10.4f %+.4f\n", task.c_str(), l["real"].get<double>(), l["blank"].get<double>(),
                l["gap"].get<double>());
  auto out = o.out;
  if (out.empty()) {
    auto dir = std::filesystem::is_directory(o.ckpt) ? std::filesystem::path(o.ckpt)
                                                     : std::filesystem::path(o.ckpt).parent_path().parent_path();
    out = (dir / ("analyze_vision_" + probe.split + ".json")).string();
  }
  eval::write_metrics(out, {{"vision", result},
                            {"provenance",
                             {{"checkpoint", run.checkpoint}, {"config", run.cfg.to_json()},
                              {"data_manifest", run.manifest}, {"root", root}, {"git_revision", git_revision()}}}});
  std::printf("wrote %s\n", out.c_str());
}

}  // namespace

Command add_analyze(CLI::App& app) {
  auto* cmd = app.add_subcommand("analyze", "Measurements on a trained run that explain its scores");
  cmd->require_subcommand(1);
  auto* vision = cmd->add_subcommand("vision", "Does the model read its images? Visual-token energy and real-vs-blank loss");
  auto o = std::make_shared<VisionOptions>();
  vision->add_option("--ckpt", o->ckpt, "checkpoint file or run directory")->required();
  vision->add_option("--task", o->tasks, "tasks for the loss gap (default: coco_captions vqa_v2 refcoco)");
  vision->add_option("--split", o->probe.split, "train, val or test")->capture_default_str();
  vision->add_option("--images", o->probe.images, "images for the energy split")->capture_default_str();
  vision->add_option("--examples", o->probe.examples, "examples per task for the loss gap")->capture_default_str();
  vision->add_option("--root", o->root, "dataset root (default: the run's data.root)");
  vision->add_option("--out", o->out, "JSON output (default: <run>/analyze_vision_<split>.json)");
  return {cmd, [o] { run_vision(*o); }};
}

}  // namespace smoes::cli
