#include "train/throughput.h"

#include <torch/torch.h>

#include <chrono>

#include "core/doctor.h"
#include "core/error.h"
#include "model/flops.h"
#include "model/vlm.h"
#include "moe/gemm.h"

namespace smoes::train {

nlohmann::json ThroughputResult::to_json() const {
  return {{"tokens_per_s", tokens_per_s},     {"step_seconds", step_seconds},
          {"achieved_gflops", achieved_gflops}, {"matmul_gflops", matmul_gflops},
          {"fraction_of_matmul", fraction_of_matmul()}, {"gemm_gflops", gemm_gflops},
          {"fraction_of_gemm", fraction_of_gemm()}};
}

namespace {

// The same n^3 product as measure_matmul_gflops, on moe::gemm.
double measure_gemm_gflops(int64_t n, double min_seconds) {
  auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
  return 2.0 * double(n) * double(n) * double(n) * calls_per_second([&] { moe::gemm(c, a, b); }, min_seconds) / 1e9;
}

}  // namespace

ThroughputResult measure_train_throughput(const Config& cfg, int64_t vocab, int64_t batch, int64_t seq_len,
                                          int steps) {
  torch::manual_seed(cfg.train.seed);
  const int64_t image_token = 3;
  model::MoEVLM m(cfg, vocab, image_token);
  const int64_t p = m->image_tokens();
  if (seq_len <= p) throw Error("bench train: seq_len must exceed the " + std::to_string(p) + " visual tokens");
  auto ids = torch::randint(4, vocab, {batch, seq_len});
  ids.narrow(1, 0, p).fill_(image_token);
  model::VLMInput in{ids, ids.eq(image_token).to(torch::kLong), torch::ones({batch, seq_len}, torch::kBool),
                     torch::randn({batch, 3, cfg.model.image_size, cfg.model.image_size}), {}};
  auto labels = torch::randint(4, vocab, {batch, seq_len});
  torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(1e-4));
  auto step = [&] {
    opt.zero_grad();
    auto out = m->forward(in);
    (model::answer_loss(out.logits, labels) + out.aux_loss).backward();
    opt.step();
  };
  step();
  step();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps;

  ThroughputResult r;
  r.step_seconds = secs;
  r.tokens_per_s = batch * seq_len / secs;
  r.achieved_gflops = 3.0 * batch * model::forward_flops(cfg, vocab, seq_len, 1).total() / secs / 1e9;
  r.matmul_gflops = measure_matmul_gflops(1024, 1.0);
  r.gemm_gflops = measure_gemm_gflops(1024, 1.0);
  return r;
}

}  // namespace smoes::train
