// The probes of `smoes analyze`: the vision probe's energy split and loss
// gap, and where the grounding probe finds a model looking.
#include <gtest/gtest.h>

#include "../tiny_run.h"
#include "analysis/grounding_probe.h"
#include "analysis/vision_probe.h"
#include "core/error.h"
#include "train/run.h"

using namespace smoes;

namespace {

const std::string& tiny_world() {
  static const std::string root = tiny_run::make_world("smoes_analysis_world");
  return root;
}

}  // namespace

TEST(VisionProbe, EnergySplitIsExactOnAHandWorkedCase) {
  // 2 images x 2 patches x 1 channel: image 0 = {1, 3}, image 1 = {3, 5}.
  // Patch means {2, 4}, shared mean 3: constant 9, position ((-1)^2 + 1^2)/2 = 1,
  // image (1 + 1 + 1 + 1)/4 = 1; together mean(F^2) = (1 + 9 + 9 + 25)/4 = 11.
  auto f = torch::tensor({1.0, 3.0, 3.0, 5.0}).view({2, 2, 1});
  auto s = analysis::split_energy(f);
  EXPECT_DOUBLE_EQ(s.constant, 9.0);
  EXPECT_DOUBLE_EQ(s.position, 1.0);
  EXPECT_DOUBLE_EQ(s.image, 1.0);
  EXPECT_DOUBLE_EQ(s.total(), f.pow(2).mean().item<double>());
  EXPECT_THROW(analysis::split_energy(torch::ones({4, 2})), Error);
}

TEST(VisionProbe, BlindModelHasNoLossGapAndASeeingOneDoes) {
  const auto& root = tiny_world();
  auto cfg = tiny_run::small_config(root, "unused");
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", cfg.model.image_size);
  analysis::ProbeOptions o;
  o.images = 8;
  o.examples = 6;
  o.batch_size = 3;
  auto seeing = train::build_model(cfg, tok);
  auto r = analysis::probe_vision(seeing, tok, cache, root, {"coco_captions", "corpus"}, o);
  EXPECT_FALSE(r["loss"].contains("corpus"));  // text only: nothing to blank
  EXPECT_NE(r["loss"]["coco_captions"]["gap"].get<double>(), 0.0);
  EXPECT_GT(r["projector"]["image"].get<double>(), 0.0);
  const auto& v = r["vit"];
  EXPECT_NEAR(v["constant"].get<double>() + v["position"].get<double>() + v["image"].get<double>(), 1.0, 1e-9);
  EXPECT_FALSE(seeing->cfg.model.blind);  // the probe leaves the model as it found it

  cfg.model.blind = true;
  auto blind = train::build_model(cfg, tok);
  auto b = analysis::probe_vision(blind, tok, cache, root, {"coco_captions"}, o);
  EXPECT_EQ(b["loss"]["coco_captions"]["gap"].get<double>(), 0.0);
  EXPECT_TRUE(blind->cfg.model.blind);
}

TEST(GroundingProbe, LookSharesSplitARowIntoObjectNeighboursAndTheRest) {
  // 3 x 3 grid, the object on patch 0: its neighbours are 1, 3 and 4.
  auto row = torch::tensor({0.1, 0.2, 0.05, 0.15, 0.25, 0.0, 0.0, 0.05, 0.0});
  auto s = analysis::look_shares(row, {0}, 3);
  EXPECT_DOUBLE_EQ(s.object, row[0].item<double>());
  EXPECT_NEAR(s.neighbourhood, 0.1 + 0.2 + 0.15 + 0.25, 1e-6);  // float row
  EXPECT_NEAR(s.visual, 0.8, 1e-6);
  EXPECT_FALSE(s.argmax_on_object);  // patch 4 has the most
  EXPECT_TRUE(analysis::look_shares(row, {4, 8}, 3).argmax_on_object);
  EXPECT_NEAR(analysis::look_shares(row, {4, 8}, 3).neighbourhood, 0.8, 1e-6);  // 4's neighbours are every patch
  EXPECT_THROW(analysis::look_shares(torch::ones({8}), {0}, 3), Error);
}

TEST(GroundingProbe, ReportsEachCoordinateAndLayerOnTheWorld) {
  const auto& root = tiny_world();
  auto cfg = tiny_run::small_config(root, "unused");
  cfg.model.vision_classes = 5;
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", cfg.model.image_size);
  auto model = train::build_model(cfg, tok);
  analysis::GroundingProbeOptions o;
  o.examples = 5;
  o.batch_size = 2;
  auto r = analysis::probe_grounding(model, tok, cache, root, "refcoco", o);
  EXPECT_EQ(r["examples"].get<int>(), 5);
  ASSERT_TRUE(r.contains("head_box_acc"));
  ASSERT_EQ(r["coordinates"].size(), 4u);
  EXPECT_EQ(r["coordinates"][2]["name"], "x2");
  for (const auto& c : r["coordinates"]) {
    EXPECT_LE(c["accuracy"].get<double>(), c["within_one_bin"].get<double>());
    ASSERT_EQ(c["layers"].size(), size_t(cfg.model.n_layers));
    for (const auto& l : c["layers"]) {
      EXPECT_LE(l["object"].get<double>(), l["neighbourhood"].get<double>() + 1e-9);
      EXPECT_LE(l["neighbourhood"].get<double>(), l["visual"].get<double>() + 1e-9);
      EXPECT_LE(l["visual"].get<double>(), 1.0 + 1e-6);
      EXPECT_GT(l["visual"].get<double>(), 0.0);  // an untrained model looks everywhere
    }
  }
  EXPECT_THROW(analysis::probe_grounding(model, tok, cache, root, "vqa_v2", o), Error);  // not a grounding task
}
