// Task examples -> token sequences -> model batches: prompt and target
// tokenised with the images' slots, grounding targets, later turns; then
// padding (right for training, left for generation prompts), attention mask,
// next-token labels on answer tokens, and the images as one normalised
// [N, 3, H, W] tensor in slot order. Training, scoring and the probes all
// build their batches here.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "data/example.h"
#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "tasks/dense_targets.h"

namespace smoes::tasks {

struct Sequence {
  std::vector<int64_t> ids, modality;
  std::vector<uint8_t> loss;                        // 1 where the token is an answer token
  std::vector<const std::vector<uint8_t>*> images;  // side*side*3 RGB, one per run of image slots
  DenseTargets dense;                               // image 0's dense-head targets (empty = none)
  // Grounding-attention target (train.grounding_attention): the query
  // positions (the prompt's text after the image, up to the token that
  // predicts the answer) and the referred object's visual tokens. Empty = none.
  std::vector<int64_t> look_from, look_at;
  int64_t point_from = -1;  // box pointer query (the last prompt token), -1 = none; its targets are look_at
};

struct Batch {
  model::VLMInput input;
  torch::Tensor labels;  // [B, S]: next token at answer positions, -100 elsewhere
  // Dense-head targets per image [N, P] and [N, P, 4] (-100 = none); undefined
  // when no sequence of the batch has any (model/dense_head.h).
  torch::Tensor patch_classes, patch_boxes;
  torch::Tensor patch_pixels;  // [N, P, 6] object pixel statistics (read where patch_classes > 0)
  torch::Tensor patch_attributes;  // [N, P, A] multi-hot attributes (read where patch_classes > 0)
  // Grounding targets, [B, S] bool each: the grounding-attention query
  // positions and the referred object's visual tokens.
  torch::Tensor look_from, look_at;
  torch::Tensor point_from;  // [B] int64: the box pointer's query position (the last prompt token), -1 = none
};

// Where batches come from. `rng` is the run's data RNG (checkpointed), so a
// source that draws from it resumes exactly.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual Batch next(std::mt19937_64& rng) = 0;
  // Data parallel: every rank draws the same global batch from `rng` and
  // keeps its part, sequences [shard * B / shards, (shard + 1) * B / shards),
  // so the order is the same at any world size. Sources that cannot shard
  // refuse more than one shard.
  virtual Batch next_shard(std::mt19937_64& rng, int shard, int shards);
};

// Prompt (arranged for data.image_position) + target -> Sequence (images from
// `cache`; "<image>" expanded to `image_tokens` slots).
Sequence make_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                       const std::string& target, int image_tokens, int max_text_len,
                       const std::string& image_position);

// Sets seq.look_from / look_at for the grounding example `ex`: every text
// token after image 0 up to the one that predicts the answer (from =
// "prompt"), or every answer position that predicts a location token, ids
// [first_location, first_location + bins) (from = "box"), looks at the
// visual tokens of box_patches(ex.box) on a grid x grid patch split;
// and seq.point_from to the last prompt token (the box pointer's query). Throws, naming the example, when its image size is unknown.
void set_grounding_target(Sequence& seq, const data::Example& ex, int grid, const std::string& from = "prompt",
                          int64_t first_location = -1, int64_t bins = 0);

// Appends `ex` as a later turn of `seq`: its prompt without "<image>" (the
// images are already in the sequence), its target and EOS, no BOS. Returns
// false, leaving `seq` unchanged, when that would make it longer than max_len.
bool append_turn(Sequence& seq, const data::Tokenizer& tok, const data::Example& ex, const std::string& target,
                 int max_text_len, size_t max_len);

// label[t] = ids[t+1] where loss[t+1], else -100; padding has modality 0 and mask false.
// Dense targets go to Batch::patch_classes / patch_boxes (-100 for images
// without) / patch_pixels / patch_attributes. Grounding-attention targets go
// to Batch::look_from / look_at (undefined when no sequence has one), the
// pointer's query to Batch::point_from (likewise).
Batch collate(const std::vector<Sequence>& seqs, int image_side, int64_t pad_id, bool left_pad);

// RGB bytes -> [3, side, side] float in [-1, 1].
torch::Tensor image_tensor(const std::vector<uint8_t>& rgb, int side);

}  // namespace smoes::tasks
