#include "train/init.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/checkpoint.h"
#include "core/error.h"

namespace smoes::train {

namespace fs = std::filesystem;

std::string resolve_checkpoint(const std::string& where) {
  if (!fs::is_directory(where)) return where;
  for (auto dir : {fs::path(where) / "checkpoints", fs::path(where)})
    if (auto latest = CheckpointDir(dir.string(), 1).latest()) return *latest;
  throw Error(where + ": no checkpoint in this run directory");
}

namespace {

// Dense -> MoE may differ only in the MoE/router sections and the dense FFN width.
void require_upcyclable(const Config& dense, const Config& moe, const std::string& path) {
  Config same = dense;
  same.moe = moe.moe;
  same.router = moe.router;
  same.model.dense_ffn_hidden = moe.model.dense_ffn_hidden;
  auto diff = same.architecture_diff(moe);
  if (!diff.empty()) throw Error(path + ": cannot upcycle into this model; it differs in " + diff);
}

void upcycle(const std::string& path, const Config& src, model::MoEVLM& model, const Config& cfg) {
  require_upcyclable(src, cfg, path);
  model::MoEVLM dense(src, model->vocab_size, model->image_token_id);
  load_checkpoint(path, *dense, nullptr, &src, /*restore_rng=*/false);
  torch::NoGradGuard no_grad;
  auto from = dense->named_parameters();
  int64_t copied = 0;
  for (auto& p : model->named_parameters()) {
    if (const auto* t = from.find(p.key()); t && t->sizes() == p.value().sizes()) {
      p.value().copy_(*t);
      ++copied;
    }
  }
  int upcycled = 0;
  for (size_t i = 0; i < model->blocks->size(); ++i) {
    auto* block = model->blocks[i]->as<model::DecoderBlock>();
    if (!block->moe) continue;
    auto* dense_block = dense->blocks[i]->as<model::DecoderBlock>();
    block->moe->experts->upcycle_from(dense_block->dense, cfg.moe.upcycle_noise);
    ++upcycled;
  }
  spdlog::info("init: upcycled {} MoE layers from the dense checkpoint {} ({} tensors copied)", upcycled, path, copied);
}

}  // namespace

void init_from(const std::string& where, model::MoEVLM& model, const Config& cfg) {
  auto path = resolve_checkpoint(where);
  Config src = Config::from_json(read_checkpoint_meta(path).config, path);
  if (src.architecture_diff(cfg).empty()) {
    load_checkpoint(path, *model, nullptr, &cfg, /*restore_rng=*/false);
    spdlog::info("init: weights from {}", path);
  } else if (!src.moe.enabled && cfg.moe.enabled) {
    upcycle(path, src, model, cfg);
  } else {
    throw Error(path + ": its architecture differs from this config: " + src.architecture_diff(cfg));
  }
}

}  // namespace smoes::train
