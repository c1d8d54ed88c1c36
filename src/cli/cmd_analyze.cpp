// smoes analyze: measurements on a trained run that explain its scores.
//   vision     does the model read its images? (analysis/vision_probe.h)
//   grounding  where does it look when it writes a box? (analysis/grounding_probe.h)
//   routing    which experts serve image tokens and which text? (analysis/routing_probe.h)
//   traffic    the real expert-parallel all-to-alls beside the simulated ones (expert_parallel/measure.h)
#include <cstdio>
#include <filesystem>

#include "analysis/grounding_probe.h"
#include "analysis/routing_probe.h"
#include "analysis/routing_report.h"
#include "analysis/vision_probe.h"
#include "cli/commands.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/git_revision.h"
#include "core/runtime.h"
#include "dist/world.h"
#include "train/init.h"
#include "eval/results.h"
#include "expert_parallel/measure.h"
#include "train/run.h"

namespace smoes::cli {
namespace {

struct VisionOptions {
  std::string ckpt, root, out;
  std::vector<std::string> tasks = {"coco_captions", "vqa_v2", "refcoco"};
  analysis::ProbeOptions probe;
};

// A run loaded for analysis, with its dataset root (`root`, else the run's
// data.root) and its image cache.
struct Analysed {
  Analysed(const std::string& ckpt, const std::string& root_option)
      : run(train::load_run(ckpt)),
        root(root_option.empty() ? run.cfg.data.root : root_option),
        cache(run.cfg.data.image_cache, run.cfg.model.image_size) {}
  train::LoadedRun run;
  std::string root;
  data::ImageCache cache;
};

// The run directory of `ckpt` (a run directory or <run>/checkpoints/<file>).
std::filesystem::path run_dir(const std::string& ckpt) {
  return std::filesystem::is_directory(ckpt) ? std::filesystem::path(ckpt)
                                             : std::filesystem::path(ckpt).parent_path().parent_path();
}

// `out`, or <run>/analyze_<what>_<split>.json.
std::string analysis_path(const std::string& ckpt, const std::string& out, const std::string& what,
                          const std::string& split) {
  return out.empty() ? (run_dir(ckpt) / ("analyze_" + what + "_" + split + ".json")).string() : out;
}

// <run>/analyze_<what>_<split>.json (or `out`), with the run's provenance.
void write_analysis(const train::LoadedRun& run, const std::string& root, const std::string& ckpt,
                    const std::string& out_option, const std::string& what, const std::string& split,
                    const nlohmann::json& result) {
  const auto out = analysis_path(ckpt, out_option, what, split);
  eval::write_metrics(out, {{what, result},
                            {"provenance",
                             {{"checkpoint", run.checkpoint},
                              {"config", run.cfg.to_json()},
                              {"data_manifest", run.manifest},
                              {"root", root},
                              {"git_revision", git_revision()}}}});
  std::printf("wrote %s\n", out.c_str());
}

void print_split(const char* where, const nlohmann::json& s) {
  std::printf("%-10s energy %.4g: constant %.4f  position %.4f  image %.4f\n", where, s["mean_square"].get<double>(),
              s["constant"].get<double>(), s["position"].get<double>(), s["image"].get<double>());
}

void run_vision(const VisionOptions& o) {
  Analysed a(o.ckpt, o.root);
  auto& run = a.run;
  auto probe = o.probe;
  probe.max_text_len = run.cfg.data.max_text_len;
  auto result = analysis::probe_vision(run.model, *run.tok, a.cache, a.root, o.tasks, probe);
  std::printf("visual tokens over %d images (share of their mean square):\n", result["images"].get<int>());
  print_split("ViT", result["vit"]);
  print_split("projector", result["projector"]);
  if (result.contains("tag_energy_share"))
    std::printf("tags      %.4f of the visual tokens' energy is tag (word/box) embeddings, not encoder features\n",
                result["tag_energy_share"].get<double>());
  std::printf("%-16s %-10s %-10s %s\n", "task", "loss real", "blank", "gap (blank - real)");
  for (const auto& [task, l] : result["loss"].items())
    std::printf("%-16s %-10.4f %-10.4f %+.4f\n", task.c_str(), l["real"].get<double>(), l["blank"].get<double>(),
                l["gap"].get<double>());
  write_analysis(run, a.root, o.ckpt, o.out, "vision", probe.split, result);
}

struct GroundingOptions {
  std::string ckpt, root, out, task = "refcoco";
  analysis::GroundingProbeOptions probe;
};

void run_grounding(const GroundingOptions& o) {
  Analysed a(o.ckpt, o.root);
  auto& run = a.run;
  auto probe = o.probe;
  probe.max_text_len = run.cfg.data.max_text_len;
  auto result = analysis::probe_grounding(run.model, *run.tok, a.cache, a.root, o.task, probe);
  std::printf("%s %s, %d examples, teacher-forced", o.task.c_str(), probe.split.c_str(), result["examples"].get<int>());
  if (result.contains("head_box_acc"))
    std::printf("; the dense head's box at the object has IoU >= 0.5 on %.3f", result["head_box_acc"].get<double>());
  if (result.contains("tag_match_on_object"))
    std::printf("; matching the prompt's words to the tags picks the object on %.3f",
                result["tag_match_on_object"].get<double>());
  if (result.contains("pointer_on_object"))
    std::printf("; the box pointer picks the object on %.3f, its box has IoU >= 0.5 on %.3f",
                result["pointer_on_object"].get<double>(), result["pointer_box_acc"].get<double>());
  std::printf("\n%-5s %-8s %-8s %s\n", "coord", "accuracy", "+-1 bin",
              "per layer: attention on object / object+neighbours / all visual tokens, argmax on object");
  for (const auto& c : result["coordinates"]) {
    std::printf("%-5s %-8.3f %-8.3f", c["name"].get<std::string>().c_str(), c["accuracy"].get<double>(),
                c["within_one_bin"].get<double>());
    int l = 0;
    for (const auto& s : c["layers"])
      std::printf(" L%d %.2f/%.2f/%.2f %.2f", l++, s["object"].get<double>(), s["neighbourhood"].get<double>(),
                  s["visual"].get<double>(), s["argmax_on_object"].get<double>());
    std::printf("\n");
  }
  write_analysis(run, a.root, o.ckpt, o.out, "grounding", probe.split, result);
}

struct RoutingOptions {
  std::string ckpt, root, out;
  std::vector<std::string> tasks = {"coco_captions", "vqa_v2", "refcoco"};
  analysis::RoutingProbeOptions probe;
};

void print_routing(const nlohmann::json& r) {
  auto num = [](const nlohmann::json& v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v.is_null() ? 0.0 : v.get<double>());
    return v.is_null() ? std::string("-") : std::string(buf);
  };
  std::printf("%lld examples, router %s: MSI %s (%lld unused (layer, expert) pairs); MI bins from %s\n",
              static_cast<long long>(r["examples"].get<int64_t>()), r["router"].get<std::string>().c_str(),
              num(r["msi"]).c_str(), static_cast<long long>(r["msi_unused_experts"].get<int64_t>()),
              r["bins_from"].get<std::string>().c_str());
  for (size_t i = 0; i < r["layers"].size(); ++i)
    std::printf("layer %d  MSI %s  MI %s  entropy %.3f / %.3f  unused %lld\n", r["moe_layers"][i].get<int>(),
                num(r["msi_per_layer"][i]).c_str(), num(r["mutual_information"][i]).c_str(),
                r["layers"][i]["gate_entropy"].get<double>(), r["layers"][i]["max_entropy"].get<double>(),
                static_cast<long long>(r["layers"][i]["unused_experts"].get<int64_t>()));
  for (const auto& e : r["expert_parallel"]["devices"]) {
    const auto& a = e["all_layers"];
    std::printf("EP %d devices: cross-device prefill vision %s text %s all %s, decode text %s\n",
                e["devices"].get<int>(), num(a["prefill"]["vision"]["cross_rate"]).c_str(),
                num(a["prefill"]["text"]["cross_rate"]).c_str(), num(a["prefill"]["all"]["cross_rate"]).c_str(),
                num(a["decode"]["text"]["cross_rate"]).c_str());
  }
}

void run_routing(const RoutingOptions& o) {
  Analysed a(o.ckpt, o.root);
  auto& run = a.run;
  auto probe = o.probe;
  probe.max_text_len = run.cfg.data.max_text_len;
  if (probe.trace.empty() && run.cfg.moe.record_trace)
    probe.trace = (run_dir(o.ckpt) / ("routing_trace_" + probe.split + ".jsonl")).string();
  auto result = analysis::probe_routing(run.model, *run.tok, a.cache, a.root, o.tasks, probe);
  print_routing(result);
  write_analysis(run, a.root, o.ckpt, o.out, "routing", probe.split, result);
  auto json_path = std::filesystem::path(analysis_path(o.ckpt, o.out, "routing", probe.split));
  for (const auto& f : analysis::write_routing_report(result, (json_path.parent_path() / json_path.stem()).string()))
    std::printf("wrote %s\n", f.c_str());
  if (!probe.trace.empty()) std::printf("wrote %s\n", probe.trace.c_str());
}

struct TrafficOptions {
  std::string ckpt, root, out;
  int nproc = 2;
  std::vector<std::string> tasks = {"coco_captions", "vqa_v2", "refcoco"};
  analysis::RoutingProbeOptions probe;
};

// The launcher: the same command once per rank, each told its rank by the environment.
void launch_traffic(const TrafficOptions& o) {
  read_checkpoint_meta(train::resolve_checkpoint(o.ckpt));  // a bad --ckpt fails here once, not in every rank
  std::vector<std::string> argv = {std::filesystem::read_symlink("/proc/self/exe").string(),
                                   "analyze",
                                   "traffic",
                                   "--ckpt",
                                   o.ckpt,
                                   "--nproc",
                                   std::to_string(o.nproc),
                                   "--split",
                                   o.probe.split,
                                   "--examples",
                                   std::to_string(o.probe.examples),
                                   "--batch-size",
                                   std::to_string(o.probe.batch_size)};
  for (const auto& t : o.tasks) argv.insert(argv.end(), {"--task", t});
  if (!o.root.empty()) argv.insert(argv.end(), {"--root", o.root});
  if (!o.out.empty()) argv.insert(argv.end(), {"--out", o.out});
  const int code = dist::launch_local(o.nproc, argv, std::max(1, default_thread_count() / o.nproc));
  if (code != 0)
    throw Error("analyze traffic: a rank of --nproc " + std::to_string(o.nproc) + " failed (exit " +
                std::to_string(code) + "); the others were stopped");
}

void run_traffic(const TrafficOptions& o) {
  const auto world = dist::world_from_env();
  if (world.size <= 1) return launch_traffic(o);
  Analysed a(o.ckpt, o.root);
  auto probe = o.probe;
  probe.max_text_len = a.run.cfg.data.max_text_len;
  dist::Group group(world, std::chrono::minutes(30));
  auto result = expert_parallel::measure_traffic(a.run.model, *a.run.tok, a.cache, a.root, o.tasks, probe, group);
  if (group.rank() != 0) return;
  std::printf(
      "%d ranks, %s examples, prefill: remote expert slots per token, real (tokens by example) vs simulated "
      "(tokens on their modality's home device)\n",
      result["ranks"].get<int>(), result["examples"].dump().c_str());
  for (const auto& l : result["layers"])
    std::printf("layer %d: real %.3f  simulated %.3f\n", l["layer"].get<int>(),
                l["real_remote_slots_per_token"].get<double>(), l["simulated_remote_slots_per_token"].get<double>());
  write_analysis(a.run, a.root, o.ckpt, o.out, "traffic", probe.split, result);
}

}  // namespace

Command add_analyze(CLI::App& app) {
  auto* cmd = app.add_subcommand("analyze", "Measurements on a trained run that explain its scores");
  cmd->require_subcommand(1);
  auto* vision =
      cmd->add_subcommand("vision", "Does the model read its images? Visual-token energy and real-vs-blank loss");
  auto o = std::make_shared<VisionOptions>();
  vision->add_option("--ckpt", o->ckpt, "checkpoint file or run directory")->required();
  vision->add_option("--task", o->tasks, "tasks for the loss gap (default: coco_captions vqa_v2 refcoco)");
  vision->add_option("--split", o->probe.split, "train, val or test")->capture_default_str();
  vision->add_option("--images", o->probe.images, "images for the energy split")->check(at_least(1))->capture_default_str();
  vision->add_option("--examples", o->probe.examples, "examples per task for the loss gap")->check(at_least(1))->capture_default_str();
  vision->add_option("--root", o->root, "dataset root (default: the run's data.root)");
  vision->add_option("--out", o->out, "JSON output (default: <run>/analyze_vision_<split>.json)");
  auto* grounding =
      cmd->add_subcommand("grounding", "Where does the model look when it writes a box? Per coordinate and layer");
  auto g = std::make_shared<GroundingOptions>();
  grounding->add_option("--ckpt", g->ckpt, "checkpoint file or run directory")->required();
  grounding->add_option("--task", g->task, "grounding task")->capture_default_str();
  grounding->add_option("--split", g->probe.split, "train, val or test")->capture_default_str();
  grounding->add_option("--examples", g->probe.examples, "examples to probe")->check(at_least(1))->capture_default_str();
  grounding->add_option("--root", g->root, "dataset root (default: the run's data.root)");
  grounding->add_option("--out", g->out, "JSON output (default: <run>/analyze_grounding_<split>.json)");
  auto* routing = cmd->add_subcommand(
      "routing", "Which experts serve image tokens and which text? MSI, modality-bin MI, soft scores, EP traffic");
  auto r = std::make_shared<RoutingOptions>();
  routing->add_option("--ckpt", r->ckpt, "checkpoint file or run directory")->required();
  routing->add_option("--task", r->tasks, "tasks to run (default: coco_captions vqa_v2 refcoco)");
  routing->add_option("--split", r->probe.split, "train, val or test")->capture_default_str();
  routing->add_option("--examples", r->probe.examples, "examples per task")
      ->capture_default_str()
      ->check(at_least(1));
  routing->add_option("--batch-size", r->probe.batch_size, "prompts per forward (left-padded)")
      ->capture_default_str()
      ->check(at_least(1));
  routing->add_option("--new-tokens", r->probe.new_tokens, "greedy decode length (0 = by task kind, as eval)")
      ->capture_default_str()
      ->check(at_least(0));
  routing->add_option("--devices", r->probe.devices, "expert-parallel device counts (each must divide the experts)")
      ->check(at_least(1))
      ->capture_default_str();
  routing->add_option("--bytes-per-element", r->probe.bytes_per_element, "activation bytes for all-to-all traffic")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  routing->add_option("--trace", r->probe.trace,
                      "JSONL routing trace (default: <run>/routing_trace_<split>.jsonl when moe.record_trace)");
  routing->add_option("--root", r->root, "dataset root (default: the run's data.root)");
  routing->add_option("--out", r->out,
                      "JSON output (default: <run>/analyze_routing_<split>.json; the .md and plots go beside it)");
  auto* traffic = cmd->add_subcommand(
      "traffic", "Expert-parallel all-to-alls measured on N local ranks beside analyze routing's simulation");
  auto t = std::make_shared<TrafficOptions>();
  traffic->add_option("--ckpt", t->ckpt, "checkpoint file or run directory")->required();
  traffic->add_option("--nproc", t->nproc, "ranks (each MoE layer's experts split over them)")
      ->capture_default_str()
      ->check(CLI::Range(2, 64));
  traffic->add_option("--task", t->tasks, "tasks to run (default: coco_captions vqa_v2 refcoco)");
  traffic->add_option("--split", t->probe.split, "train, val or test")->capture_default_str();
  traffic->add_option("--examples", t->probe.examples, "examples per task (a multiple of --nproc)")
      ->capture_default_str()
      ->check(at_least(1));
  traffic->add_option("--batch-size", t->probe.batch_size, "prompts per forward")
      ->capture_default_str()
      ->check(at_least(1));
  traffic->add_option("--root", t->root, "dataset root (default: the run's data.root)");
  traffic->add_option("--out", t->out, "JSON output (default: <run>/analyze_traffic_<split>.json)");
  return {cmd, [o, vision, g, grounding, r, traffic, t] {
            if (vision->parsed())
              run_vision(*o);
            else if (grounding->parsed())
              run_grounding(*g);
            else if (traffic->parsed())
              run_traffic(*t);
            else
              run_routing(*r);
          }};
}

}  // namespace smoes::cli
