// Expert parallelism on two real ranks (the test binary starts two copies of
// itself): each rank holds half of the tokens, its experts compute for both
// ranks' slots, and the output, the token, routing-weight and expert-weight
// gradients equal the single-process reference; the bytes sent are the rows
// whose expert lives on the other rank.
#include "expert_parallel/dispatch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "analysis/routing_metrics.h"
#include "core/files.h"
#include "dist/world.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kTokens = 12, kExperts = 4, kDim = 8, kTopK = 2;

struct Problem {
  torch::Tensor x, indices, weights, upstream;
};

// The same on every rank (seeded).
Problem problem() {
  torch::manual_seed(3);
  Problem p;
  p.x = torch::randn({kTokens, kDim});
  auto logits = torch::randn({kTokens, kExperts});
  auto [w, idx] = logits.softmax(1).topk(kTopK, 1);
  p.indices = idx;
  p.weights = w;
  p.upstream = torch::randn({kTokens, kDim});
  return p;
}

moe::GroupedExperts experts() {
  torch::manual_seed(5);
  moe::GroupedExperts e(kExperts, kDim, 6);
  e->fuse_grad_accumulation = false;
  return e;
}

void report(const std::string& text) {
  write_file_atomic(std::string(std::getenv("SMOES_EP_OUT")) + "/rank" + std::getenv("RANK") + ".txt", text);
}

std::string compare(const char* what, const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::string(what) + ": shapes differ\n";
  if (!torch::allclose(a, b, 1e-4, 1e-5))
    return std::string(what) + ": max |diff| " + std::to_string((a - b).abs().max().item<double>()) + "\n";
  return "";
}

}  // namespace

TEST(ExpertParallelWorker, Run) {
  if (!std::getenv("SMOES_EP_OUT")) GTEST_SKIP() << "a worker of the ExpertParallel tests";
  auto world = dist::world_from_env();
  dist::Group g(world, std::chrono::seconds(60));
  const auto p = problem();
  // Reference: the whole batch in one process, expert by expert.
  auto ref_experts = experts();
  auto x_ref = p.x.clone().requires_grad_(true), w_ref = p.weights.clone().requires_grad_(true);
  auto y_ref = torch::zeros({kTokens, kDim});
  for (int64_t t = 0; t < kTokens; ++t)
    for (int64_t j = 0; j < kTopK; ++j)
      y_ref[t] += w_ref[t][j] * ref_experts->expert(p.indices[t][j].item<int64_t>(), x_ref[t].unsqueeze(0))[0];
  (y_ref * p.upstream).sum().backward();

  // This rank's half of the tokens, experts placed by bins {1, 0, 1, 0}.
  const int64_t half = kTokens / 2, from = g.rank() * half;
  auto mine = [&](const torch::Tensor& t) { return t.narrow(0, from, half); };
  auto local = experts();
  expert_parallel::ExpertParallel ep(g, analysis::expert_placement(kExperts, 2, {1, 0, 1, 0}));
  auto x = mine(p.x).clone().requires_grad_(true), w = mine(p.weights).clone().requires_grad_(true);
  auto y = ep.forward(*local, x, mine(p.indices), w);
  (y * mine(p.upstream)).sum().backward();
  std::vector<torch::Tensor> grads = {local->w13.grad(), local->w2.grad()};
  g.allreduce_sum(grads);  // what data parallelism does with the expert weights

  std::string bad = compare("output", y, mine(y_ref).detach()) + compare("token grad", x.grad(), mine(x_ref.grad())) +
                    compare("weight grad", w.grad(), mine(w_ref.grad())) +
                    compare("w13 grad", grads[0], ref_experts->w13.grad()) +
                    compare("w2 grad", grads[1], ref_experts->w2.grad());
  // Experts 0 and 2 live on rank 1, experts 1 and 3 on rank 0.
  int64_t away = 0;
  for (int64_t t = 0; t < half; ++t)
    for (int64_t j = 0; j < kTopK; ++j) away += (mine(p.indices)[t][j].item<int64_t>() % 2 == 0) != (g.rank() == 1);
  if (ep.traffic.dispatch_rows != away)
    bad += "dispatch rows " + std::to_string(ep.traffic.dispatch_rows) + " != " + std::to_string(away) + "\n";
  if (ep.traffic.dispatch_bytes != away * kDim * 4) bad += "dispatch bytes\n";
  if (ep.traffic.local_rows + ep.traffic.dispatch_rows != half * kTopK) bad += "slots\n";
  report(bad.empty() ? "ok" : bad);
}

TEST(ExpertParallel, AllToAllDispatchEqualsTheSingleProcessLayerForwardAndBackward) {
  const auto dir = (fs::temp_directory_path() / ("ep_" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  setenv("SMOES_EP_OUT", dir.c_str(), 1);
  int code = dist::launch_local(
      2, {fs::read_symlink("/proc/self/exe").string(), "--gtest_filter=ExpertParallelWorker.Run"}, 1);
  unsetenv("SMOES_EP_OUT");
  EXPECT_EQ(code, 0);
  for (int r = 0; r < 2; ++r) {
    auto f = dir + "/rank" + std::to_string(r) + ".txt";
    ASSERT_TRUE(fs::exists(f)) << "rank " << r << " wrote nothing";
    EXPECT_EQ(read_file(f), "ok") << "rank " << r;
  }
  fs::remove_all(dir);
}
