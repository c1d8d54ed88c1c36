// The training loop: AdamW, warmup + cosine, gradient clipping and
// accumulation, answer-token loss + MoE auxiliary losses, periodic eval,
// checkpoints with exact resume, JSONL metrics and a progress bar.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "core/config.h"
#include "dist/group.h"
#include "model/vlm.h"
#include "moe/stats.h"
#include "tasks/batch.h"

namespace smoes::train {

// Parameter groups trained in each stage (`train.stage`); `train.freeze`
// removes more. Our ViT is trained from scratch (no pretrained CLIP here), so
// unlike LLaVA's stage 1, `align` trains the encoder with the projector.
std::set<std::string> trainable_groups(const std::string& stage);

// Sets requires_grad per parameter from the stage and freeze list; returns
// the number of trainable parameters.
int64_t apply_freezing(torch::nn::Module& model, const TrainConfig& cfg);

struct TrainResult {
  int64_t steps_done = 0;
  int64_t resumed_from = -1;  // step of the checkpoint resumed from, -1 if fresh
  double last_loss = 0;
  std::string last_checkpoint;
};

// The grounding-attention loss (train.grounding_attention): -log of the
// attention mass that each query row (look_from[b][t]) of `probs` ([B, S, S],
// one layer's head-averaged attention) puts on the positions look_at[b],
// averaged over a sequence's query rows, then over the sequences that have
// any. Also returns the mean mass, averaged the same way.
std::pair<torch::Tensor, double> grounding_attention_loss(const torch::Tensor& probs, const torch::Tensor& look_from,
                                                          const torch::Tensor& look_at);

// The box pointer's loss (train.box_pointer): per row of `logits` ([M, S],
// model::BoxPointer::logits), -log of the softmax mass on the row's target
// positions (`target` [M, S] bool: the referred object's visual tokens),
// averaged over rows. Also returns how often the row's argmax is a target.
std::pair<torch::Tensor, double> box_pointer_loss(const torch::Tensor& logits, const torch::Tensor& target);

class Trainer {
 public:
  // `evaluate` (optional) runs every train.eval_every steps; its JSON goes to
  // the metrics file with the step.
  // `group` (optional): data parallel over its ranks. Each rank takes its
  // share of every global batch (train.batch_size), the loss is weighted so
  // the summed gradients are the global batch's, and gradients are
  // all-reduced in buckets before clipping; rank 0 alone writes metrics and
  // checkpoints, and every rank resumes from them.
  Trainer(Config cfg, model::MoEVLM model, tasks::BatchSource& data,
          std::function<nlohmann::json(model::MoEVLM&)> evaluate = nullptr, nlohmann::json data_manifest = {},
          dist::Group* group = nullptr);
  // Runs to train.steps, resuming from <out_dir>/checkpoints/latest when present.
  // `stop_after` > 0 stops early after that many steps (tests use it to simulate a kill).
  TrainResult run(int64_t stop_after = 0);

 private:
  double train_step(int64_t step, nlohmann::json& record);
  // train.stage = vision: the ViT and its dense head alone (the decoder is not run).
  model::DenseHeadLoss vision_loss(const tasks::Batch& batch);

  Config cfg_;
  model::MoEVLM model_;
  tasks::BatchSource& data_;
  std::function<nlohmann::json(model::MoEVLM&)> evaluate_;
  nlohmann::json data_manifest_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  std::mt19937_64 data_rng_;
  std::map<int, moe::RoutingStats> routing_;  // per MoE layer, since the last metrics line
  dist::Group* group_ = nullptr;
  bool lead() const { return !group_ || group_->rank() == 0; }
  // Sums `values` over the ranks (no-op on one process).
  std::vector<double> summed(std::vector<double> values);
};

}  // namespace smoes::train
