#include "core/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "../error_of.h"

namespace {

struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(8, 16));
    fc2 = register_module("fc2", torch::nn::Linear(16, 1));
    register_buffer("seen", torch::zeros({1}));
  }
  torch::Tensor forward(torch::Tensor x) {
    named_buffers()["seen"].add_(x.size(0));
    // Dropout draws from the global torch RNG, so resume must restore it.
    return fc2(torch::dropout(torch::relu(fc1(x)), 0.2, is_training()));
  }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Net);

// A small training run whose every source of randomness is checkpointed: the
// torch RNG (init, dropout, noise) and a std engine that picks batches.
struct TinyRun {
  Net net;
  std::unique_ptr<torch::optim::AdamW> opt;
  std::mt19937_64 sampler;
  int64_t step = 0;
  torch::Tensor data = torch::arange(64 * 8, torch::kFloat).reshape({64, 8}).sin();

  explicit TinyRun(uint64_t seed) : sampler(seed) {
    torch::manual_seed(seed);
    net = Net();
    opt = std::make_unique<torch::optim::AdamW>(net->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  }
  void train(int64_t until) {
    for (; step < until; ++step) {
      for (auto& g : opt->param_groups())  // warmup schedule, a function of step
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(1e-2 * std::min<double>(1.0, (step + 1) / 5.0));
      auto idx = torch::tensor({int64_t(sampler() % 64), int64_t(sampler() % 64), int64_t(sampler() % 64)});
      auto x = data.index_select(0, idx) + 0.01 * torch::randn({3, 8});
      auto loss = net->forward(x).pow(2).mean();
      opt->zero_grad();
      loss.backward();
      opt->step();
    }
  }
  smoes::CheckpointMeta meta() const {
    smoes::CheckpointMeta m;
    m.step = step;
    m.config = smoes::Config().to_json();
    std::ostringstream rng;
    rng << sampler;
    m.data_rng = rng.str();
    return m;
  }
  void restore(const std::string& path) {
    smoes::Config expected;
    auto m = smoes::load_checkpoint(path, *net, opt.get(), &expected);
    step = m.step;
    std::istringstream(m.data_rng) >> sampler;
  }
};

std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("smoes_ckpt_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void expect_bit_identical(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  for (const auto& buf : a.named_buffers()) EXPECT_TRUE(torch::equal(buf.value(), b.named_buffers()[buf.key()]));
}

}  // namespace

TEST(Checkpoint, ResumeIsBitIdenticalToUninterruptedRun) {
  TinyRun full(7);
  full.train(20);

  std::string dir = fresh_dir("resume");
  std::string path;
  {
    TinyRun first(7);
    first.train(8);
    smoes::CheckpointDir ckpts(dir, 2);
    path = ckpts.save(*first.net, first.opt.get(), first.meta());
    first.train(11);  // work after the checkpoint is lost in the "crash"
  }
  TinyRun resumed(99);  // different init: everything must come from the checkpoint
  resumed.restore(*smoes::CheckpointDir(dir, 2).latest());
  EXPECT_EQ(resumed.step, 8);
  resumed.train(20);
  expect_bit_identical(*full.net, *resumed.net);
}

TEST(Checkpoint, MetaKeepsConfigRevisionAndManifest) {
  TinyRun r(1);
  std::string path = fresh_dir("meta") + "/a.ckpt";
  auto m = r.meta();
  m.data_manifest = {{"path", "data/world/MANIFEST.json"}, {"sha256", "abc"}};
  m.scheduler = {{"kind", "cosine"}};
  smoes::save_checkpoint(path, *r.net, r.opt.get(), m);
  auto back = smoes::read_checkpoint_meta(path);
  EXPECT_EQ(back.config, smoes::Config().to_json());
  EXPECT_EQ(back.data_manifest["sha256"], "abc");
  EXPECT_EQ(back.scheduler["kind"], "cosine");
  EXPECT_FALSE(back.git_revision.empty());
}

TEST(Checkpoint, TruncatedFileGivesClearError) {
  TinyRun r(1);
  std::string path = fresh_dir("trunc") + "/a.ckpt";
  smoes::save_checkpoint(path, *r.net, r.opt.get(), r.meta());
  std::string bytes = smoes::read_file(path);
  for (size_t keep : {size_t(0), size_t(5), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    smoes::write_file_atomic(path, bytes.substr(0, keep));
    std::string msg = error_of([&] { smoes::load_checkpoint(path, *r.net, r.opt.get()); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_TRUE(msg.find("truncated") != std::string::npos || msg.find("too short") != std::string::npos ||
                msg.find("corrupted") != std::string::npos)
        << "keep=" << keep << ": " << msg;
  }
}

TEST(Checkpoint, FlippedByteIsDetected) {
  TinyRun r(1);
  std::string path = fresh_dir("flip") + "/a.ckpt";
  smoes::save_checkpoint(path, *r.net, r.opt.get(), r.meta());
  std::string bytes = smoes::read_file(path);
  bytes[bytes.size() - 100] ^= 0x5a;
  smoes::write_file_atomic(path, bytes);
  EXPECT_NE(error_of([&] { smoes::load_checkpoint(path, *r.net, nullptr); }).find("SHA-256 mismatch"),
            std::string::npos);
  smoes::write_file_atomic(path, "PK\x03\x04 this is not a checkpoint at all");
  EXPECT_NE(error_of([&] { smoes::load_checkpoint(path, *r.net, nullptr); }).find("not a smoes checkpoint"),
            std::string::npos);
}

TEST(Checkpoint, CheckpointFromAnotherConfigIsRefused) {
  TinyRun r(1);
  std::string path = fresh_dir("other") + "/a.ckpt";
  auto m = r.meta();
  smoes::Config other;
  other.moe.num_experts = 16;
  m.config = other.to_json();
  smoes::save_checkpoint(path, *r.net, r.opt.get(), m);
  smoes::Config current;
  std::string msg = error_of([&] { smoes::load_checkpoint(path, *r.net, r.opt.get(), &current); });
  EXPECT_NE(msg.find("another architecture"), std::string::npos) << msg;
  EXPECT_NE(msg.find("moe.num_experts 8 vs 16"), std::string::npos) << msg;
}

TEST(Checkpoint, ShapeMismatchIsNamed) {
  struct Wide : torch::nn::Module {
    Wide() {
      register_module("fc1", torch::nn::Linear(8, 32));
      register_module("fc2", torch::nn::Linear(32, 1));
      register_buffer("seen", torch::zeros({1}));
    }
  };
  TinyRun r(1);
  std::string path = fresh_dir("shape") + "/a.ckpt";
  smoes::save_checkpoint(path, *r.net, nullptr, r.meta());
  Wide wide;
  std::string msg = error_of([&] { smoes::load_checkpoint(path, wide, nullptr); });
  EXPECT_NE(msg.find("param 'fc1.weight' has shape [16, 8] in the checkpoint, [32, 8] in the model"),
            std::string::npos)
      << msg;
}

TEST(Checkpoint, KeepLastNAndLatestPointer) {
  TinyRun r(1);
  std::string dir = fresh_dir("keep");
  smoes::CheckpointDir ckpts(dir, 2);
  EXPECT_FALSE(ckpts.latest().has_value());
  for (int64_t s : {10, 20, 30}) {
    r.step = s;
    ckpts.save(*r.net, r.opt.get(), r.meta());
  }
  auto files = ckpts.list();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_NE(files[0].find("step_000000020.ckpt"), std::string::npos);
  EXPECT_EQ(*ckpts.latest(), files[1]);
  EXPECT_EQ(smoes::read_checkpoint_meta(*ckpts.latest()).step, 30);
  smoes::write_file_atomic(dir + "/latest", "step_000000010.ckpt\n");  // pruned file
  EXPECT_NE(error_of([&] { ckpts.latest(); }).find("not a checkpoint"), std::string::npos);
}
