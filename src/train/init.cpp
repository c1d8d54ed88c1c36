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

// A run may change its router (a top-k model fine-tuned as SMoES, RQ1/RQ2)
// or its experts (E, top-k, expert width: the E=16 study models start from
// the E=8 vision stage, whose decoder that stage never trains) when nothing
// but the router and MoE sections differ: every tensor with the same name
// and shape carries over (the gate's weights included); what changed shape
// and state only the new router has (SMoES's Gaussians, loads and bins,
// SMAR's biases) start as in a fresh model.
bool moe_differs_only(const Config& src, const Config& cfg) {
  Config same = src;
  same.router = cfg.router;
  same.moe = cfg.moe;
  return src.moe.enabled == cfg.moe.enabled && same.architecture_diff(cfg).empty();
}

void change_moe(const std::string& path, const Config& src, model::MoEVLM& model, const Config& cfg) {
  model::MoEVLM from_model(src, model->vocab_size, model->image_token_id);
  load_checkpoint(path, *from_model, nullptr, &src, /*restore_rng=*/false);
  torch::NoGradGuard no_grad;
  int64_t copied = 0;
  std::vector<std::string> fresh;
  auto copy = [&](const auto& from, const auto& to) {
    for (const auto& t : to) {
      if (const auto* f = from.find(t.key()); f && f->sizes() == t.value().sizes()) {
        t.value().copy_(*f);
        ++copied;
      } else {
        fresh.push_back(t.key());
      }
    }
  };
  copy(from_model->named_parameters(), model->named_parameters());
  copy(from_model->named_buffers(), model->named_buffers());
  spdlog::info("init: router {} (E {}) -> {} (E {}) from {}: {} tensors copied, {} start fresh{}{}",
               src.router.name, src.moe.num_experts, cfg.router.name, cfg.moe.num_experts, path, copied, fresh.size(),
               fresh.empty() ? "" : ", e.g. ", fresh.empty() ? "" : fresh.front());
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
  } else if (moe_differs_only(src, cfg)) {
    change_moe(path, src, model, cfg);
  } else {
    throw Error(path + ": its architecture differs from this config: " + src.architecture_diff(cfg));
  }
}

}  // namespace smoes::train
