// Data parallel training on real ranks (the test binary starts two copies of
// itself as workers, dist::launch_local): two ranks with global batch B give
// the single process's loss curve and checkpoint with batch B, and a run
// checkpointed by two ranks resumes on one (the data re-shards); a run whose
// worker is killed stops and resumes to the same run; two ranks started by
// mpirun give the same run.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../parallel_runs.h"
#include "../tiny_run.h"
#include "core/error.h"
#include "core/files.h"
#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "dist/world.h"
#include "train/example_source.h"
#include "train/run.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

// MoE auxiliary losses are each rank's own (per micro-batch), so they are off
// here: with them the runs differ by design, not by error.
Config dp_config(const std::string& root, const std::string& out) {
  auto c = tiny_run::small_config(root, out);
  c.model.dropout = 0.0;
  c.moe.aux_loss_coef = 0;
  c.moe.z_loss_coef = 0;
  c.train.batch_size = 4;
  c.train.steps = 6;
  c.train.ckpt_every = 3;
  c.train.log_every = 1;
  return c;
}

// Two workers; with kill_rank >= 0 that rank alone stops after `stop_after`
// steps and dies by SIGKILL, while the other trains on.
int launch_workers(const std::string& root, const std::string& out, int stop_after, int kill_rank = -1) {
  setenv("SMOES_DP_ROOT", root.c_str(), 1);
  setenv("SMOES_DP_OUT", out.c_str(), 1);
  setenv("SMOES_DP_STOP", std::to_string(stop_after).c_str(), 1);
  setenv("SMOES_DP_KILL_RANK", std::to_string(kill_rank).c_str(), 1);
  int code =
      dist::launch_local(2, {fs::read_symlink("/proc/self/exe").string(), "--gtest_filter=DataParallelWorker.Run"}, 1);
  unsetenv("SMOES_DP_ROOT");
  unsetenv("SMOES_DP_KILL_RANK");
  return code;
}

// The same two workers started by Open MPI's mpirun (ranks from OMPI_COMM_WORLD_*).
int launch_mpirun_workers(const std::string& root, const std::string& out) {
  const std::string port = std::to_string(dist::free_local_port());
  const std::string cmd = "mpirun --allow-run-as-root --oversubscribe -np 2 -x SMOES_DP_ROOT=" + root +
                          " -x SMOES_DP_OUT=" + out + " -x SMOES_DP_STOP=0 -x SMOES_THREADS=1 -x MASTER_PORT=" + port +
                          " " + fs::read_symlink("/proc/self/exe").string() +
                          " --gtest_filter=DataParallelWorker.Run > " + out + ".log 2>&1";
  fs::create_directories(fs::path(out).parent_path());
  return std::system(cmd.c_str());
}

}  // namespace

// The worker side: does nothing unless started by launch_workers.
TEST(DataParallelWorker, Run) {
  const char* root = std::getenv("SMOES_DP_ROOT");
  if (!root) GTEST_SKIP() << "a worker of the DataParallel tests";
  const auto w = dist::world_from_env();
  const char* kill_rank = std::getenv("SMOES_DP_KILL_RANK");
  const int dying = kill_rank ? std::stoi(kill_rank) : -1;
  const int64_t stop = std::stoll(std::getenv("SMOES_DP_STOP"));
  train::train_from_config(dp_config(root, std::getenv("SMOES_DP_OUT")), dying < 0 || dying == w.rank ? stop : 0);
  if (dying == w.rank) raise(SIGKILL);  // dies as a killed process does: no exit path runs
  // Proof that it ran as one of two ranks (a lone process would match the single run too).
  std::ofstream(std::string(std::getenv("SMOES_DP_OUT")) + "/rank" + std::to_string(w.rank)) << w.size;
}

// Shards of a global batch are its sequences, in order, and every shard
// advances the data RNG as the whole batch does.
TEST(DataParallel, ShardsOfAGlobalBatchAreItsSequences) {
  const auto root = tiny_run::make_world("smoes_dp_shard_world");
  auto cfg = dp_config(root, "");
  cfg.train.batch_size = 6;
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", cfg.model.image_size);
  train::ExampleSource src(cfg, train::load_tasks(root, cfg.data.mixture, "train"), tok, cache, 4);
  std::mt19937_64 whole_rng(7);
  auto whole = src.next(whole_rng);
  for (int shards : {2, 3}) {
    int row = 0;
    for (int s = 0; s < shards; ++s) {
      std::mt19937_64 rng(7);
      auto part = src.next_shard(rng, s, shards);
      EXPECT_EQ(rng, whole_rng) << "shard " << s << " of " << shards;
      ASSERT_EQ(part.input.input_ids.size(0), 6 / shards);
      for (int64_t i = 0; i < part.input.input_ids.size(0); ++i, ++row) {
        const auto len = part.input.attention_mask[i].sum().item<int64_t>();
        EXPECT_EQ(len, whole.input.attention_mask[row].sum().item<int64_t>());
        EXPECT_TRUE(part.input.input_ids[i].narrow(0, 0, len).equal(whole.input.input_ids[row].narrow(0, 0, len)));
        EXPECT_TRUE(part.labels[i].narrow(0, 0, len).equal(whole.labels[row].narrow(0, 0, len)));
      }
    }
  }
  std::mt19937_64 rng(7);
  EXPECT_THROW(src.next_shard(rng, 0, 4), Error);  // 6 sequences do not split 4 ways
}

TEST(DataParallel, TwoRanksEqualOneProcessAndResumeOnOne) {
  const auto root = tiny_run::make_world("smoes_dp_world");
  const auto base = (fs::temp_directory_path() / "smoes_dp_runs").string();
  fs::remove_all(base);
  train::train_from_config(dp_config(root, base + "/single"));
  ASSERT_EQ(launch_workers(root, base + "/two", 0), 0);
  for (const char* r : {"/two/rank0", "/two/rank1"}) EXPECT_EQ(read_file(base + r), "2");
  parallel_runs::expect_same_run(base + "/single", base + "/two");
  // Killed after step 3 on two ranks (its checkpoint is step 3's), resumed on one.
  ASSERT_EQ(launch_workers(root, base + "/mixed", 3), 0);
  ASSERT_TRUE(fs::exists(base + "/mixed/checkpoints/step_000000003.ckpt"));
  auto r = train::train_from_config(dp_config(root, base + "/mixed"));
  EXPECT_EQ(r.resumed_from, 3);
  parallel_runs::expect_same_run(base + "/single", base + "/mixed");
  // Rank 1 killed after step 4 while rank 0 trains on: the launcher stops the
  // run (no hang on the dead peer) and a rerun resumes from step 3's checkpoint.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(launch_workers(root, base + "/killed", 4, /*kill_rank=*/1), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(120));
  EXPECT_FALSE(fs::exists(base + "/killed/rank1"));
  ASSERT_TRUE(fs::exists(base + "/killed/checkpoints/step_000000003.ckpt"));
  ASSERT_FALSE(fs::exists(base + "/killed/checkpoints/step_000000006.ckpt"));
  ASSERT_EQ(launch_workers(root, base + "/killed", 0), 0);
  parallel_runs::expect_same_run(base + "/single", base + "/killed");
  // mpirun (installed by scripts/bootstrap.sh) gives the same run.
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "no mpirun: run scripts/bootstrap.sh";
  ASSERT_EQ(launch_mpirun_workers(root, base + "/mpirun"), 0) << read_file(base + "/mpirun.log");
  for (const char* r : {"/mpirun/rank0", "/mpirun/rank1"}) EXPECT_EQ(read_file(base + r), "2");
  parallel_runs::expect_same_run(base + "/single", base + "/mpirun");
}
