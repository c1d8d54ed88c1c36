// The shipped configs load, validate, and the baselines differ from the
// top-k model only where they should.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/config.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {
const fs::path kConfigs = fs::path(SMOES_FIXTURES_DIR) / ".." / ".." / "configs";
}

TEST(Configs, EveryShippedConfigLoads) {
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kConfigs)) {
    // configs/study/grid/ holds study specs, not run configs (tests/study/spec_test.cpp loads them).
    if (entry.path().extension() != ".json" || entry.path().parent_path().filename() == "grid") continue;
    EXPECT_NO_THROW(Config::load(entry.path().string())) << entry.path();
    ++n;
  }
  EXPECT_GE(n, 12);  // configs/study/ included
}

// The decoder testbed (docs/RESULTS.md "Current"): every score must come
// through the MoE decoder, so no study config has a path around it.
TEST(Configs, StudyConfigsReadImagesOnlyThroughTheDecoderAndDifferOnlyWhereTheyShould) {
  const auto dir = kConfigs / "study";
  auto vision = Config::load((dir / "vision.json").string());
  auto topk = Config::load((dir / "topk.json").string());
  auto dense = Config::load((dir / "dense.json").string());
  auto blind = Config::load((dir / "blind.json").string());
  auto vision_dense = Config::load((dir / "vision_dense.json").string());
  EXPECT_EQ(vision.train.stage, "vision");
  EXPECT_EQ(vision.architecture_diff(topk), "");
  EXPECT_EQ(vision_dense.architecture_diff(dense), "");  // the dense twin's stage 0: same ViT run, dense decoder
  EXPECT_EQ(vision_dense.architecture_diff(vision), "moe.enabled false vs true");
  EXPECT_EQ(vision_dense.train.seed, vision.train.seed);
  EXPECT_EQ(vision_dense.data.mixture, vision.data.mixture);
  for (const auto* c : {&vision, &vision_dense, &topk, &dense, &blind}) {
    EXPECT_FALSE(c->model.box_pointer);
    EXPECT_FALSE(c->model.pointer_readout);
    EXPECT_EQ(c->model.object_tags, "none");  // visual tokens are the projector's output of encoder features
    EXPECT_EQ(c->data.root, "data/study");
  }
  EXPECT_EQ(blind.architecture_diff(topk), "model.blind true vs false");
  EXPECT_FALSE(dense.moe.enabled);
  EXPECT_EQ(dense.model.dense_ffn_hidden, topk.moe.top_k * topk.moe.ffn_hidden);
  EXPECT_EQ(dense.train.init_from, vision_dense.train.out_dir);
  EXPECT_EQ(topk.train.init_from, vision.train.out_dir);
  EXPECT_EQ(blind.train.init_from, "");  // model.blind is architecture: it cannot start from a sighted stage 0
  for (const auto* c : {&topk, &dense, &blind}) {
    EXPECT_EQ(c->train.freeze, std::vector<std::string>{"encoder"});
    EXPECT_EQ(c->data.mixture, topk.data.mixture);
    EXPECT_EQ(c->train.steps, topk.train.steps);
  }
}

TEST(Configs, BaselinesChangeOnlyWhatTheyAreAbout) {
  auto topk = Config::load((kConfigs / "quick_topk.json").string());
  auto blind = Config::load((kConfigs / "quick_blind.json").string());
  auto dense = Config::load((kConfigs / "quick_dense.json").string());
  EXPECT_EQ(blind.architecture_diff(topk), "model.blind true vs false");
  EXPECT_FALSE(dense.moe.enabled);
  // Equal active parameters: the dense FFN is as wide as the k active experts together.
  EXPECT_EQ(dense.model.dense_ffn_hidden, topk.moe.top_k * topk.moe.ffn_hidden);
  for (auto* c : {&blind, &dense}) {
    EXPECT_EQ(c->data.mixture, topk.data.mixture);
    EXPECT_EQ(c->train.steps, topk.train.steps);
    EXPECT_EQ(c->train.seed, topk.train.seed);
    EXPECT_NE(c->train.out_dir, topk.train.out_dir);
  }
}

TEST(Configs, TheVisionStageConfigCanStartTheTopkRun) {
  auto topk = Config::load((kConfigs / "quick_topk.json").string());
  auto vision = Config::load((kConfigs / "quick_vision.json").string());
  EXPECT_EQ(vision.train.stage, "vision");
  EXPECT_EQ(vision.architecture_diff(topk), "");  // train.init_from needs the same architecture
  EXPECT_GT(vision.data.mixture.count("coco_detection"), 0u);
}

TEST(Configs, TheAttributeWarmupFeedsTheTopkRunAndAsksOnlyAttributes) {
  auto topk = Config::load((kConfigs / "quick_topk.json").string());
  auto warmup = Config::load((kConfigs / "quick_attributes.json").string());
  EXPECT_EQ(warmup.architecture_diff(topk), "");  // the top-k run starts from it with train.init_from
  ASSERT_FALSE(warmup.data.mixture.empty());
  for (const auto& [name, weight] : warmup.data.mixture) EXPECT_EQ(name.rfind("vqa_v2/what ", 0), 0u) << name;
}

TEST(Configs, ThePointerRecipesStageZeroFeedsItAndItsHeadStaysFrozen) {
  auto vision = Config::load((kConfigs / "quick_vision_pointer.json").string());
  auto pointer = Config::load((kConfigs / "quick_pointer.json").string());
  auto topk = Config::load((kConfigs / "quick_topk.json").string());
  EXPECT_EQ(vision.train.stage, "vision");
  EXPECT_EQ(vision.architecture_diff(pointer), "");  // train.init_from needs the same architecture
  EXPECT_EQ(pointer.train.init_from, vision.train.out_dir);
  EXPECT_TRUE(pointer.model.box_pointer);
  EXPECT_EQ(pointer.router.name, "topk");
  // The boxes are the dense head's: training must not move it.
  EXPECT_NE(std::find(pointer.train.freeze.begin(), pointer.train.freeze.end(), "vision_head"), pointer.train.freeze.end());
  // Beyond the pointer, the decoder is the top-k model's.
  EXPECT_EQ(pointer.model.d_model, topk.model.d_model);
  EXPECT_EQ(pointer.moe.num_experts, topk.moe.num_experts);
  EXPECT_EQ(pointer.train.steps, topk.train.steps);
}

// The routers of the paper (issue 25): each one is top-k with another router
// section, starting from the same stage 0, so only the router differs.
TEST(Configs, StudyRouterConfigsDifferFromTopkOnlyInTheRouter) {
  const auto dir = kConfigs / "study";
  auto topk = Config::load((dir / "topk.json").string());
  const std::map<std::string, std::string> routers = {
      {"smoes_attention", "smoes"}, {"smoes_gaussian", "smoes"}, {"smoes_binary_mi", "smoes"},
      {"smoes_no_mi", "smoes"},     {"smoes_kl", "smoes"},       {"smoes_fixed_bins", "smoes"},
      {"hard_4_4", "hard_modality"}, {"hard_6_2", "hard_modality"}, {"moiie", "moiie"}, {"smar", "smar"}};
  for (const auto& [file, router] : routers) {
    auto c = Config::load((dir / (file + ".json")).string());
    EXPECT_EQ(c.router.name, router) << file;
    auto same = c;
    same.router = topk.router;
    same.train.out_dir = topk.train.out_dir;
    EXPECT_EQ(same.to_json(), topk.to_json()) << file << " differs from topk.json outside the router section";
  }
  auto ablation = [&](const char* file) { return Config::load((dir / file).string()).router; };
  EXPECT_EQ(ablation("smoes_attention.json").soft_scores, "attention");
  EXPECT_EQ(ablation("smoes_gaussian.json").soft_scores, "gaussian");
  EXPECT_EQ(ablation("smoes_binary_mi.json").soft_scores, "binary");
  EXPECT_EQ(ablation("smoes_no_mi.json").bin_loss, "none");
  EXPECT_EQ(ablation("smoes_kl.json").bin_loss, "kl");
  EXPECT_EQ(ablation("smoes_fixed_bins.json").binning, "fixed");
  EXPECT_EQ(ablation("hard_4_4.json").text_experts, 4);
  EXPECT_EQ(ablation("hard_6_2.json").text_experts, 6);
  EXPECT_EQ(ablation("hard_6_2.json").vision_experts, 2);
}
