// `smoes skip` on a tiny trained run: the calibration is made once and kept
// with the checkpoint's fingerprint, every method reaches its target on the
// calibration set, skipping cuts the executed FLOPs, and each bad input of
// issue 26 fails with a clear error before anything is written.
#include <gtest/gtest.h>

#include <filesystem>

#include "../error_of.h"
#include "../tiny_run.h"
#include "core/files.h"
#include "skip/methods.h"
#include "skip/run.h"
#include "skip/sweep_plot.h"
#include "core/plot.h"
#include "train/run.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

struct TinyRun {
  TinyRun() : root(tiny_run::make_world("smoes_skip_world")), dir((fs::temp_directory_path() / "smoes_skip_run").string()) {
    fs::remove_all(dir);
    auto cfg = tiny_run::small_config(root, dir);
    cfg.data.mixture = {{"coco_captions", 1.0}, {"refcoco", 1.0}, {"corpus", 0.5}};
    train::train_from_config(cfg);
  }
  std::string root, dir;
};

const TinyRun& tiny() {
  static TinyRun t;
  return t;
}

struct Loaded {
  explicit Loaded(const std::string& run_dir)
      : run(train::load_run(run_dir)), cache("", run.cfg.model.image_size),
        subject{run.model, run.tok.get(), &cache, tiny().root, run.checkpoint, run_dir} {}
  train::LoadedRun run;
  data::ImageCache cache;
  skip::SkipSubject subject;
};

skip::SkipOptions options(std::vector<std::string> methods, double ratio) {
  skip::SkipOptions o;
  o.methods = std::move(methods);
  o.ratios = {ratio};
  o.tasks = {"coco_captions"};
  o.limit = 4;
  o.batch_size = 4;
  o.timing_batches = 1;
  o.candidates = 8;
  o.calibration.samples = 16;
  o.calibration.batch_size = 8;
  return o;
}

std::string copy_run(const std::string& name) {
  auto to = (fs::temp_directory_path() / name).string();
  fs::remove_all(to);
  fs::copy(tiny().dir, to, fs::copy_options::recursive);
  return to;
}

}  // namespace

TEST(SkipRun, EveryMethodCutsExecutedFlopsAndTheCalibrationIsKeptOnce) {
  auto dir = copy_run("smoes_skip_methods");
  Loaded l(dir);
  auto o = options({"modes", "naee-skip", "top-p", "blind-threshold", "random", "top1"}, 0.5);
  auto r = skip::run_skip(l.subject, o);
  const auto path = r["calibration"].get<std::string>();
  ASSERT_TRUE(fs::exists(path));
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(dir) / "calibration");
  const double base = r["baseline"]["gflops_per_token"].get<double>();
  ASSERT_EQ(r["runs"].size(), 6u);
  for (const auto& run : r["runs"]) {
    const auto method = run["method"].get<std::string>();
    EXPECT_LT(run["gflops_per_token"].get<double>(), base) << method;
    EXPECT_NEAR(run["expected_ratio"].get<double>(), 0.5, 0.2) << method;
    EXPECT_GT(run["skip_ratio"]["all"].get<double>(), 0.05) << method;
    for (const char* phase : {"prefill", "decode", "moe_prefill"}) EXPECT_GT(run["speedup"][phase].get<double>(), 0);
  }
  // The sweep's picture: the headline metric against skip ratio and GFLOPs.
  EXPECT_EQ(skip::headline_metric(r["baseline"]["metrics"]["coco_captions"]), "CIDEr-D");
  if (have_gnuplot()) {
    ASSERT_TRUE(skip::plot_sweep(r, "coco_captions", dir + "/sweep"));
    EXPECT_GT(fs::file_size(dir + "/sweep.png"), 1000u);
    EXPECT_TRUE(fs::exists(dir + "/sweep.svg"));
  }
  // MoDES's thresholds are remembered: a second run reads them, and no batch is needed.
  auto saved = skip::load_calibration(path, skip::checkpoint_fingerprint(l.run.checkpoint));
  ASSERT_TRUE(skip::modes_remembered(saved, 0.5));
  EXPECT_EQ(saved.layers.size(), 2u);
  double alpha = 0;
  for (const auto& layer : saved.layers) alpha += layer.alpha;
  EXPECT_NEAR(alpha, 1.0, 1e-9);
  const auto written = fs::last_write_time(path);
  auto again = skip::run_skip(l.subject, options({"modes"}, 0.5));
  EXPECT_EQ(again["runs"][0]["params"], r["runs"][0]["params"]);
  EXPECT_EQ(again["runs"][0]["metrics"], r["runs"][0]["metrics"]);
  EXPECT_GE(fs::last_write_time(path), written);
}

// NAEE pruning writes a smaller run that loads like any other and scores.
TEST(SkipRun, NaeePruneWritesALoadableSmallerRun) {
  auto dir = copy_run("smoes_skip_prune");
  Loaded l(dir);
  auto o = options({"naee-prune"}, 0.25);  // round(4 * 0.75) = 3 of 4 experts
  auto r = skip::run_skip(l.subject, o);
  const auto& run = r["runs"][0];
  EXPECT_EQ(run["keep"].get<int>(), 3);
  auto pruned = train::load_run(run["checkpoint"].get<std::string>());
  EXPECT_EQ(pruned.cfg.moe.layer_experts, (std::vector<int>{3, 3}));
  EXPECT_EQ(pruned.model->blocks[0]->as<model::DecoderBlock>()->moe->experts->num_experts, 3);
  EXPECT_TRUE(run["metrics"].contains("coco_captions"));
  auto keep_all = options({"naee-prune"}, 0.5);
  keep_all.keep = 4;
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, keep_all); }).find("r must be below E"), std::string::npos);
  keep_all.keep = 1;
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, keep_all); }).find("below moe.top_k"), std::string::npos);
}

TEST(SkipRun, BadInputFailsClearlyAndWritesNothing) {
  auto dir = copy_run("smoes_skip_bad");
  Loaded l(dir);
  auto calibration_dir = fs::path(dir) / "calibration";
  auto nothing_written = [&] { return !fs::exists(calibration_dir); };
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, options({"modes"}, 1.0)); }).find("--ratio 1.000000 outside [0, 1)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, options({"modes"}, -0.1)); }).find("outside [0, 1)"),
            std::string::npos);
  auto small = options({"modes"}, 0.5);
  small.calibration.samples = 8;
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, small); }).find("calibration set of 8 examples is too small"),
            std::string::npos);
  small.calibration.samples = 100000;
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, small); }).find("calibration set too small"), std::string::npos);
  auto text_only = options({"modes"}, 0.5);
  text_only.calibration.task = "corpus";
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, text_only); }).find("MoDES needs text and vision tokens"),
            std::string::npos);
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, options({"nope"}, 0.5)); }).find("unknown --method 'nope'"),
            std::string::npos);
  EXPECT_TRUE(nothing_written());
  // A calibration file made on another checkpoint is refused.
  auto other = copy_run("smoes_skip_other");
  {
    Loaded o(other);
    skip::run_skip(o.subject, options({"naee-skip"}, 0.5));
  }
  auto foreign = fs::directory_iterator(fs::path(other) / "calibration")->path().string();
  auto with_foreign = options({"naee-skip"}, 0.5);
  with_foreign.calibration_file = foreign;
  // Same weights, another file: change the checkpoint's bytes.
  auto ckpt = l.run.checkpoint;
  write_file_atomic(ckpt, read_file(ckpt) + "x");
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, with_foreign); }).find("calibration file from another checkpoint"),
            std::string::npos);
  EXPECT_TRUE(nothing_written());
}

TEST(SkipRun, ADenseCheckpointHasNothingToSkip) {
  auto dir = (fs::temp_directory_path() / "smoes_skip_dense").string();
  fs::remove_all(dir);
  auto cfg = tiny_run::small_config(tiny().root, dir);
  cfg.moe.enabled = false;
  cfg.train.steps = 2;
  train::train_from_config(cfg);
  Loaded l(dir);
  EXPECT_NE(error_of([&] { skip::run_skip(l.subject, options({"modes"}, 0.5)); }).find("has no MoE layer"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(fs::path(dir) / "calibration"));
}
