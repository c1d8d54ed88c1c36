// The data -> batch -> trainer pipeline: upcycling, a real run on the tiny
// world that is killed and resumed, stages, tags, mixtures, turns and the box
// pointer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "../tiny_run.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "data/tokenizer.h"
#include "eval/predict.h"
#include "model/generate.h"
#include "tasks/batch.h"
#include "tasks/tasks.h"
#include "train/example_source.h"
#include "train/init.h"
#include "train/run.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

const std::string& tiny_world() {
  static const std::string root = tiny_run::make_world("smoes_pipeline_world");
  return root;
}

}  // namespace

TEST(Init, DenseCheckpointUpcyclesIntoEveryExpert) {
  auto dir = (fs::temp_directory_path() / "smoes_upcycle_test").string();
  fs::remove_all(dir);
  Config dense_cfg = tiny_run::small_config("unused", dir);
  dense_cfg.moe.enabled = false;
  model::MoEVLM dense(dense_cfg, 50, 4);
  CheckpointMeta meta;
  meta.config = dense_cfg.to_json();
  save_checkpoint(dir + "/dense.ckpt", *dense, nullptr, meta);

  Config moe_cfg = tiny_run::small_config("unused", dir);
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

TEST(Init, TopkCheckpointStartsAnSmoesRunWithFreshRouterState) {
  auto dir = (fs::temp_directory_path() / "smoes_router_change_test").string();
  fs::remove_all(dir);
  Config topk_cfg = tiny_run::small_config("unused", dir);
  torch::manual_seed(1);
  model::MoEVLM topk(topk_cfg, 50, 4);
  CheckpointMeta meta;
  meta.config = topk_cfg.to_json();
  save_checkpoint(dir + "/topk.ckpt", *topk, nullptr, meta);

  Config smoes_cfg = topk_cfg;
  smoes_cfg.router.name = "smoes";
  smoes_cfg.router.soft_scores = "gaussian";
  torch::manual_seed(2);
  model::MoEVLM smoes(smoes_cfg, 50, 4);
  train::init_from(dir + "/topk.ckpt", smoes, smoes_cfg);
  auto from = topk->named_parameters();
  for (const auto& p : smoes->named_parameters()) EXPECT_TRUE(p.value().equal(from[p.key()])) << p.key();
  for (const auto& b : smoes->named_buffers())
    if (b.key().find("gaussian_updates") != std::string::npos) EXPECT_EQ(b.value().sum().item<double>(), 0.0);
  // More, narrower experts: everything outside the MoE layers carries over, the experts start fresh.
  Config finer = smoes_cfg;
  finer.moe.num_experts *= 2;
  finer.moe.ffn_hidden /= 2;
  model::MoEVLM fine(finer, 50, 4);
  auto fresh_w13 = fine->named_parameters()["blocks.0.moe.experts.w13"].clone();
  train::init_from(dir + "/topk.ckpt", fine, finer);
  EXPECT_TRUE(fine->named_parameters()["blocks.0.attn.qkv.weight"].equal(from["blocks.0.attn.qkv.weight"]));
  EXPECT_TRUE(fine->named_parameters()["blocks.0.moe.experts.w13"].equal(fresh_w13));
  // Anything beyond the router and MoE sections still has to match.
  Config deeper = smoes_cfg;
  deeper.model.n_heads = 2;
  model::MoEVLM other(deeper, 50, 4);
  try {
    train::init_from(dir + "/topk.ckpt", other, deeper);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.n_heads"), std::string::npos) << e.what();
  }
}

TEST(Pipeline, KilledRunOnTheWorldResumesToTheSameLoss) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_runs").string();
  fs::remove_all(base);
  auto whole = train::train_from_config(tiny_run::small_config(root, base + "/whole"));
  EXPECT_EQ(whole.steps_done, 8);
  EXPECT_TRUE(fs::exists(base + "/whole/tokenizer.model"));  // the run carries its tokenizer

  auto killed_cfg = tiny_run::small_config(root, base + "/killed");
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
  auto vision = tiny_run::small_config(root, base + "/vision");
  vision.model.vision_classes = 5;  // the world's four shapes are ids 1-4
  vision.train.stage = "vision";
  vision.data.mixture = {{"coco_detection", 1.0}};
  auto v = train::train_from_config(vision);
  EXPECT_EQ(v.steps_done, 8);
  EXPECT_TRUE(std::isfinite(v.last_loss));

  auto finetune = tiny_run::small_config(root, base + "/finetune");
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
  auto cfg = tiny_run::small_config(root, base + "/run");
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
  EXPECT_EQ(run.model->tags->words[1][0].item<int64_t>(), pieces[1][0]);
  EXPECT_EQ(run.model->tags->words[0][0].item<int64_t>(), -1);
}

TEST(Pipeline, BoxTagsAreTheTokenizersLocationTokensAndTheCheckpointKeepsThem) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_box_tags").string();
  fs::remove_all(base);
  auto cfg = tiny_run::small_config(root, base + "/run");
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
  EXPECT_EQ(run.model->tags->locations[0].item<int64_t>(), tok.location_id(0));
  EXPECT_EQ(run.model->tags->words[1][0].item<int64_t>(), tok.encode("circle")[0]);
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

TEST(ImagePosition, LastPutsTheVisualTokensBetweenQuestionAndAnswer) {
  const auto& root = tiny_world();
  data::Tokenizer tok(root + "/tokenizer.model");
  data::ImageCache cache("", 16);
  const auto vqa = train::load_tasks(root, {{"vqa_v2", 1.0}}, "train");
  const auto& ex = vqa.front().examples.front();
  auto first = tasks::make_sequence(tok, cache, ex, "yes", /*image_tokens=*/4, 40, "first");
  auto last = tasks::make_sequence(tok, cache, ex, "yes", 4, 40, "last");
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
  auto seq = tasks::make_sequence(tok, cache, a, "yes", /*image_tokens=*/4, 40, "first");
  const size_t first_len = seq.ids.size();
  ASSERT_TRUE(tasks::append_turn(seq, tok, b, "red", 40, 1000));
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
  EXPECT_FALSE(tasks::append_turn(seq, tok, b, "red", 40, seq.ids.size() + 2));
  EXPECT_EQ(seq.ids, before);
}

TEST(Turns, EverySequenceTalksAboutOneImageAndTurnOneIsTheSingleTurnSequence) {
  const auto& root = tiny_world();
  data::Tokenizer tok(root + "/tokenizer.model");
  auto cfg = tiny_run::small_config(root, "unused");
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
  auto eos_count = [&](const tasks::Batch& b, int64_t row) {
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

TEST(BoxPointer, TrainsOnGroundingButEvaluationBoxesAreTheDecodersLocationTokens) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_pointer").string();
  fs::remove_all(base);
  auto cfg = tiny_run::small_config(root, base + "/run");
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
  EXPECT_FALSE(torch::equal(run.model->pointer->query->weight, train::load_run(base + "/off").model->pointer->query->weight));
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
  eval::PredictOptions o;
  o.batch_size = 3;
  auto predicted = eval::predict(model, *run.tok, cache, tasks::find_task("refcoco"), examples, o);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < examples.size(); ++i) {
    auto seq = tasks::make_sequence(*run.tok, cache, examples[i], "", int(model->image_tokens()), o.max_text_len,
                                    cfg.data.image_position);
    seq.ids.pop_back();  // the prompt alone: no eos
    seq.modality.pop_back();
    seq.loss.pop_back();
    auto in = tasks::collate({seq}, cfg.model.image_size, run.tok->pad_id(), false).input;
    std::vector<int> bins;
    const auto generated = model::greedy_generate(model, in, 6, run.tok->eos_id());  // kept: the loop reads into it
    for (int64_t id : generated[0])
      if (id >= run.tok->location_id(0) && id < run.tok->location_id(0) + cfg.model.location_bins && bins.size() < 4)
        bins.push_back(int(id - run.tok->location_id(0)));
    auto expected = bins.size() == 4 ? tasks::location_bins_to_box(bins, examples[i].image_width,
                                                                    examples[i].image_height, cfg.model.location_bins)
                                     : std::vector<double>{};
    EXPECT_EQ(predicted[i].box, expected) << i;
  }
}

// What `smoes eval --blank-images` does (model.blind on a sighted run):
// every prediction is the same whichever image file an example names, while
// the same weights with sight do read the file.
TEST(BlankImages, PredictionsDoNotDependOnTheImageFile) {
  const auto& root = tiny_world();
  auto base = (fs::temp_directory_path() / "smoes_pipeline_blank").string();
  fs::remove_all(base);
  auto cfg = tiny_run::small_config(root, base + "/run");
  cfg.data.mixture = {{"refcoco", 1.0}, {"coco_captions", 1.0}};
  train::train_from_config(cfg);
  auto run = train::load_run(base + "/run");
  auto& model = run.model;
  data::ImageCache cache("", cfg.model.image_size);
  eval::PredictOptions o;
  o.batch_size = 4;
  for (const char* name : {"refcoco", "coco_captions"}) {
    const auto& task = tasks::find_task(name);
    auto examples = task.load(root, "val", false, nullptr);
    ASSERT_GE(examples.size(), 4u) << name;
    examples.resize(4);
    auto moved = examples;  // every example now names an image file that is not its own
    for (auto& ex : moved)
      for (const auto& other : task.load(root, "val", false, nullptr))
        if (other.image_paths != ex.image_paths) {
          ex.image_paths = other.image_paths;
          break;
        }
    auto prompt_logits = [&](const data::Example& ex) {
      auto seq = tasks::make_sequence(*run.tok, cache, ex, "", int(model->image_tokens()), o.max_text_len,
                                      cfg.data.image_position);
      torch::NoGradGuard no_grad;
      return model->forward(tasks::collate({seq}, cfg.model.image_size, run.tok->pad_id(), false).input).logits;
    };
    model->eval();
    model->cfg.model.blind = false;
    EXPECT_FALSE(prompt_logits(examples[0]).equal(prompt_logits(moved[0]))) << name << ": sight reads the file";
    model->cfg.model.blind = true;
    EXPECT_TRUE(prompt_logits(examples[0]).equal(prompt_logits(moved[0]))) << name;
    auto a = eval::predict(model, *run.tok, cache, task, examples, o);
    auto b = eval::predict(model, *run.tok, cache, task, moved, o);
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_NE(examples[i].image_paths, moved[i].image_paths);
      EXPECT_EQ(a[i].text, b[i].text) << name << " " << i;
      EXPECT_EQ(a[i].box, b[i].box) << name << " " << i;
    }
  }
}
