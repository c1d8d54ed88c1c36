#include "train/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>

#include "core/checkpoint.h"
#include "core/non_finite_error.h"
#include "core/log.h"
#include "train/schedule.h"

namespace smoes::train {
std::set<std::string> trainable_groups(const std::string& stage) {
  const std::set<std::string> decoder = {"embeddings", "attention", "norms", "experts", "routers", "dense_ffn"};
  if (stage == "lm") return decoder;
  if (stage == "align") return {"encoder", "projector"};
  if (stage == "vision") return {"encoder", "vision_head"};        // the ViT's dense detection pretraining
  if (stage == "moe") return {"experts", "routers", "projector"};  // MoE-LLaVA's MoE stage
  if (stage == "finetune") {
    auto all = decoder;
    all.insert({"encoder", "projector", "pointer"});
    return all;
  }
  throw Error("train.stage: unknown stage '" + stage + "'");
}

int64_t apply_freezing(torch::nn::Module& model, const TrainConfig& cfg) {
  auto groups = trainable_groups(cfg.stage);
  for (const auto& f : cfg.freeze) {
    static const std::set<std::string> known = {"embeddings", "encoder", "projector", "attention",   "norms",
                                                "experts",    "routers", "dense_ffn", "vision_head", "pointer"};
    if (!known.count(f)) throw Error("train.freeze: unknown parameter group '" + f + "'");
    groups.erase(f);
  }
  int64_t trainable = 0;
  for (auto& p : model.named_parameters()) {
    bool train = groups.count(model::parameter_group(p.key())) > 0;
    p.value().set_requires_grad(train);
    if (train) trainable += p.value().numel();
  }
  return trainable;
}

Trainer::Trainer(Config cfg, model::MoEVLM model, tasks::BatchSource& data,
                 std::function<nlohmann::json(model::MoEVLM&)> evaluate, nlohmann::json data_manifest,
                 dist::Group* group)
    : cfg_(std::move(cfg)),
      model_(std::move(model)),
      data_(data),
      evaluate_(std::move(evaluate)),
      data_manifest_(std::move(data_manifest)),
      data_rng_(cfg_.train.seed),
      group_(group) {
  int64_t trainable = apply_freezing(*model_, cfg_.train);
  if (trainable == 0) throw Error("train: every parameter is frozen (train.stage/train.freeze)");
  // No weight decay on norms and embeddings, as in nanoGPT / Megatron.
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model_->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    auto group = model::parameter_group(p.key());
    (p.value().dim() >= 2 && group != "norms" && group != "embeddings" ? decay : no_decay).push_back(p.value());
  }
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(cfg_.train.lr).betas({cfg_.train.beta1, cfg_.train.beta2}).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(cfg_.train.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  opt_ = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(cfg_.train.lr));
  spdlog::info("train: {} trainable parameters (stage {})", trainable, cfg_.train.stage);
}

std::pair<torch::Tensor, double> grounding_attention_loss(const torch::Tensor& probs, const torch::Tensor& look_from,
                                                          const torch::Tensor& look_at) {
  if (probs.dim() != 3 || look_from.sizes() != probs.sizes().slice(0, 2) || look_at.sizes() != look_from.sizes())
    throw Error("grounding attention: probabilities " + c10::str(probs.sizes()) + ", query positions " +
                c10::str(look_from.sizes()) + " and targets " + c10::str(look_at.sizes()) + " do not fit");
  auto mass = torch::bmm(probs, look_at.to(probs.dtype()).unsqueeze(-1)).squeeze(-1);  // [B, S] per query row
  auto rows = look_from.to(probs.dtype());
  auto per_seq = rows.sum(1);
  auto has = per_seq.gt(0);
  auto mean_over_rows = [&](const torch::Tensor& v) {  // per sequence, then over sequences with rows
    return ((v * rows).sum(1).index({has}) / per_seq.index({has})).mean();
  };
  // The epsilon keeps the log finite (and its gradient bounded) at zero mass.
  return {mean_over_rows(-(mass + 1e-6).log()), mean_over_rows(mass.detach()).item<double>()};
}

std::pair<torch::Tensor, double> box_pointer_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  if (logits.dim() != 2 || target.sizes() != logits.sizes() || target.scalar_type() != torch::kBool)
    throw Error("box pointer: logits " + c10::str(logits.sizes()) + " and targets " + c10::str(target.sizes()) +
                " do not fit");
  if (!target.any(1).all().item<bool>()) throw Error("box pointer: a row has no target position");
  const double neg_inf = -std::numeric_limits<double>::infinity();
  auto on_target = logits.masked_fill(target.logical_not(), neg_inf).logsumexp(1);
  auto hits = target.gather(1, logits.argmax(1, /*keepdim=*/true)).to(torch::kDouble);
  return {(logits.logsumexp(1) - on_target).mean(), hits.mean().item<double>()};
}

std::vector<double> Trainer::summed(std::vector<double> values) {
  if (!group_) return values;
  std::vector<torch::Tensor> t = {torch::tensor(values, torch::kDouble)};
  group_->allreduce_sum(t);
  return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + t[0].numel());
}

double Trainer::train_step(int64_t step, nlohmann::json& record) {
  const auto& t = cfg_.train;
  double lr = lr_at(step, t.lr, t.warmup_steps, t.steps, t.min_lr_ratio);
  for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  opt_->zero_grad();
  double loss_sum = 0, aux_sum = 0;
  int64_t tokens = 0;
  std::map<std::string, double> aux_parts, accuracies;
  const int ranks = group_ ? group_->size() : 1;
  for (int micro = 0; micro < t.grad_accum; ++micro) {
    tasks::Batch batch = group_ ? data_.next_shard(data_rng_, group_->rank(), ranks) : data_.next(data_rng_);
    if (t.stage == "vision") {
      auto dense = vision_loss(batch);  // a mean over equal shares of patches: each rank's weighs 1 / ranks
      (dense.loss / (t.grad_accum * ranks)).backward();
      loss_sum += dense.loss.item<double>() / (t.grad_accum * ranks);
      accuracies["dense_class_accuracy"] += dense.class_accuracy / t.grad_accum;
      accuracies["dense_box_bin_accuracy"] += dense.box_bin_accuracy / t.grad_accum;
      accuracies["dense_pixel_mse"] += dense.pixel_mse / t.grad_accum;
      if (batch.patch_attributes.defined())
        accuracies["dense_attribute_accuracy"] += dense.attribute_accuracy / t.grad_accum;
      tokens += batch.input.images.size(0) * model_->image_tokens();
      continue;
    }
    const bool look = t.grounding_attention > 0 && batch.look_from.defined();
    auto out = model_->forward_loss(batch.input, batch.labels, t.loss_average == "sequence", look);
    auto task_loss = out.loss;
    // This rank's share of the global batch's loss: its labelled tokens over
    // all ranks' (a token mean), or its sequences over all (a sequence mean);
    // the summed gradients are then the global batch's. The MoE auxiliary
    // losses are each rank's own, averaged (per-micro-batch, as Megatron's default).
    double share = 1.0;
    if (group_) {
      const double mine =
          t.loss_average == "sequence" ? double(batch.labels.size(0)) : batch.labels.ne(-100).sum().item<double>();
      const double all = summed({mine})[0];
      share = all > 0 ? mine / all : 1.0 / ranks;
    }
    auto loss = (task_loss * share + out.aux_loss / ranks) / t.grad_accum;
    if (cfg_.model.box_pointer && t.box_pointer > 0 && batch.point_from.defined()) {
      auto rows = batch.point_from.ge(0).nonzero().select(1, 0);
      auto of_rows = [&](const torch::Tensor& v) { return v.index_select(0, rows); };
      auto logits = model_->pointer->logits(
          of_rows(out.embedded), of_rows(batch.input.modality),
          of_rows(model::pointer_words(batch.input.input_ids, batch.input.modality, model_->tags)),
          of_rows(batch.point_from));
      auto [p, hit] = box_pointer_loss(logits, of_rows(batch.look_at));
      loss = loss + t.box_pointer * p / (t.grad_accum * ranks);
      aux_parts["box_pointer"] += p.item<double>() / t.grad_accum;
      accuracies["box_pointer_accuracy"] += hit / t.grad_accum;
    }
    if (look) {
      auto [g, mass] = grounding_attention_loss(out.attention_probs.at(size_t(t.grounding_attention_layer)),
                                                batch.look_from, batch.look_at);
      loss = loss + t.grounding_attention * g / (t.grad_accum * ranks);
      aux_parts["grounding_attention"] += g.item<double>() / t.grad_accum;
      accuracies["grounding_attention_mass"] += mass / t.grad_accum;
    }
    loss.backward();
    loss_sum += task_loss.item<double>() * share / t.grad_accum;
    aux_sum += out.aux_loss.item<double>() / (t.grad_accum * ranks);
    for (auto& [name, value] : out.losses) aux_parts[name] += value.item<double>() / t.grad_accum;
    for (const auto& r : out.routing)
      routing_.try_emplace(r.layer, cfg_.moe.num_experts)
          .first->second.add(r.decision.indices, r.decision.probs, r.modality, r.dropped_slots, r.total_slots);
    tokens += batch.input.attention_mask.defined() ? batch.input.attention_mask.sum().item<int64_t>()
                                                   : batch.input.input_ids.numel();
  }
  if (group_) {
    std::vector<torch::Tensor> params;
    for (auto& p : model_->parameters())
      if (p.requires_grad()) params.push_back(p);
    group_->allreduce_gradients(params);
    auto totals = summed({loss_sum, aux_sum, double(tokens)});  // the global batch's, for the log
    loss_sum = totals[0];
    aux_sum = totals[1];
    tokens = int64_t(totals[2]);
  }
  double grad_norm = 0;
  if (t.grad_clip > 0) grad_norm = torch::nn::utils::clip_grad_norm_(model_->parameters(), t.grad_clip);
  // A NaN or Inf would reach every weight through this step: stop before it.
  if (!std::isfinite(loss_sum) || !std::isfinite(aux_sum) || !std::isfinite(grad_norm)) {
    auto text = [](double v) { return std::isnan(v) ? std::string("nan") : std::to_string(v); };  // never "-nan"
    throw NonFiniteError("the loss is not finite (loss " + text(loss_sum) + ", aux loss " + text(aux_sum) +
                         ", gradient norm " + text(grad_norm) + ")");
  }
  opt_->step();
  record = {{"step", step + 1}, {"loss", loss_sum},       {"aux_loss", aux_sum},
            {"lr", lr},         {"grad_norm", grad_norm}, {"tokens", tokens}};
  for (auto& [name, value] : aux_parts) record["loss_" + name] = value;
  for (auto& [name, value] : accuracies) record[name] = value;
  return loss_sum;
}

model::DenseHeadLoss Trainer::vision_loss(const tasks::Batch& batch) {
  if (!model_->vision_head) throw Error("train.stage = vision needs the dense head: set model.vision_classes");
  if (!batch.patch_classes.defined())
    throw Error(
        "train.stage = vision: the batch has no dense targets (data.mixture needs a detection task, "
        "e.g. coco_detection)");
  return model::dense_head_loss(model_->vision_head(model_->see(batch.input.images)), batch.patch_classes,
                                batch.patch_boxes, batch.patch_pixels, batch.patch_attributes);
}

TrainResult Trainer::run(int64_t stop_after) {
  namespace fs = std::filesystem;
  const auto& t = cfg_.train;
  fs::create_directories(t.out_dir);
  if (lead()) cfg_.save((fs::path(t.out_dir) / "config.json").string());
  CheckpointDir ckpts((fs::path(t.out_dir) / "checkpoints").string(), t.keep_last);

  TrainResult result;
  int64_t step = 0;
  if (auto latest = ckpts.latest()) {
    CheckpointMeta meta;
    try {
      meta = load_checkpoint(*latest, *model_, opt_.get(), &cfg_);
    } catch (const Error& e) {  // a damaged or foreign checkpoint: change nothing, say what else is there
      std::string others;
      for (const auto& path : ckpts.list())
        if (path != *latest) others += (others.empty() ? "" : ", ") + fs::path(path).filename().string();
      throw Error(std::string(e.what()) + ". Cannot resume from it; nothing was changed. Other checkpoints in " +
                  ckpts.dir() + ": " + (others.empty() ? "none" : others) +
                  " (to resume from one, move the damaged file aside and write that name into " + ckpts.dir() +
                  "/latest)");
    }
    step = result.resumed_from = meta.step;
    std::istringstream(meta.data_rng) >> data_rng_;
    spdlog::info("train: resumed from {} (step {})", *latest, step);
  } else {
    torch::manual_seed(t.seed);  // dropout etc. draw from the global RNG
  }
  if (group_) {  // every rank starts from rank 0's parameters
    auto params = model_->parameters();
    group_->broadcast(params);
  }
  // Rank 0 alone writes the metrics, the checkpoints and the progress.
  std::optional<MetricsWriter> metrics;
  if (lead()) metrics.emplace((fs::path(t.out_dir) / "metrics.jsonl").string(), step);
  auto save = [&](int64_t done) {
    CheckpointMeta meta;
    meta.step = done;
    meta.config = cfg_.to_json();
    meta.data_manifest = data_manifest_;
    meta.scheduler = {{"kind", "warmup_cosine"}, {"step", done}};
    std::ostringstream rng;
    rng << data_rng_;
    meta.data_rng = rng.str();
    if (lead()) result.last_checkpoint = ckpts.save(*model_, opt_.get(), meta);
  };

  model_->train();
  std::optional<Progress> progress;
  if (lead()) progress.emplace("train", t.steps);
  auto window_start = std::chrono::steady_clock::now();
  int64_t window_tokens = 0;
  for (; step < t.steps; ++step) {
    nlohmann::json record;
    try {
      result.last_loss = train_step(step, record);
    } catch (const NonFiniteError& e) {  // say what is kept: nothing after the last checkpoint was written
      auto kept = lead() ? ckpts.latest() : std::nullopt;
      throw Error("train: step " + std::to_string(step + 1) + ": " + e.what() +
                  "; stopped before updating the weights. The last good checkpoint is " +
                  (kept ? *kept : "none (no checkpoint was written yet)") +
                  "; lower train.lr or raise train.warmup_steps, or check the data, then run again to resume");
    }
    window_tokens += record["tokens"].get<int64_t>();
    if (progress) progress->update(step + 1, "loss " + std::to_string(result.last_loss).substr(0, 6));
    if ((step + 1) % t.log_every == 0 || step + 1 == t.steps) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      record["tokens_per_s"] = window_tokens / std::max(secs, 1e-9);
      for (auto& [layer, stats] : routing_) {
        auto j = stats.to_json(/*with_coactivation=*/false);
        j["layer"] = layer;
        record["routing"].push_back(j);
        stats.reset();
      }
      if (metrics) metrics->write(record);
      window_start = std::chrono::steady_clock::now();
      window_tokens = 0;
    }
    const int64_t done = step + 1;
    if (lead() && evaluate_ && t.eval_every > 0 && done % t.eval_every == 0) {
      model_->eval();
      metrics->write({{"step", done}, {"eval", evaluate_(model_)}});
      model_->train();
    }
    if ((t.ckpt_every > 0 && done % t.ckpt_every == 0) || done == t.steps) save(done);
    ++result.steps_done;
    if (stop_after > 0 && result.steps_done >= stop_after) break;  // a simulated kill: no final save
  }
  if (progress) progress->finish("loss " + std::to_string(result.last_loss).substr(0, 6));
  return result;
}

}  // namespace smoes::train
