// `smoes analyze traffic` underneath: the rows two ranks really send through
// the all-to-alls equal a count made from the single process's routing trace
// of the same examples (each example on the rank that holds its share, each
// slot remote when its expert lives on the other rank).
#include "expert_parallel/measure.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "../tiny_run.h"
#include "core/files.h"
#include "data/image_cache.h"
#include "dist/world.h"
#include "train/run.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTasks = {"coco_captions", "refcoco"};
constexpr int kExamples = 4;  // per task, two per rank

analysis::RoutingProbeOptions probe_options() {
  analysis::RoutingProbeOptions o;
  o.examples = kExamples;
  o.batch_size = 1;  // no padding: both sides run the very same prompts
  return o;
}

}  // namespace

TEST(ExpertParallelMeasureWorker, Run) {
  const char* run_dir = std::getenv("SMOES_EPM_RUN");
  if (!run_dir) GTEST_SKIP() << "a worker of ExpertParallelMeasure";
  auto run = train::load_run(run_dir);
  data::ImageCache cache("", run.cfg.model.image_size);
  dist::Group group(dist::world_from_env());
  auto result =
      expert_parallel::measure_traffic(run.model, *run.tok, cache, run.cfg.data.root, kTasks, probe_options(), group);
  if (group.rank() == 0) write_file_atomic(std::string(run_dir) + "/traffic.json", result.dump());
}

TEST(ExpertParallelMeasure, RealRowsEqualTheCountFromTheRoutingTrace) {
  const auto root = tiny_run::make_world("smoes_ep_measure_world");
  const auto out = (fs::temp_directory_path() / ("ep_measure_" + std::to_string(getpid()))).string();
  fs::remove_all(out);
  auto cfg = tiny_run::small_config(root, out);
  cfg.data.mixture = {{"coco_captions", 1.0}, {"refcoco", 1.0}};
  train::train_from_config(cfg);
  setenv("SMOES_EPM_RUN", out.c_str(), 1);
  int code = dist::launch_local(
      2, {fs::read_symlink("/proc/self/exe").string(), "--gtest_filter=ExpertParallelMeasureWorker.Run"}, 1);
  unsetenv("SMOES_EPM_RUN");
  ASSERT_EQ(code, 0);
  auto traffic = nlohmann::json::parse(read_file(out + "/traffic.json"));
  ASSERT_EQ(traffic["ranks"], 2);
  ASSERT_EQ(traffic["examples"], kExamples * int(kTasks.size()));

  // The single process's trace of the same prefills, one thread as each worker.
  torch::set_num_threads(1);
  auto run = train::load_run(out);
  data::ImageCache cache("", run.cfg.model.image_size);
  auto o = probe_options();
  o.new_tokens = 1;
  o.devices = {2};
  o.trace = out + "/trace.jsonl";
  analysis::probe_routing(run.model, *run.tok, cache, root, kTasks, o);
  std::map<int, std::vector<int64_t>> device_of;  // by layer, from the real placement
  for (const auto& l : traffic["real"]["layers"])
    device_of[l["layer"].get<int>()] = l["placement"].get<std::vector<int64_t>>();
  std::map<int, double> remote;
  std::ifstream trace(o.trace);
  for (std::string line; std::getline(trace, line);) {
    auto t = nlohmann::json::parse(line);
    if (t["phase"] != "prefill") continue;
    const int rank = (t["example"].get<int>() % kExamples) / (kExamples / 2);
    for (int64_t e : t["experts"]) remote[t["layer"].get<int>()] += device_of.at(t["layer"].get<int>())[e] != rank;
  }
  ASSERT_EQ(traffic["real"]["layers"].size(), 2u);
  for (const auto& l : traffic["real"]["layers"]) {
    const int layer = l["layer"];
    const double real = l["dispatch_rows"];
    EXPECT_GT(real, 0);
    // Layer 0 routes what attention alone made: exactly the same tokens. Later
    // layers read expert outputs computed on other ranks in other row groups
    // (other GEMM blocking), so a near tie may flip a choice.
    if (layer == 0)
      EXPECT_EQ(real, remote[layer]);
    else
      EXPECT_NEAR(real, remote[layer], 0.05 * remote[layer]);
  }
  // The simulated side is the probe's own number for two devices.
  EXPECT_EQ(traffic["simulated"]["devices"][0]["devices"], 2);
  EXPECT_EQ(traffic["layers"].size(), 2u);
  fs::remove_all(out);
}
