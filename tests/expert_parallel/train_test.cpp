// Training with expert parallelism is training: two ranks with
// `--expert-parallel` (experts on their ranks, tokens through all-to-alls)
// give the same loss curve and checkpoint as two data-parallel ranks
// without it, and write the traffic they measured.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../parallel_runs.h"
#include "../tiny_run.h"
#include "core/files.h"
#include "dist/world.h"
#include "expert_parallel/install.h"
#include "train/run.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

Config ep_config(const std::string& root, const std::string& out) {
  auto c = tiny_run::small_config(root, out);
  c.model.dropout = 0.0;
  c.train.batch_size = 4;
  c.train.steps = 4;
  c.train.log_every = 1;
  return c;
}

}  // namespace

TEST(ExpertParallelTrainWorker, Run) {
  const char* root = std::getenv("SMOES_EPT_ROOT");
  if (!root) GTEST_SKIP() << "a worker of ExpertParallelTrain";
  const std::string out = std::getenv("SMOES_EPT_OUT");
  train::train_from_config(ep_config(root, out + "/dp"));
  train::train_from_config(ep_config(root, out + "/ep"), 0, [out](model::MoEVLM& model, dist::Group& group) {
    auto installed = expert_parallel::install(model, group);
    return std::function<void()>([installed, &group, out] {
      auto traffic = installed->traffic(group);
      if (group.rank() == 0) write_file_atomic(out + "/ep/expert_parallel.json", traffic.dump());
    });
  });
}

TEST(ExpertParallelTrain, SameLossAndWeightsAsDataParallelAlone) {
  const auto root = tiny_run::make_world("smoes_ep_train_world");
  const auto out = (fs::temp_directory_path() / ("ep_train_" + std::to_string(getpid()))).string();
  fs::remove_all(out);
  setenv("SMOES_EPT_ROOT", root.c_str(), 1);
  setenv("SMOES_EPT_OUT", out.c_str(), 1);
  int code = dist::launch_local(
      2, {fs::read_symlink("/proc/self/exe").string(), "--gtest_filter=ExpertParallelTrainWorker.Run"}, 1);
  unsetenv("SMOES_EPT_ROOT");
  ASSERT_EQ(code, 0);
  ASSERT_EQ(parallel_runs::losses(out + "/dp").size(), 4u);
  parallel_runs::expect_same_run(out + "/dp", out + "/ep");
  auto traffic = nlohmann::json::parse(read_file(out + "/ep/expert_parallel.json"));
  EXPECT_EQ(traffic["ranks"], 2);
  EXPECT_EQ(traffic["layers"].size(), 2u);  // both decoder layers are MoE
  for (const auto& l : traffic["layers"]) {
    EXPECT_GT(l["dispatch_rows"].get<double>(), 0);
    EXPECT_EQ(l["dispatch_rows"], l["combine_rows"]);  // every row sent comes back
  }
  fs::remove_all(out);
}
