// The Gloo process group with real ranks: the test binary starts copies of
// itself (dist::launch_local) that run one scenario each as DistWorker.Run
// and write what they saw to a file; the parent test checks those files.
#include "dist/group.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "../error_of.h"
#include "core/files.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

std::string scenario() {
  const char* s = std::getenv("SMOES_DIST_SCENARIO");
  return s ? s : "";
}

void report(const std::string& text) {
  const auto dir = std::string(std::getenv("SMOES_DIST_OUT"));
  write_file_atomic(dir + "/rank" + std::getenv("RANK") + ".txt", text);
}

// Runs `name` on `ranks` workers; returns each rank's report.
std::vector<std::string> run_workers(const std::string& name, int ranks, int* exit_code = nullptr) {
  const auto dir = (fs::temp_directory_path() / ("dist_" + name + "_" + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  setenv("SMOES_DIST_SCENARIO", name.c_str(), 1);
  setenv("SMOES_DIST_OUT", dir.c_str(), 1);
  const auto self = fs::read_symlink("/proc/self/exe").string();
  int code = dist::launch_local(ranks, {self, "--gtest_filter=DistWorker.Run"}, 1);
  unsetenv("SMOES_DIST_SCENARIO");
  if (exit_code) *exit_code = code;
  std::vector<std::string> out;
  for (int r = 0; r < ranks; ++r) {
    auto f = dir + "/rank" + std::to_string(r) + ".txt";
    out.push_back(fs::exists(f) ? read_file(f) : "(no report)");
  }
  fs::remove_all(dir);
  return out;
}

}  // namespace

// The worker side: does nothing unless started by run_workers.
TEST(DistWorker, Run) {
  if (scenario().empty()) GTEST_SKIP() << "a worker of the DistGroup tests";
  auto world = dist::world_from_env();
  try {
    if (scenario() == "allreduce") {
      dist::Group g(world, std::chrono::seconds(30));
      // Gradients rank+1 times a ramp; a tiny bucket size forces several buckets.
      std::vector<torch::Tensor> params = {
          torch::zeros({3, 4}, torch::requires_grad()), torch::zeros({5}, torch::requires_grad()),
          torch::zeros({2}, torch::requires_grad()),  // no gradient anywhere
          torch::zeros({7}, torch::requires_grad()), torch::zeros({4}, torch::requires_grad())};  // rank 0's alone
      for (size_t i = 0; i < 4; ++i)
        if (i != 2)
          params[i].mutable_grad() =
              torch::arange(params[i].numel()).view_as(params[i]).to(torch::kFloat) * (g.rank() + 1);
      if (g.rank() == 0) params[4].mutable_grad() = torch::full({4}, 2.0);
      g.allreduce_gradients(params, /*bucket_bytes=*/40);
      const double factor = g.size() * (g.size() + 1) / 2.0;
      bool ok =
          !params[2].grad().defined() && params[4].grad().defined() && params[4].grad().equal(torch::full({4}, 2.0));
      for (size_t i = 0; i < 4; ++i)
        if (i != 2)
          ok = ok &&
               params[i].grad().equal(torch::arange(params[i].numel()).view_as(params[i]).to(torch::kFloat) * factor);
      std::vector<torch::Tensor> b = {torch::full({3}, double(g.rank() + 5))};
      g.broadcast(b, 1);
      ok = ok && b[0].equal(torch::full({3}, 6.0));
      report(ok ? "ok" : "wrong sums");
    } else if (scenario() == "mismatch") {
      dist::Group g(world, std::chrono::seconds(30));
      g.require_same("the resolved config", "same");
      try {
        g.require_same("the resolved config", g.rank() == 1 ? "mine" : "same");
        report("no error");
      } catch (const Error& e) {
        report(e.what());
      }
    } else if (scenario() == "dead") {
      dist::Group g(world, std::chrono::seconds(3));
      if (g.rank() == 1) _exit(0);  // dies without a word
      std::vector<torch::Tensor> t = {torch::ones({4})};
      auto t0 = std::chrono::steady_clock::now();
      try {
        g.allreduce_sum(t);
        report("no error");
      } catch (const Error& e) {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        report(std::string(e.what()) + "\nseconds " + std::to_string(s));
      }
    }
  } catch (const std::exception& e) {
    report(std::string("unexpected: ") + e.what());
  }
}

TEST(DistGroup, BucketedGradientAllreduceSumsOverRanksAndBroadcastCopiesTheRoot) {
  int code = -1;
  auto r = run_workers("allreduce", 2, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(r[0], "ok");
  EXPECT_EQ(r[1], "ok");
}

TEST(DistGroup, AConfigThatDiffersBetweenRanksIsAnErrorOnEveryRank) {
  auto r = run_workers("mismatch", 2);
  for (const auto& s : r)
    EXPECT_NE(s.find("the resolved config differs between ranks: rank(s) 1 differ from rank 0"), std::string::npos)
        << s;
}

TEST(DistGroup, ADeadRankIsAnErrorOnTheOthersWithinTheTimeout) {
  auto r = run_workers("dead", 2);
  EXPECT_NE(r[0].find("did another rank die?"), std::string::npos) << r[0];
  auto at = r[0].find("seconds ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(std::stod(r[0].substr(at + 8)), 20.0);
}

TEST(DistGroup, APortInUseIsAClearError) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  dist::WorldInfo w;
  w.port = ntohs(a.sin_port);
  auto msg = error_of([&] { dist::Group g(w, std::chrono::seconds(5)); });
  EXPECT_NE(msg.find("cannot listen on 127.0.0.1:" + std::to_string(w.port) + ": the port is in use"),
            std::string::npos)
      << msg;
  close(fd);
}
