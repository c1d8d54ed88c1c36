// Crash safety of `smoes train`, run as users run it: the process is killed
// at random points and while it writes a checkpoint, its files are cut off by
// a file-size limit, its output path is unusable. Every resume must end on
// the checkpoint an uninterrupted run writes, byte for byte, and every
// failure must leave what was already saved untouched.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "../tiny_run.h"
#include "core/checkpoint.h"
#include "core/files.h"
#include "core/log.h"
#include "core/process.h"

namespace fs = std::filesystem;
using namespace smoes;

namespace {

class CrashSafety : public ::testing::Test {
 protected:
  // One world, one config and one uninterrupted reference run for all tests.
  static void SetUpTestSuite() {
    base_ = (fs::temp_directory_path() / "smoes_crash_safety").string();
    fs::remove_all(base_);
    fs::create_directories(base_);
    auto cfg = tiny_run::small_config(tiny_run::make_world("smoes_crash_safety_world"), "");
    cfg.train.steps = 10;
    cfg.train.ckpt_every = 2;
    cfg.train.keep_last = 2;
    cfg.train.log_every = 1;
    cfg.save(base_ + "/config.json");
    auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(train("ref_0"), 0) << read_file(log_of("ref_0"));
    reference_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // Every run's folder name has the reference's length, so two checkpoints
  // compare byte for byte once the folder name in the stored config is swapped.
  static std::string dir_of(const std::string& run) { return base_ + "/" + run; }
  static std::string log_of(const std::string& run) { return base_ + "/" + run + ".log"; }
  static std::string ckpt(const std::string& run, int step) {
    char name[32];
    std::snprintf(name, sizeof name, "step_%09d.ckpt", step);
    return dir_of(run) + "/checkpoints/" + name;
  }

  static pid_t start(const std::string& run, std::vector<std::string> env = {},
                     std::vector<std::string> prefix = {}) {
    std::vector<std::string> argv = prefix;
    for (std::string a : {std::string(SMOES_EXE), std::string("train"), std::string("--config"), base_ + "/config.json",
                          std::string("--set"), "train.out_dir=" + dir_of(run)})
      argv.push_back(a);
    env.push_back("SMOES_THREADS=1");
    return spawn_process(argv, env, log_of(run));
  }
  static int train(const std::string& run, std::vector<std::string> env = {}, std::vector<std::string> prefix = {}) {
    return wait_process(start(run, std::move(env), std::move(prefix)));
  }

  // The final checkpoint equals the reference's, every byte.
  static void expect_reference_checkpoint(const std::string& run) {
    std::string ref = read_file(ckpt("ref_0", 10)), got = read_file(ckpt(run, 10));
    for (size_t at = 0; (at = ref.find(dir_of("ref_0"), at)) != std::string::npos;)
      ref.replace(at, dir_of(run).size(), dir_of(run));
    EXPECT_EQ(ref.size(), got.size());
    size_t first = 0;
    while (first < std::min(ref.size(), got.size()) && ref[first] == got[first]) ++first;
    uint64_t meta_len = 0;
    std::memcpy(&meta_len, got.data() + 8, 8);
    EXPECT_TRUE(ref == got) << run << ": the final checkpoint differs from the uninterrupted run's at byte " << first
                            << (first < 16 + meta_len ? " (meta: " + got.substr(first < 40 ? 0 : first - 40, 120) + ")"
                                                      : " (payload)");
    auto losses = [](const std::string& r) {
      std::map<int64_t, double> out;
      for (const auto& j : read_metrics(dir_of(r) + "/metrics.jsonl"))
        if (j.contains("loss")) out[j["step"].get<int64_t>()] = j["loss"].get<double>();
      return out;
    };
    EXPECT_EQ(losses(run), losses("ref_0")) << "metrics.jsonl must read as the uninterrupted run's";
  }
  static std::vector<std::string> temp_files(const std::string& run) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_of(run) + "/checkpoints"))
      if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
    return out;
  }

  static inline std::string base_;
  static inline double reference_seconds_ = 0;
};

TEST_F(CrashSafety, KilledMidCheckpointAndAtRandomPointsResumesToTheUninterruptedCheckpoint) {
  const std::string run = "run_1";
  // Killed halfway through writing step 4's checkpoint: the half is in a temp
  // file, step 4 does not exist, `latest` still names step 2.
  EXPECT_EQ(train(run, {"SMOES_FAULT_KILL_WRITING=step_000000004.ckpt"}), 128 + SIGKILL);
  EXPECT_FALSE(fs::exists(ckpt(run, 4)));
  EXPECT_EQ(temp_files(run).size(), 1u);
  EXPECT_EQ(read_file(dir_of(run) + "/checkpoints/latest"), "step_000000002.ckpt\n");

  // SIGKILLs at seeded random times within an uninterrupted run's length.
  // Whether one lands depends on the machine's load (a resumed run that
  // finishes first exits 0), so they are counted, not required: the kill
  // mid-save above is the one that always happens.
  std::mt19937 rng(2026);
  std::uniform_real_distribution<double> when(0.1 * reference_seconds_, 0.7 * reference_seconds_);
  int killed = 0;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = start(run);
    std::this_thread::sleep_for(std::chrono::duration<double>(when(rng)));
    ::kill(pid, SIGKILL);
    const int code = wait_process(pid);
    ASSERT_TRUE(code == 128 + SIGKILL || code == 0) << read_file(log_of(run));
    killed += code != 0;
  }
  RecordProperty("random_kills_that_landed", killed);
  ASSERT_EQ(train(run), 0) << read_file(log_of(run));
  expect_reference_checkpoint(run);
  EXPECT_TRUE(temp_files(run).empty()) << "a killed save's temp file must be cleaned up on resume";
}

// A file-size limit (as a full disk does) fails the step-6 checkpoint write:
// a one-line error naming the file, step 4 untouched, and the rerun ends on
// the reference's checkpoint.
TEST_F(CrashSafety, AFullDiskStopsWithAClearErrorAndLosesNothing) {
  const std::string run = "disk1";  // as long as "ref_0"
  ASSERT_EQ(wait_process(spawn_process({SMOES_EXE, "train", "--config", base_ + "/config.json", "--set",
                                        "train.out_dir=" + dir_of(run), "--stop-after", "5"},
                                       {"SMOES_THREADS=1"}, log_of(run))),
            0);
  const std::string step4 = read_file(ckpt(run, 4));
  const auto limit = step4.size() / 2;  // below a checkpoint, above the tokenizer and the metrics
  ASSERT_LT(fs::file_size(dir_of("ref_0") + "/tokenizer.model"), limit);
  ASSERT_LT(fs::file_size(dir_of("ref_0") + "/metrics.jsonl"), limit);
  fs::remove(log_of(run));
  EXPECT_EQ(train(run, {}, {"/usr/bin/prlimit", "--fsize=" + std::to_string(limit)}), 1);
  const std::string log = read_file(log_of(run));
  EXPECT_NE(log.find("smoes: error: " + ckpt(run, 6) + ".tmp."), std::string::npos) << log;
  EXPECT_NE(log.find("write failed: File too large"), std::string::npos) << log;
  EXPECT_EQ(read_file(ckpt(run, 4)), step4);
  EXPECT_EQ(read_file(dir_of(run) + "/checkpoints/latest"), "step_000000004.ckpt\n");
  EXPECT_TRUE(temp_files(run).empty());
  EXPECT_NO_THROW(read_metrics(dir_of(run) + "/metrics.jsonl"));

  ASSERT_EQ(train(run), 0) << read_file(log_of(run));
  expect_reference_checkpoint(run);
}

// An output path that cannot be a folder fails before any work, naming it.
TEST_F(CrashSafety, AnUnusableOutputFolderFailsFirstNamingIt) {
  const std::string file = base_ + "/a_file";
  write_file_atomic(file, "not a folder\n");
  const std::string log = base_ + "/unusable.log";
  pid_t pid = spawn_process({SMOES_EXE, "train", "--config", base_ + "/config.json", "--set",
                             "train.out_dir=" + file + "/run"},
                            {"SMOES_THREADS=1"}, log);
  EXPECT_EQ(wait_process(pid), 1);
  EXPECT_NE(read_file(log).find("smoes: error: " + file + "/run: cannot create train.out_dir: Not a directory"),
            std::string::npos)
      << read_file(log);
}

TEST_F(CrashSafety, AReadOnlyOutputFolderFailsFirstNamingIt) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes to any folder: the read-only case needs another user";
  const std::string ro = base_ + "/read_only", log = base_ + "/read_only.log";
  fs::create_directories(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  pid_t pid = spawn_process({SMOES_EXE, "train", "--config", base_ + "/config.json", "--set", "train.out_dir=" + ro},
                      {"SMOES_THREADS=1"}, log);
  EXPECT_EQ(wait_process(pid), 1);
  EXPECT_NE(read_file(log).find(ro + ": train.out_dir is not writable: Permission denied"), std::string::npos);
}

}  // namespace
