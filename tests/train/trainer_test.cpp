#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/checkpoint.h"
#include "core/error.h"
#include "core/files.h"
#include "train/schedule.h"

using namespace smoes;

namespace {

Config tiny_config(const std::string& out_dir) {
  Config c;
  c.model.d_model = 32;
  c.model.n_layers = 2;
  c.model.n_heads = 4;
  c.model.max_seq_len = 32;
  c.model.dense_ffn_hidden = 48;
  c.model.image_size = 16;
  c.model.patch_size = 8;
  c.model.vit_layers = 1;
  c.model.vit_width = 16;
  c.model.vit_heads = 2;
  c.model.dropout = 0.0;
  c.moe.num_experts = 4;
  c.moe.top_k = 2;
  c.moe.ffn_hidden = 24;
  c.train.steps = 12;
  c.train.warmup_steps = 3;
  c.train.batch_size = 2;
  c.train.grad_accum = 2;
  c.train.lr = 3e-3;
  c.train.ckpt_every = 4;
  c.train.log_every = 2;
  c.train.keep_last = 2;
  c.train.out_dir = out_dir;
  return c;
}

constexpr int64_t kVocab = 24, kImage = 3;

// Synthetic task: one image then 3 text tokens; the answer (last token) is a
// function of the image's mean brightness. Draws everything from the data RNG.
class ToySource : public tasks::BatchSource {
 public:
  tasks::Batch next(std::mt19937_64& rng) override {
    const int64_t b = 2;
    std::vector<int64_t> ids, labels;
    std::vector<float> pixels;
    for (int64_t i = 0; i < b; ++i) {
      int64_t cls = int64_t(rng() % 4);
      for (int p = 0; p < 3 * 16 * 16; ++p) pixels.push_back(float(cls) / 4.0f + float(rng() % 100) / 1000.0f);
      std::vector<int64_t> row = {kImage, kImage, kImage, kImage, 5, 6, 10 + cls};
      ids.insert(ids.end(), row.begin(), row.end());
      for (size_t t = 0; t < row.size(); ++t) labels.push_back(t == 5 ? row[6] : -100);
    }
    tasks::Batch batch;
    batch.input.input_ids = torch::tensor(ids).view({b, 7});
    batch.input.modality = batch.input.input_ids.eq(kImage).to(torch::kLong);
    batch.input.attention_mask = torch::ones({b, 7}, torch::kBool);
    batch.input.images = torch::tensor(pixels).view({b, 3, 16, 16});
    batch.labels = torch::tensor(labels).view({b, 7});
    return batch;
  }
};

// Grounding toy: one bright patch of four; the answer (always token 7) says
// nothing about it, so only the grounding-attention loss pulls the two text
// tokens' attention onto that patch.
class ToyGroundingSource : public tasks::BatchSource {
 public:
  tasks::Batch next(std::mt19937_64& rng) override {
    const int64_t b = 4;
    auto images = torch::full({b, 3, 16, 16}, -1.0);
    tasks::Batch batch;
    batch.input.input_ids = torch::tensor(std::vector<int64_t>{kImage, kImage, kImage, kImage, 5, 6, 7}).repeat({b, 1});
    batch.input.modality = batch.input.input_ids.eq(kImage).to(torch::kLong);
    batch.input.attention_mask = torch::ones({b, 7}, torch::kBool);
    batch.labels = torch::full({b, 7}, -100, torch::kLong);
    batch.labels.select(1, 5).fill_(7);
    batch.look_from = torch::zeros({b, 7}, torch::kBool);
    batch.look_from.narrow(1, 4, 2).fill_(true);
    batch.look_at = torch::zeros({b, 7}, torch::kBool);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t k = int64_t(rng() % 4), r = k / 2, c = k % 2;
      images.index_put_({i, torch::indexing::Slice(), torch::indexing::Slice(r * 8, r * 8 + 8),
                         torch::indexing::Slice(c * 8, c * 8 + 8)}, 1.0);
      batch.look_at[i][k] = true;
    }
    batch.input.images = images;
    return batch;
  }
};

// Detection toy: one bright patch per 16 x 16 image (2 x 2 patches); its
// dense targets are class 1 and a box that depends on which patch it is.
class ToyDetectionSource : public tasks::BatchSource {
 public:
  tasks::Batch next(std::mt19937_64& rng) override {
    const int64_t n = 4;
    auto images = torch::full({n, 3, 16, 16}, -1.0);
    auto classes = torch::zeros({n, 4}, torch::kLong);
    auto boxes = torch::full({n, 4, 4}, -100, torch::kLong);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = int64_t(rng() % 4), r = k / 2, c = k % 2;
      images.index_put_({i, torch::indexing::Slice(), torch::indexing::Slice(r * 8, r * 8 + 8),
                         torch::indexing::Slice(c * 8, c * 8 + 8)}, 1.0);
      classes[i][k] = 1;
      boxes[i][k] = torch::tensor({c * 16, r * 16, c * 16 + 15, r * 16 + 15});
    }
    tasks::Batch batch;
    batch.input.images = images;
    batch.patch_classes = classes;
    batch.patch_boxes = boxes;
    return batch;
  }
};

std::string fresh(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("smoes_train_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::map<std::string, torch::Tensor> params_of(const std::string& ckpt, const Config& cfg) {
  model::MoEVLM m(cfg, kVocab, kImage);
  load_checkpoint(ckpt, *m, nullptr, &cfg, false);
  std::map<std::string, torch::Tensor> out;
  for (auto& p : m->named_parameters()) out[p.key()] = p.value().clone();
  return out;
}

}  // namespace

TEST(Schedule, WarmupThenCosineToFloor) {
  EXPECT_DOUBLE_EQ(train::lr_at(0, 1.0, 4, 104, 0.1), 0.25);
  EXPECT_DOUBLE_EQ(train::lr_at(3, 1.0, 4, 104, 0.1), 1.0);
  EXPECT_DOUBLE_EQ(train::lr_at(4, 1.0, 4, 104, 0.1), 1.0);
  EXPECT_NEAR(train::lr_at(54, 1.0, 4, 104, 0.1), 0.55, 1e-12);  // halfway: floor + half the span
  EXPECT_NEAR(train::lr_at(104, 1.0, 4, 104, 0.1), 0.1, 1e-12);
}

TEST(Trainer, LossFallsOnALearnableTask) {
  Config cfg = tiny_config(fresh("learn"));
  cfg.train.steps = 300;
  cfg.train.ckpt_every = 0;
  for (bool moe : {false, true}) {
    cfg.moe.enabled = moe;
    cfg.train.out_dir = fresh(moe ? "learn_moe" : "learn_dense");
    torch::manual_seed(0);
    ToySource data;
    model::MoEVLM m(cfg, kVocab, kImage);
    auto r = train::Trainer(cfg, m, data).run();
    EXPECT_EQ(r.steps_done, 300);
    // Mean loss over fresh batches; guessing among the 4 classes gives log(4) = 1.39.
    m->eval();
    torch::NoGradGuard ng;
    std::mt19937_64 rng(123);
    double loss = 0;
    for (int i = 0; i < 20; ++i) {
      auto b = data.next(rng);
      loss += model::answer_loss(m->forward(b.input).logits, b.labels).item<double>() / 20;
    }
    EXPECT_LT(loss, 0.5) << (moe ? "moe" : "dense");
  }
}

TEST(Trainer, KilledAndResumedRunEqualsUninterruptedRun) {
  Config a = tiny_config(fresh("full"));
  ToySource data;
  torch::manual_seed(1);
  train::Trainer full(a, model::MoEVLM(a, kVocab, kImage), data);
  auto full_result = full.run();

  Config b = tiny_config(fresh("killed"));
  torch::manual_seed(1);
  {
    train::Trainer first(b, model::MoEVLM(b, kVocab, kImage), data);
    auto r = first.run(/*stop_after=*/6);  // killed after step 6; last checkpoint at 4
    EXPECT_EQ(r.steps_done, 6);
  }
  torch::manual_seed(999);  // the resumed process starts from a different state
  train::Trainer second(b, model::MoEVLM(b, kVocab, kImage), data);
  auto resumed = second.run();
  EXPECT_EQ(resumed.resumed_from, 4);
  EXPECT_EQ(resumed.last_loss, full_result.last_loss);
  auto pa = params_of(full_result.last_checkpoint, a), pb = params_of(resumed.last_checkpoint, b);
  for (auto& [name, t] : pa) EXPECT_TRUE(torch::equal(t, pb[name])) << name;
}

// The toy task until draw `poison_at`, then images of NaN (a broken file or
// a blown-up activation upstream).
class PoisonedSource : public ToySource {
 public:
  explicit PoisonedSource(int poison_at) : poison_at_(poison_at) {}
  tasks::Batch next(std::mt19937_64& rng) override {
    auto batch = ToySource::next(rng);
    if (++draws_ > poison_at_) batch.input.images.fill_(std::numeric_limits<float>::quiet_NaN());
    return batch;
  }

 private:
  int poison_at_, draws_ = 0;
};

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  // With experts the first NaN is met in layer 0's router, before any loss
  // is formed; the dense twin meets it in the loss itself.
  for (bool moe : {true, false}) {
    Config cfg = tiny_config(fresh(moe ? "nan_moe" : "nan_dense"));
    cfg.moe.enabled = moe;
    PoisonedSource data(/*poison_at=*/10);  // two draws a step: step 6 is the first to see NaN
    train::Trainer trainer(cfg, model::MoEVLM(cfg, kVocab, kImage), data);
    try {
      trainer.run();
      ADD_FAILURE() << "a NaN loss must stop the run";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(moe ? "train: step 6: layer 0 MoE: router logits contain NaN or Inf"
                              : "train: step 6: the loss is not finite (loss nan"),
                std::string::npos)
          << what;
      EXPECT_NE(what.find("stopped before updating the weights. The last good checkpoint is " + cfg.train.out_dir +
                          "/checkpoints/step_000000004.ckpt"),
                std::string::npos)
          << what;
    }
    CheckpointDir ckpts(cfg.train.out_dir + "/checkpoints", cfg.train.keep_last);
    EXPECT_EQ(ckpts.list().size(), 1u);  // step 4 only: nothing after the NaN was saved
    for (auto& [name, t] : params_of(*ckpts.latest(), cfg))
      EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << name;
  }
}

// A checkpoint damaged on disk (a flipped byte, a cut tail) is caught by its
// SHA-256 or its length when resuming: a clear error, no file touched, and
// the older checkpoint named.
TEST(Trainer, ResumeFromADamagedCheckpointChangesNothingAndNamesTheOthers) {
  Config cfg = tiny_config(fresh("damaged"));
  cfg.train.steps = 8;  // checkpoints at 4 and 8
  ToySource data;
  train::Trainer(cfg, model::MoEVLM(cfg, kVocab, kImage), data).run();
  const std::string dir = cfg.train.out_dir + "/checkpoints", last = dir + "/step_000000008.ckpt";
  const std::string good = read_file(last);
  auto resume_error = [&] {
    Config more = cfg;
    more.train.steps = 12;
    try {
      train::Trainer(more, model::MoEVLM(more, kVocab, kImage), data).run();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string flipped = good;
  flipped[flipped.size() - 100] ^= 0x10;
  std::string cut = good.substr(0, good.size() - 7);
  for (const auto& [damage, expected] : {std::pair{flipped, "checkpoint payload is corrupted (SHA-256 mismatch)"},
                                         std::pair{cut, "checkpoint is truncated"}}) {
    write_file_atomic(last, damage);
    const std::string what = resume_error();
    EXPECT_NE(what.find(last + ": " + expected), std::string::npos) << what;
    EXPECT_NE(what.find("Other checkpoints in " + dir + ": step_000000004.ckpt"), std::string::npos) << what;
    EXPECT_EQ(read_file(last), damage);  // nothing was changed
    EXPECT_EQ(CheckpointDir(dir, 2).list().size(), 2u);
  }
}

TEST(Trainer, FrozenParametersDoNotChange) {
  Config cfg = tiny_config(fresh("frozen"));
  cfg.train.steps = 3;
  cfg.train.warmup_steps = 0;
  cfg.train.freeze = {"attention", "encoder"};
  model::MoEVLM m(cfg, kVocab, kImage);
  std::map<std::string, torch::Tensor> before;
  for (auto& p : m->named_parameters()) before[p.key()] = p.value().clone();
  ToySource data;
  train::Trainer(cfg, m, data).run();
  int frozen = 0, moved = 0;
  for (auto& p : m->named_parameters()) {
    auto group = model::parameter_group(p.key());
    bool same = torch::equal(before[p.key()], p.value());
    if (group == "attention" || group == "encoder") {
      EXPECT_TRUE(same) << p.key();
      ++frozen;
    } else if (!same) {
      ++moved;
    }
  }
  EXPECT_GT(frozen, 0);
  EXPECT_GT(moved, 0);
}

TEST(Trainer, StagesAndBadFreezeNames) {
  EXPECT_EQ(train::trainable_groups("align"), (std::set<std::string>{"encoder", "projector"}));
  EXPECT_TRUE(train::trainable_groups("finetune").count("experts"));
  EXPECT_FALSE(train::trainable_groups("lm").count("encoder"));
  Config cfg = tiny_config(fresh("badfreeze"));
  cfg.train.freeze = {"everything"};
  model::MoEVLM m(cfg, kVocab, kImage);
  EXPECT_THROW(train::apply_freezing(*m, cfg.train), Error);
}

TEST(Trainer, VisionStageTrainsOnlyTheViTAndItsDenseHead) {
  Config cfg = tiny_config(fresh("vision"));
  cfg.model.vision_classes = 2;
  cfg.train.stage = "vision";
  cfg.train.steps = 150;
  cfg.train.ckpt_every = 0;
  cfg.train.warmup_steps = 10;
  cfg.validate();
  torch::manual_seed(4);
  model::MoEVLM m(cfg, kVocab, kImage);
  std::map<std::string, torch::Tensor> before;
  for (auto& p : m->named_parameters()) before[p.key()] = p.value().clone();
  ToyDetectionSource data;
  auto dense_loss = [&] {
    torch::NoGradGuard ng;
    std::mt19937_64 rng(77);
    auto b = data.next(rng);
    return model::dense_head_loss(m->vision_head(m->vit(b.input.images)), b.patch_classes, b.patch_boxes);
  };
  const double start = dense_loss().loss.item<double>();
  train::Trainer(cfg, m, data).run();
  for (auto& p : m->named_parameters()) {
    auto group = model::parameter_group(p.key());
    bool trained = group == "encoder" || group == "vision_head";
    if (!trained) {
      EXPECT_TRUE(torch::equal(before[p.key()], p.value())) << p.key();
    }
  }
  EXPECT_FALSE(torch::equal(before["vision_head.cls.weight"], m->vision_head->cls->weight));
  auto end = dense_loss();
  EXPECT_LT(end.loss.item<double>(), 0.2 * start) << start;
  EXPECT_DOUBLE_EQ(end.class_accuracy, 1.0);
}

TEST(Trainer, VisionStageNeedsTheHeadAndDenseTargets) {
  Config cfg = tiny_config(fresh("vision_bad"));
  cfg.train.stage = "vision";
  EXPECT_THROW(cfg.validate(), Error);  // no model.vision_classes
  cfg.model.vision_classes = 2;
  cfg.train.steps = 1;
  cfg.train.warmup_steps = 0;
  ToySource captions_only;  // batches without dense targets
  model::MoEVLM m(cfg, kVocab, kImage);
  EXPECT_THROW(train::Trainer(cfg, m, captions_only).run(), Error);
}

TEST(GroundingAttention, LossIsMinusLogTheMassOnTheTargetsAveragedOverQueryRowsThenSequences) {
  // Two sequences of 3 tokens. The first has query rows 1 and 2, putting
  // 0.2 + 0.3 and 0.9 + 0.1 on its targets 0 and 1; the second one query row
  // (2) with 0.25 on its target 0.
  auto probs = torch::zeros({2, 3, 3});
  probs[0][2] = torch::tensor({0.2f, 0.3f, 0.5f});
  probs[0][1] = torch::tensor({0.9f, 0.1f, 0.0f});
  probs[0][0] = torch::tensor({0.0f, 0.0f, 1.0f});  // not a query row: must not count
  probs[1][2] = torch::tensor({0.25f, 0.75f, 0.0f});
  auto rows = torch::tensor({false, true, true, false, false, true}).view({2, 3});
  auto look_at = torch::tensor({true, true, false, true, false, false}).view({2, 3});
  auto [loss, mass] = train::grounding_attention_loss(probs, rows, look_at);
  const double e = 1e-6;
  const double want = (-(std::log(0.5 + e) + std::log(1.0 + e)) / 2 - std::log(0.25 + e)) / 2;
  EXPECT_NEAR(loss.item<double>(), want, 1e-6);
  EXPECT_NEAR(mass, ((0.5 + 1.0) / 2 + 0.25) / 2, 1e-6);
  // Its gradient reaches only the query rows' target entries: d/dp of -log(m) / (rows x sequences).
  auto p = probs.clone().requires_grad_(true);
  train::grounding_attention_loss(p, rows, look_at).first.backward();
  auto grad = torch::zeros({2, 3, 3});
  grad[0][2][0] = grad[0][2][1] = -1.0 / (0.5 + e) / 4;
  grad[0][1][0] = grad[0][1][1] = -1.0 / (1.0 + e) / 4;
  grad[1][2][0] = -1.0 / (0.25 + e) / 2;
  EXPECT_TRUE(torch::allclose(p.grad(), grad, 1e-5, 1e-6));
  EXPECT_THROW(train::grounding_attention_loss(probs, rows.narrow(1, 0, 2), look_at), Error);
}

TEST(GroundingAttention, TheLossTeachesTheLayerToLookAtTheTargetPatch) {
  // Mass on the bright patch after training, on fresh batches; chance is a
  // quarter of the attention that goes to the visual tokens.
  auto mass_after = [](double weight) {
    Config cfg = tiny_config(fresh(weight > 0 ? "look_on" : "look_off"));
    cfg.train.steps = 60;
    cfg.train.ckpt_every = 0;
    cfg.train.grad_accum = 1;
    cfg.train.grounding_attention = weight;
    cfg.train.grounding_attention_layer = 1;
    torch::manual_seed(0);
    ToyGroundingSource data;
    model::MoEVLM m(cfg, kVocab, kImage);
    train::Trainer(cfg, m, data).run();
    m->eval();
    torch::NoGradGuard ng;
    std::mt19937_64 rng(99);
    double sum = 0;
    for (int i = 0; i < 5; ++i) {
      auto batch = data.next(rng);
      auto out = m->forward(batch.input, nullptr, /*want_attention=*/true);
      sum += train::grounding_attention_loss(out.attention_probs.at(1), batch.look_from, batch.look_at).second / 5;
    }
    return sum;
  };
  const double off = mass_after(0.0), on = mass_after(5.0);
  EXPECT_LT(off, 0.3);
  EXPECT_GT(on, 0.6);
}

TEST(BoxPointerLoss, IsMinusTheLogOfTheSoftmaxMassOnTheTargets) {
  const double inf = std::numeric_limits<double>::infinity();
  // Row 0: softmax over {0, log 3} puts 1/4 on the target; row 1's targets hold all the mass.
  auto logits = torch::tensor({-inf, 0.0, std::log(3.0), -inf, -inf, 0.0, std::log(3.0), -inf}).view({2, 4});
  auto target = torch::tensor({false, true, false, false, false, true, true, false}).view({2, 4});
  auto [loss, hits] = train::box_pointer_loss(logits.to(torch::kFloat), target);
  EXPECT_NEAR(loss.item<double>(), std::log(4.0) / 2, 1e-6);
  EXPECT_DOUBLE_EQ(hits, 0.5);  // row 0's argmax (log 3) is not its target
  target[1].fill_(false);
  EXPECT_THROW(train::box_pointer_loss(logits, target), Error);  // a row without a target
  EXPECT_THROW(train::box_pointer_loss(logits, target.view({8})), Error);
}
