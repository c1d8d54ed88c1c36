// model.object_tags = "words" / "words_boxes": what the dense head reads in
// each patch, added to its visual token in the decoder's own embeddings: the
// probability-weighted embeddings of the class and attribute names ("words"),
// and the expected location tokens of the object's box ("words_boxes"). The
// names' token pieces and the location token ids are kept in the checkpoint,
// so a loaded model needs no names.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "core/config.h"
#include "model/dense_head.h"

namespace smoes::model {

struct ObjectTagsImpl : torch::nn::Module {
  // Word tags for the head's classes (background included) and attributes;
  // box tags too when m.object_tags = "words_boxes".
  explicit ObjectTagsImpl(const ModelConfig& m);
  // Orthogonal roles keep each coordinate's location embedding at its own
  // norm, so the box reaches the decoder as strongly as the words do.
  void reset_parameters();
  static constexpr int64_t kMaxPieces = 4;
  // The token pieces of each class then each attribute name; an empty entry
  // has no word. Ids must lie in [0, vocab_size).
  void set_words(const std::vector<std::vector<int>>& pieces, int64_t vocab_size);
  // words_boxes: the token ids of <loc_0>..<loc_{bins-1}>.
  void set_locations(const std::vector<int>& ids, int64_t vocab_size);
  // What the words add to each visual token, in the decoder's embedding
  // table `embedding` [V, d]: [N, P, d].
  torch::Tensor word_embeddings(const DenseHeadOutput& head, const torch::Tensor& embedding);
  // What "words_boxes" adds on top of the words: per coordinate c (x1, y1, x2,
  // y2), the head's bin probabilities times the location tokens' embeddings,
  // mapped by that coordinate's role matrix (box_roles[c]) so the four stay
  // apart in one vector, summed: [N, P, d].
  torch::Tensor box_embeddings(const DenseHeadOutput& head, const torch::Tensor& embedding);
  // Words, plus boxes with words_boxes.
  torch::Tensor forward(const DenseHeadOutput& head, const torch::Tensor& embedding);

  torch::Tensor words;      // [classes + attributes, kMaxPieces] token ids, -1 = none
  torch::Tensor locations;  // [bins] location token ids (words_boxes only)
  torch::Tensor box_roles;  // [4, d, d] per-coordinate maps of the box tags (words_boxes only)
};
TORCH_MODULE(ObjectTags);

}  // namespace smoes::model
