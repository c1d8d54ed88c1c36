#include "train/run.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/checkpoint.h"
#include "core/error.h"
#include "core/files.h"
#include "data/instances.h"
#include "dist/group.h"
#include "eval/evaluate.h"
#include "tasks/layouts.h"
#include "train/example_source.h"
#include "train/init.h"

namespace smoes::train {

namespace fs = std::filesystem;

std::string tokenizer_path(const Config& cfg) {
  return cfg.data.tokenizer.empty() ? (fs::path(cfg.data.root) / "tokenizer.model").string() : cfg.data.tokenizer;
}

model::MoEVLM build_model(const Config& cfg, const data::Tokenizer& tok) {
  if (cfg.model.vocab_size != 0 && cfg.model.vocab_size != tok.vocab_size())
    throw Error("model.vocab_size is " + std::to_string(cfg.model.vocab_size) + " but the tokenizer " + tok.path() +
                " has " + std::to_string(tok.vocab_size()) + " pieces (use 0 to take the tokenizer's)");
  if (tok.location_bins() < cfg.model.location_bins)
    throw Error("model.location_bins is " + std::to_string(cfg.model.location_bins) + " but the tokenizer " +
                tok.path() + " has only " + std::to_string(tok.location_bins()) + " <loc_i> tokens");
  torch::manual_seed(cfg.train.seed);  // initial weights are a function of the config
  return model::MoEVLM(cfg, tok.vocab_size(), tok.image_id());
}

std::vector<std::vector<int>> tag_word_pieces(const Config& cfg, const data::Tokenizer& tok) {
  // COCO's instances, wherever its layout puts them (tasks/layouts.h): the folder holding annotations/.
  const auto found = tasks::find_layout("the vision tags' names", cfg.data.root,
                                        tasks::coco_layouts("instances_train2014.json", "train2014"));
  auto names =
      data::load_coco_label_names(fs::path(found.annotations[0]).parent_path().parent_path().string(), "train2014");
  auto pieces = [&](const std::map<int, std::string>& named, int id) {
    auto it = named.find(id);
    return it == named.end() ? std::vector<int>{} : tok.encode(it->second);
  };
  std::vector<std::vector<int>> out;
  for (int c = 0; c < cfg.model.vision_classes; ++c) out.push_back(pieces(names.categories, c));
  for (int a = 0; a < cfg.model.vision_attributes; ++a) out.push_back(pieces(names.attributes, a));
  return out;
}

std::vector<int> tag_location_ids(const Config& cfg, const data::Tokenizer& tok) {
  std::vector<int> ids;
  for (int b = 0; b < cfg.model.location_bins; ++b) ids.push_back(tok.location_id(b));
  return ids;
}

nlohmann::json data_manifest(const Config& cfg, const std::string& tokenizer_file) {
  nlohmann::json m = {{"root", cfg.data.root}, {"tokenizer_sha256", sha256_file(tokenizer_file)}};
  auto manifest = fs::path(cfg.data.root) / "MANIFEST.json";
  if (fs::exists(manifest)) m["manifest_sha256"] = sha256_file(manifest.string());
  return m;
}

std::string keep_tokenizer_with_run(const std::string& tokenizer_file, const std::string& run_dir) {
  auto dest = (fs::path(run_dir) / "tokenizer.model").string();
  if (fs::exists(dest) && fs::equivalent(dest, tokenizer_file)) return dest;
  fs::create_directories(run_dir);
  write_file_atomic(dest, read_file(tokenizer_file));
  return dest;
}

LoadedRun load_run(const std::string& where) {
  LoadedRun run;
  run.checkpoint = resolve_checkpoint(where);
  auto meta = read_checkpoint_meta(run.checkpoint);
  run.cfg = Config::from_json(meta.config, run.checkpoint);
  run.manifest = meta.data_manifest;
  auto own = fs::path(run.cfg.train.out_dir) / "tokenizer.model";
  auto beside = fs::path(run.checkpoint).parent_path().parent_path() / "tokenizer.model";
  std::string tok_file = fs::exists(beside) ? beside.string()
                         : fs::exists(own)  ? own.string()
                                            : tokenizer_path(run.cfg);
  run.tok = std::make_unique<data::Tokenizer>(tok_file);
  run.model = build_model(run.cfg, *run.tok);
  load_checkpoint(run.checkpoint, *run.model, nullptr, &run.cfg, /*restore_rng=*/false);
  run.model->eval();
  return run;
}

TrainResult train_from_config(const Config& cfg, int64_t stop_after, const GroupHook& on_group) {
  ensure_writable_dir(cfg.train.out_dir, "train.out_dir");  // before any work that a bad path would waste
  auto tok_file = keep_tokenizer_with_run(tokenizer_path(cfg), cfg.train.out_dir);
  data::Tokenizer tok(tok_file);
  auto model = build_model(cfg, tok);
  if (model->tags) {
    model->tags->set_words(tag_word_pieces(cfg, tok), model->vocab_size);
    if (model->tags->locations.defined()) model->tags->set_locations(tag_location_ids(cfg, tok), model->vocab_size);
  }
  bool resuming = CheckpointDir((fs::path(cfg.train.out_dir) / "checkpoints").string(), 1).latest().has_value();
  if (!resuming && !cfg.train.init_from.empty()) init_from(cfg.train.init_from, model, cfg);
  data::ImageCache cache(cfg.data.image_cache, cfg.model.image_size);
  ExampleSource source(cfg, load_tasks(cfg.data.root, cfg.data.mixture, "train"), tok, cache, model->image_tokens());
  std::function<nlohmann::json(model::MoEVLM&)> evaluate;
  if (!cfg.data.eval_tasks.empty()) {
    evaluate = [&](model::MoEVLM& m) {
      eval::EvalOptions o;
      o.limit = cfg.data.eval_examples;
      o.predict.max_text_len = cfg.data.max_text_len;
      return eval::evaluate_tasks(m, tok, cache, cfg.data.root, cfg.data.eval_tasks, o);
    };
  }
  // Data parallel when the environment describes several ranks (torchrun
  // variables, mpirun, or `smoes train --nproc N`).
  std::unique_ptr<dist::Group> group;
  const auto world = dist::world_from_env();
  if (world.size > 1) {
    if (cfg.train.batch_size % world.size != 0)
      throw Error("train.batch_size " + std::to_string(cfg.train.batch_size) + " is not divisible by the " +
                  std::to_string(world.size) + " ranks (it is the global batch)");
    group = std::make_unique<dist::Group>(world, std::chrono::minutes(30));
    group->require_same("the resolved config", cfg.to_json().dump());
    spdlog::info("train: rank {} of {} ({}, store {}:{})", world.rank, world.size, world.source, world.addr,
                 world.port);
  }
  std::function<void()> after;
  if (group && on_group) after = on_group(model, *group);
  Trainer trainer(cfg, model, source, evaluate, data_manifest(cfg, tok_file), group.get());
  auto result = trainer.run(stop_after);
  if (after) after();
  return result;
}

}  // namespace smoes::train
