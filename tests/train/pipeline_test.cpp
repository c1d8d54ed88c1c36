// The data -> batch -> trainer pipeline: collation, upcycling, a real run on
// the tiny world that is killed and resumed, and the vision probe.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/checkpoint.h"
#include "core/error.h"
#include "data/tokenizer.h"
#include "model/generate.h"
#include "tasks/tasks.h"
#include "train/collate.h"
#include "train/example_source.h"
#include "train/grounding_probe.h"
#include "train/init.h"
#include "train/predict.h"
#include "train/run.h"
#include "train/vision_probe.h"
#include "world/generate.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

Config small_config(const std::string& root, const std::string& out_dir) {
  Config c;
  c.model.d_model = 32;
  c.model.n_layers = 2;
  c.model.n_heads = 4;
  c.model.max_seq_len = 128;
  c.model.dense_ffn_hidden = 24;
  c.model.image_size = 16;
  c.model.patch_size = 8;
  c.model.vit_layers = 1;
  c.model.vit_width = 16;
  c.model.vit_heads = 2;
  c.model.location_bins = 8;
  c.moe.num_experts = 4;
  c.moe.top_k = 2;
  c.moe.ffn_hidden = 24;
  c.train.steps = 8;
  c.train.warmup_steps = 2;
  c.train.batch_size = 3;
  c.train.ckpt_every = 4;
  c.train.log_every = 2;
  c.train.out_dir = out_dir;
  c.data.root = root;
  c.data.mixture = {{"coco_captions", 1.0}, {"cc", 0.5}, {"corpus", 0.5}};
  c.data.image_cache = "";
  return c;
}

// A tiny world with a trained tokenizer, made once for the whole file.
const std::string& tiny_world() {
  static const std::string root = [] {
    auto dir = (fs::temp_directory_path() / "smoes_pipeline_world").string();
    fs::remove_all(dir);
    world::generate(world::WorldOptions::for_preset("tiny", 5), dir);
    auto text = dir + "/text.txt";
    std::ofstream(text) << tasks::training_text(dir);
    data::Tokenizer::train({text}, dir + "/tokenizer", 300, 8);
    return dir;
  }();
  return root;
}

}  // namespace

TEST(Collate, PadsMasksAndShiftsLabels) {
  std::vector<uint8_t> red(2 * 2 * 3, 255);
  train::Sequence a{{2, 9, 9, 5, 6, 3}, {0, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 1, 1}, {&red}, {}};
  train::Sequence b{{2, 7, 3}, {0, 0, 0}, {0, 1, 1}, {}, {}};
  auto right = train::collate({a, b}, 2, /*pad=*/0, /*left_pad=*/false);
  // Row 0: answer tokens 6 and 3 are predicted from positions 3 and 4.
  EXPECT_TRUE(right.labels[0].equal(torch::tensor({-100, -100, -100, 6, 3, -100})));
  EXPECT_TRUE(right.labels[1].equal(torch::tensor({7, 3, -100, -100, -100, -100})));
  EXPECT_TRUE(right.input.input_ids[1].equal(torch::tensor({2, 7, 3, 0, 0, 0})));
  EXPECT_TRUE(right.input.attention_mask[1].equal(torch::tensor({true, true, true, false, false, false})));
  EXPECT_TRUE(right.input.modality[0].equal(torch::tensor({0, 1, 1, 0, 0, 0})));
  ASSERT_EQ(right.input.images.sizes(), (std::vector<int64_t>{1, 3, 2, 2}));
  EXPECT_FLOAT_EQ(right.input.images.max().item<float>(), 1.0f);  // 255 -> 1

  auto left = train::collate({a, b}, 2, 0, /*left_pad=*/true);
  EXPECT_TRUE(left.input.input_ids[1].equal(torch::tensor({0, 0, 0, 2, 7, 3})));
  EXPECT_TRUE(left.labels[1].equal(torch::tensor({-100, -100, -100, 7, 3, -100})));
}

TEST(Collate, DenseTargetsGoToTheirSequencesImage) {
  std::vector<uint8_t> px(2 * 2 * 3, 0);
  train::Sequence plain{{2, 9, 3}, {0, 1, 0}, {0, 0, 1}, {&px}, {}};
  train::Sequence detection{{2, 9, 3}, {0, 1, 0}, {0, 0, 1}, {&px}, {}};
  detection.dense = {{0, 1, 0, 2}, {-100, -100, -100, -100, 1, 2, 3, 4, -100, -100, -100, -100, 5, 6, 7, 8},
                     std::vector<float>(24, 0.5f), {0, 0, 0, 1, 0, 0, 1, 1}};  // 2 attributes per patch
  auto batch = train::collate({plain, detection}, 2, 0, false);
  ASSERT_EQ(batch.patch_classes.sizes(), (std::vector<int64_t>{2, 4}));
  ASSERT_EQ(batch.patch_boxes.sizes(), (std::vector<int64_t>{2, 4, 4}));
  EXPECT_TRUE(batch.patch_classes[0].equal(torch::full({4}, -100, torch::kLong)));
  EXPECT_TRUE(batch.patch_classes[1].equal(torch::tensor({0, 1, 0, 2})));
  EXPECT_TRUE(batch.patch_boxes[1][3].equal(torch::tensor({5, 6, 7, 8})));
  ASSERT_EQ(batch.patch_pixels.sizes(), (std::vector<int64_t>{2, 4, 6}));
  EXPECT_TRUE(batch.patch_pixels[1].equal(torch::full({4, 6}, 0.5f)));
  EXPECT_TRUE(batch.patch_pixels[0].equal(torch::zeros({4, 6})));
  ASSERT_EQ(batch.patch_attributes.sizes(), (std::vector<int64_t>{2, 4, 2}));
  EXPECT_TRUE(batch.patch_attributes[1].equal(torch::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 1.f, 1.f}).view({4, 2})));
  EXPECT_TRUE(batch.patch_attributes[0].equal(torch::zeros({4, 2})));
  EXPECT_FALSE(train::collate({plain}, 2, 0, false).patch_classes.defined());
}

TEST(Init, DenseCheckpointUpcyclesIntoEveryExpert) {
  auto dir = (fs::temp_directory_path() / "smoes_upcycle_test").string();
  fs::remove_all(dir);
  Config dense_cfg = small_config("unused", dir);
  dense_cfg.moe.enabled = false;
  model::MoEVLM dense(dense_cfg, 50, 4);
  CheckpointMeta meta;
  meta.config = dense_cfg.to_json();
  save_checkpoint(dir + "/dense.ckpt", *dense, nullptr, meta);

  Config moe_cfg = small_config("unused", dir);
  model::MoEVLM moe(moe_cfg, 50, 4);
  train::init_from(dir + "/dense.ckpt", moe, moe_cfg);
  EXPECT_TRUE(moe->embed->weight.equal(dense->embed->weight));
  for (size_t i = 0; i < moe->blocks->size(); ++i) {
    auto* block = moe->blocks[i]->as<model::DecoderBlock>();
    auto* dense_block = dense->blocks[i]->as<model::DecoderBlock>();
    EXPECT_TRUE(block->attn_norm->weight.equal(dense_block->attn_norm->weight));
    auto w1 = dense_block->dense->w1->weight.t();  // [d, f]
    for (int e = 0; e < moe_cfg.moe.num_experts; ++e)
      EXPECT_TRUE(block->moe->experts->w13[e].slice(1, 0, w1.size(1)).equal(w1)) << "layer " << i << " expert " << e;
  }
  // A different width cannot be upcycled: the error names the field.
  Config wider = moe_cfg;
  wider.model.d_model = 64;
  model::MoEVLM other(wider, 50, 4);
  try {
    train::init_from(dir + "/dense.ckpt", other, wider);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.d_model"), std::string::npos) << e.what();
  }
}

TEST(Pipeline, KilledRunOnTheWorldResumesToTheSameLoss) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_runs").string();
  fs::remove_all(base);
  auto whole = train::train_from_config(small_config(root, base + "/whole"));
  EXPECT_EQ(whole.steps_done, 8);
  EXPECT_TRUE(fs::exists(base + "/whole/tokenizer.model"));  // the run carries its tokenizer

  auto killed_cfg = small_config(root, base + "/killed");
  auto first = train::train_from_config(killed_cfg, /*stop_after=*/6);  // killed after step 6; last checkpoint at 4
  EXPECT_EQ(first.steps_done, 6);
  auto resumed = train::train_from_config(killed_cfg);
  EXPECT_EQ(resumed.resumed_from, 4);
  EXPECT_EQ(resumed.last_loss, whole.last_loss);  // bit-identical, not just close

  auto run = train::load_run(base + "/whole");
  EXPECT_EQ(run.cfg.train.steps, 8);
  EXPECT_EQ(run.manifest["root"], root);
  EXPECT_TRUE(run.manifest.contains("manifest_sha256"));
}

TEST(Pipeline, VisionStageOnTheWorldStartsTheFinetuneRunsViT) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_vision").string();
  fs::remove_all(base);
  auto vision = small_config(root, base + "/vision");
  vision.model.vision_classes = 5;  // the world's four shapes are ids 1-4
  vision.train.stage = "vision";
  vision.data.mixture = {{"coco_detection", 1.0}};
  auto v = train::train_from_config(vision);
  EXPECT_EQ(v.steps_done, 8);
  EXPECT_TRUE(std::isfinite(v.last_loss));

  auto finetune = small_config(root, base + "/finetune");
  finetune.model.vision_classes = 5;
  finetune.train.init_from = base + "/vision";
  finetune.train.freeze = {"encoder"};
  auto f = train::train_from_config(finetune);
  auto a = train::load_run(base + "/vision"), b = train::load_run(base + "/finetune");
  auto pa = a.model->vit->named_parameters(), pb = b.model->vit->named_parameters();
  for (auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  EXPECT_TRUE(torch::equal(a.model->vision_head->cls->weight, b.model->vision_head->cls->weight));
  EXPECT_FALSE(torch::equal(a.model->projector->fc1->weight, b.model->projector->fc1->weight));
  EXPECT_EQ(f.steps_done, 8);
}

TEST(Pipeline, WordTagsAreTheWorldsNamesAndTheCheckpointKeepsThem) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_tags").string();
  fs::remove_all(base);
  auto cfg = small_config(root, base + "/run");
  cfg.model.vision_classes = 5;
  cfg.model.vision_attributes = 14;
  cfg.model.object_tags = "words";
  cfg.train.steps = 2;
  data::Tokenizer tok(root + "/tokenizer.model");
  auto pieces = train::tag_word_pieces(cfg, tok);
  ASSERT_EQ(pieces.size(), 19u);
  EXPECT_TRUE(pieces[0].empty());                // background: no word
  EXPECT_EQ(pieces[1], tok.encode("circle"));    // category 1
  EXPECT_EQ(pieces[5 + 2], tok.encode("blue"));  // attribute 2
  EXPECT_EQ(pieces[5 + 13], tok.encode("large"));
  train::train_from_config(cfg);
  auto run = train::load_run(base + "/run");  // a loaded run reads its words from the checkpoint
  EXPECT_EQ(run.model->tag_words[1][0].item<int64_t>(), pieces[1][0]);
  EXPECT_EQ(run.model->tag_words[0][0].item<int64_t>(), -1);
}

TEST(Pipeline, BoxTagsAreTheTokenizersLocationTokensAndTheCheckpointKeepsThem) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_box_tags").string();
  fs::remove_all(base);
  auto cfg = small_config(root, base + "/run");
  cfg.model.vision_classes = 5;
  cfg.model.vision_attributes = 14;
  cfg.model.object_tags = "words_boxes";
  cfg.train.steps = 2;
  data::Tokenizer tok(root + "/tokenizer.model");
  auto ids = train::tag_location_ids(cfg, tok);
  ASSERT_EQ(int(ids.size()), cfg.model.location_bins);
  EXPECT_EQ(ids.back(), tok.location_id(cfg.model.location_bins - 1));
  train::train_from_config(cfg);
  auto run = train::load_run(base + "/run");
  EXPECT_EQ(run.model->tag_locations[0].item<int64_t>(), tok.location_id(0));
  EXPECT_EQ(run.model->tag_words[1][0].item<int64_t>(), tok.encode("circle")[0]);
}

TEST(Mixture, EvaluationOnlyTasksAreRefusedForTraining) {
  try {
    smoes::train::load_tasks("/nonexistent", {{"fact_qa", 1.0}}, "train");
    FAIL();
  } catch (const smoes::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fact_qa is evaluation-only"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(smoes::train::load_tasks("/nonexistent", {{"fact_qa", 1.0}}, "val").front().examples.empty());
}

TEST(Mixture, ATaskSlashQuestionTypeKeepsExactlyThatType) {
  const auto& root = tiny_world();
  const auto all = train::load_tasks(root, {{"vqa_v2", 1.0}}, "train").front().examples;
  const std::string type = all.front().meta.at("question_type");
  const auto expected = std::count_if(all.begin(), all.end(),
                                      [&](const data::Example& ex) { return ex.meta.at("question_type") == type; });
  const auto subset = train::load_tasks(root, {{"vqa_v2", 1.0}, {"vqa_v2/" + type, 2.0}}, "train");
  ASSERT_EQ(subset.size(), 2u);
  EXPECT_EQ(subset[0].examples.size(), all.size());
  EXPECT_EQ(int64_t(subset[1].examples.size()), expected);
  EXPECT_LT(int64_t(subset[1].examples.size()), int64_t(all.size()));
  EXPECT_EQ(subset[1].weight, 2.0);
  for (const auto& ex : subset[1].examples) EXPECT_EQ(ex.meta.at("question_type"), type);
  try {
    train::load_tasks(root, {{"vqa_v2/no such type", 1.0}}, "train");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vqa_v2/no such type: no examples"), std::string::npos) << e.what();
  }
}

TEST(VisionProbe, EnergySplitIsExactOnAHandWorkedCase) {
  // 2 images x 2 patches x 1 channel: image 0 = {1, 3}, image 1 = {3, 5}.
  // Patch means {2, 4}, shared mean 3: constant 9, position ((-1)^2 + 1^2)/2 = 1,
  // image (1 + 1 + 1 + 1)/4 = 1; together mean(F^2) = (1 + 9 + 9 + 25)/4 = 11.
  auto f = torch::tensor({1.0, 3.0, 3.0, 5.0}).view({2, 2, 1});
  auto s = train::split_energy(f);
  EXPECT_DOUBLE_EQ(s.constant, 9.0);
  EXPECT_DOUBLE_EQ(s.position, 1.0);
  EXPECT_DOUBLE_EQ(s.image, 1.0);
  EXPECT_DOUBLE_EQ(s.total(), f.pow(2).mean().item<double>());
  EXPECT_THROW(train::split_energy(torch::ones({4, 2})), Error);
}

TEST(VisionProbe, BlindModelHasNoLossGapAndASeeingOneDoes) {
  const auto& root = tiny_world();
  auto cfg = small_config(root, "unused");
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", cfg.model.image_size);
  train::ProbeOptions o;
  o.images = 8;
  o.examples = 6;
  o.batch_size = 3;
  auto seeing = train::build_model(cfg, tok);
  auto r = train::probe_vision(seeing, tok, cache, root, {"coco_captions", "corpus"}, o);
  EXPECT_FALSE(r["loss"].contains("corpus"));  // text only: nothing to blank
  EXPECT_NE(r["loss"]["coco_captions"]["gap"].get<double>(), 0.0);
  EXPECT_GT(r["projector"]["image"].get<double>(), 0.0);
  const auto& v = r["vit"];
  EXPECT_NEAR(v["constant"].get<double>() + v["position"].get<double>() + v["image"].get<double>(), 1.0, 1e-9);
  EXPECT_FALSE(seeing->cfg.model.blind);  // the probe leaves the model as it found it

  cfg.model.blind = true;
  auto blind = train::build_model(cfg, tok);
  auto b = train::probe_vision(blind, tok, cache, root, {"coco_captions"}, o);
  EXPECT_EQ(b["loss"]["coco_captions"]["gap"].get<double>(), 0.0);
  EXPECT_TRUE(blind->cfg.model.blind);
}

TEST(GroundingProbe, LookSharesSplitARowIntoObjectNeighboursAndTheRest) {
  // 3 x 3 grid, the object on patch 0: its neighbours are 1, 3 and 4.
  auto row = torch::tensor({0.1, 0.2, 0.05, 0.15, 0.25, 0.0, 0.0, 0.05, 0.0});
  auto s = train::look_shares(row, {0}, 3);
  EXPECT_DOUBLE_EQ(s.object, row[0].item<double>());
  EXPECT_NEAR(s.neighbourhood, 0.1 + 0.2 + 0.15 + 0.25, 1e-6);  // float row
  EXPECT_NEAR(s.visual, 0.8, 1e-6);
  EXPECT_FALSE(s.argmax_on_object);  // patch 4 has the most
  EXPECT_TRUE(train::look_shares(row, {4, 8}, 3).argmax_on_object);
  EXPECT_NEAR(train::look_shares(row, {4, 8}, 3).neighbourhood, 0.8, 1e-6);  // 4's neighbours are every patch
  EXPECT_THROW(train::look_shares(torch::ones({8}), {0}, 3), Error);
}

TEST(GroundingProbe, ReportsEachCoordinateAndLayerOnTheWorld) {
  const auto& root = tiny_world();
  auto cfg = small_config(root, "unused");
  cfg.model.vision_classes = 5;
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", cfg.model.image_size);
  auto model = train::build_model(cfg, tok);
  train::GroundingProbeOptions o;
  o.examples = 5;
  o.batch_size = 2;
  auto r = train::probe_grounding(model, tok, cache, root, "refcoco", o);
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
  EXPECT_THROW(train::probe_grounding(model, tok, cache, root, "vqa_v2", o), Error);  // not a grounding task
}

TEST(ImagePosition, LastPutsTheVisualTokensBetweenQuestionAndAnswer) {
  const auto& root = tiny_world();
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", 16);
  const auto vqa = train::load_tasks(root, {{"vqa_v2", 1.0}}, "train");
  const auto& ex = vqa.front().examples.front();
  auto first = train::make_sequence(tok, cache, ex, "yes", /*image_tokens=*/4, 40, "first");
  auto last = train::make_sequence(tok, cache, ex, "yes", 4, 40, "last");
  // Same tokens and images; in "last" the 4 slots come right before the answer.
  EXPECT_EQ(std::multiset<int64_t>(first.ids.begin(), first.ids.end()),
            std::multiset<int64_t>(last.ids.begin(), last.ids.end()));
  EXPECT_EQ(last.images, first.images);
  const auto answer = size_t(std::find(last.loss.begin(), last.loss.end(), 1) - last.loss.begin());
  ASSERT_GE(answer, 5u);
  for (size_t t = answer - 4; t < answer; ++t) {
    EXPECT_EQ(last.ids[t], tok.image_id()) << t;
    EXPECT_EQ(last.modality[t], 1) << t;
  }
  EXPECT_EQ(std::count(last.modality.begin(), last.modality.end(), 1), 4);
  // LLaVA order: BOS (and at most a word-boundary piece), then the image.
  EXPECT_LE(std::find(first.ids.begin(), first.ids.end(), tok.image_id()) - first.ids.begin(), 2);
}

TEST(Turns, ALaterTurnAddsItsPromptWithoutImageAndItsAnswer) {
  const auto& root = tiny_world();
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", 16);
  auto vqa = train::load_tasks(root, {{"vqa_v2", 1.0}}, "train").front().examples;
  const auto& a = vqa[0];
  const auto& b = vqa[1];
  auto seq = train::make_sequence(tok, cache, a, "yes", /*image_tokens=*/4, 40, "first");
  const size_t first_len = seq.ids.size();
  ASSERT_TRUE(train::append_turn(seq, tok, b, "red", 40, 1000));
  // The turn: b's question (no BOS, no image), then the answer and EOS, which alone carry the loss.
  std::vector<int> prompt, answer;
  for (size_t t = first_len; t < seq.ids.size(); ++t) (seq.loss[t] ? answer : prompt).push_back(int(seq.ids[t]));
  const auto question = b.prompt.substr(b.prompt.find("Question"));
  EXPECT_EQ(tok.decode(prompt), question);
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer.back(), tok.eos_id());
  answer.pop_back();
  EXPECT_EQ(tok.decode(answer), "red");
  EXPECT_EQ(std::find(seq.ids.begin() + 1, seq.ids.end(), tok.bos_id()), seq.ids.end());
  EXPECT_EQ(std::count(seq.ids.begin(), seq.ids.end(), tok.image_id()), 4);  // one image, once
  EXPECT_EQ(std::count(seq.modality.begin() + first_len, seq.modality.end(), 1), 0);
  EXPECT_EQ(seq.images.size(), 1u);
  EXPECT_EQ(std::count(seq.ids.begin(), seq.ids.end(), tok.eos_id()), 2);  // one per turn
  // Too long: refused, nothing changed.
  auto before = seq.ids;
  EXPECT_FALSE(train::append_turn(seq, tok, b, "red", 40, seq.ids.size() + 2));
  EXPECT_EQ(seq.ids, before);
}

TEST(Turns, EverySequenceTalksAboutOneImageAndTurnOneIsTheSingleTurnSequence) {
  const auto& root = tiny_world();
  data::Tokenizer tok(root + "/tokenizer.model");
  auto cfg = small_config(root, "unused");
  data::ImageCache cache("", cfg.model.image_size);
  const int image_tokens = 4;
  auto batch_of = [&](int turns) {
    cfg.data.turns_per_image = turns;
    train::ExampleSource source(cfg, train::load_tasks(root, {{"vqa_v2", 1.0}}, "train"), tok, cache, image_tokens);
    std::mt19937_64 rng(7);
    return source.next(rng);
  };
  auto single = batch_of(1), multi = batch_of(3);
  const auto eos = tok.eos_id();
  auto eos_count = [&](const train::Batch& b, int64_t row) {
    return b.input.input_ids[row].eq(eos).logical_and(b.input.attention_mask[row]).sum().item<int64_t>();
  };
  int64_t most = 0;
  for (int64_t r = 0; r < multi.input.input_ids.size(0); ++r) {
    EXPECT_EQ(multi.input.input_ids[r].eq(tok.image_id()).sum().item<int64_t>(), image_tokens);
    EXPECT_LE(eos_count(multi, r), 3);
    EXPECT_EQ(eos_count(single, r), 1);
    most = std::max(most, eos_count(multi, r));
  }
  EXPECT_EQ(multi.input.images.size(0), single.input.images.size(0));  // still one image per sequence
  EXPECT_GT(most, 1);  // the tiny world has several questions per image
  // Row 0 draws the same first example either way: its turn 1 is the single-turn sequence.
  const int64_t n = single.input.attention_mask[0].sum().item<int64_t>();
  EXPECT_TRUE(torch::equal(multi.input.input_ids[0].slice(0, 0, n), single.input.input_ids[0].slice(0, 0, n)));
  EXPECT_TRUE(torch::equal(multi.input.images[0], single.input.images[0]));
}

TEST(GroundingAttention, ThePromptTextAfterTheImageLooksAtTheBoxsVisualTokens) {
  // BOS, 4 visual tokens (2 x 2 patches of a 16 px image), two prompt tokens, the answer.
  train::Sequence seq{{2, 9, 9, 9, 9, 5, 6, 7, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 1}, {}, {}};
  data::Example ex;
  ex.task = "refcoco";
  ex.id = "r1";
  ex.image_width = ex.image_height = 16;
  ex.box = {8, 0, 8, 16};  // the right half: patches 1 and 3, at positions 2 and 4
  train::set_grounding_target(seq, ex, 2);
  EXPECT_EQ(seq.look_from, (std::vector<int64_t>{5, 6}));  // 6 predicts the first answer token
  EXPECT_EQ(seq.look_at, (std::vector<int64_t>{2, 4}));
  // Collated with left padding, both shift with the sequence.
  train::Sequence other{{2, 9, 9, 9, 9, 5, 6, 7, 3, 3, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
                        {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, {}, {}};
  auto batch = train::collate({seq, other}, 16, 0, /*left_pad=*/true);
  EXPECT_TRUE(batch.look_from[0].nonzero().flatten().equal(torch::tensor({int64_t(7), int64_t(8)})));
  EXPECT_TRUE(batch.look_at[0].nonzero().flatten().equal(torch::tensor({int64_t(4), int64_t(6)})));
  EXPECT_FALSE(batch.look_from[1].any().item<bool>());
  EXPECT_FALSE(batch.look_at[1].any().item<bool>());
  EXPECT_FALSE(train::collate({other}, 16, 0, false).look_from.defined());
  ex.image_width = 0;
  EXPECT_THROW(train::set_grounding_target(seq, ex, 2), Error);
}

TEST(GroundingAttention, FromTheBoxThePositionsThatWriteLocationTokensLook) {
  // BOS, 4 visual tokens, two prompt tokens, the answer: a space piece (8), two location tokens (20, 21), EOS.
  train::Sequence seq{{2, 9, 9, 9, 9, 5, 6, 8, 20, 21, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
                      {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, {}, {}};
  data::Example ex;
  ex.task = "refcoco";
  ex.id = "r2";
  ex.image_width = ex.image_height = 16;
  ex.box = {0, 0, 8, 8};  // the top-left patch, at position 1
  train::set_grounding_target(seq, ex, 2, "box", /*first_location=*/20, /*bins=*/4);
  EXPECT_EQ(seq.look_from, (std::vector<int64_t>{7, 8}));  // they predict 20 and 21
  EXPECT_EQ(seq.look_at, (std::vector<int64_t>{1}));
  seq.ids[8] = seq.ids[9] = 30;  // no location token in the answer
  EXPECT_THROW(train::set_grounding_target(seq, ex, 2, "box", 20, 4), Error);
}

TEST(BoxPointer, QueriesFromTheLastPromptTokenAndShiftsWithPadding) {
  train::Sequence seq{{2, 9, 9, 9, 9, 5, 6, 7, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 1}, {}, {}};
  data::Example ex;
  ex.task = "refcoco";
  ex.id = "r3";
  ex.image_width = ex.image_height = 16;
  ex.box = {8, 0, 8, 16};
  train::set_grounding_target(seq, ex, 2);
  EXPECT_EQ(seq.point_from, 6);  // 6 predicts the first answer token
  train::Sequence other{{2, 9, 9, 9, 9, 5, 6, 7, 3, 3, 3}, {0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
                        {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, {}, {}};
  auto batch = train::collate({seq, other}, 16, 0, /*left_pad=*/true);
  EXPECT_TRUE(batch.point_from.equal(torch::tensor({int64_t(8), int64_t(-1)})));
}

TEST(BoxPointer, TrainsOnGroundingButEvaluationBoxesAreTheDecodersLocationTokens) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_pointer").string();
  fs::remove_all(base);
  auto cfg = small_config(root, base + "/run");
  cfg.model.vision_classes = 5;
  cfg.model.box_pointer = true;
  cfg.data.mixture = {{"refcoco", 1.0}};
  cfg.train.steps = 3;
  auto off = cfg;  // the same run with the pointer's loss weighted 0: its weights never move
  off.train.box_pointer = 0;
  off.train.out_dir = base + "/off";
  train::train_from_config(off);
  train::train_from_config(cfg);
  auto run = train::load_run(base + "/run");
  EXPECT_FALSE(torch::equal(run.model->pointer_query->weight, train::load_run(base + "/off").model->pointer_query->weight));
  std::ifstream metrics(base + "/run/metrics.jsonl");
  std::string line, all;
  while (std::getline(metrics, line)) all += line;
  EXPECT_NE(all.find("\"loss_box_pointer\""), std::string::npos);
  EXPECT_NE(all.find("\"box_pointer_accuracy\""), std::string::npos);

  // Evaluation never scores the pointer: a pointer model's boxes are the
  // location tokens its decoder generates, decoded one example at a time here.
  auto& model = run.model;
  data::ImageCache cache("", cfg.model.image_size);
  auto examples = tasks::find_task("refcoco").load(root, "val", false, nullptr);
  ASSERT_GE(examples.size(), 3u);
  examples.resize(3);
  train::PredictOptions o;
  o.batch_size = 3;
  auto predicted = train::predict(model, *run.tok, cache, tasks::find_task("refcoco"), examples, o);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < examples.size(); ++i) {
    auto seq = train::make_sequence(*run.tok, cache, examples[i], "", int(model->image_tokens()), o.max_text_len,
                                    cfg.data.image_position);
    seq.ids.pop_back();  // the prompt alone: no eos
    seq.modality.pop_back();
    seq.loss.pop_back();
    auto in = train::collate({seq}, cfg.model.image_size, run.tok->pad_id(), false).input;
    std::vector<int> bins;
    for (int64_t id : model::greedy_generate(model, in, 6, run.tok->eos_id())[0])
      if (id >= run.tok->location_id(0) && id < run.tok->location_id(0) + cfg.model.location_bins && bins.size() < 4)
        bins.push_back(int(id - run.tok->location_id(0)));
    auto expected = bins.size() == 4 ? tasks::location_bins_to_box(bins, examples[i].image_width,
                                                                    examples[i].image_height, cfg.model.location_bins)
                                     : std::vector<double>{};
    EXPECT_EQ(predicted[i].box, expected) << i;
  }
}
