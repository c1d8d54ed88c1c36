#include "model/object_tags.h"

#include "core/error.h"

namespace smoes::model {

ObjectTagsImpl::ObjectTagsImpl(const ModelConfig& m) {
  words = register_buffer("words", torch::full({m.vision_classes + m.vision_attributes, kMaxPieces}, -1, torch::kLong));
  if (m.object_tags == "words_boxes") {
    locations = register_buffer("locations", torch::full({m.location_bins}, -1, torch::kLong));
    box_roles = register_parameter("box_roles", torch::empty({4, m.d_model, m.d_model}));
  }
}

void ObjectTagsImpl::reset_parameters() {
  if (box_roles.defined())
    for (int64_t c = 0; c < 4; ++c) torch::nn::init::orthogonal_(box_roles[c]);
}

void ObjectTagsImpl::set_words(const std::vector<std::vector<int>>& pieces, int64_t vocab_size) {
  if (int64_t(pieces.size()) != words.size(0))
    throw Error("model: " + std::to_string(pieces.size()) + " tag names for a dense head of " +
                std::to_string(words.size(0)) + " classes + attributes");
  torch::NoGradGuard no_grad;
  words.fill_(-1);
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (int64_t(pieces[i].size()) > kMaxPieces)
      throw Error("model: tag " + std::to_string(i) + " is " + std::to_string(pieces[i].size()) +
                  " token pieces; at most " + std::to_string(kMaxPieces) + " fit");
    for (size_t j = 0; j < pieces[i].size(); ++j) {
      if (pieces[i][j] < 0 || pieces[i][j] >= vocab_size)
        throw Error("model: tag " + std::to_string(i) + " has token id " + std::to_string(pieces[i][j]) +
                    " outside the vocabulary of " + std::to_string(vocab_size));
      words[int64_t(i)][int64_t(j)] = pieces[i][j];
    }
  }
}

void ObjectTagsImpl::set_locations(const std::vector<int>& ids, int64_t vocab_size) {
  if (!locations.defined()) throw Error("model: tag locations need model.object_tags = words_boxes");
  if (int64_t(ids.size()) != locations.size(0))
    throw Error("model: " + std::to_string(ids.size()) + " location tokens for a dense head of " +
                std::to_string(locations.size(0)) + " box bins");
  for (int id : ids)
    if (id < 0 || id >= vocab_size)
      throw Error("model: location token id " + std::to_string(id) + " outside the vocabulary of " +
                  std::to_string(vocab_size));
  torch::NoGradGuard no_grad;
  locations.copy_(torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())));
}

torch::Tensor ObjectTagsImpl::word_embeddings(const DenseHeadOutput& head, const torch::Tensor& embedding) {
  // A tag's word is the mean embedding of its name's pieces; no pieces, no word.
  auto valid = words.ge(0);
  auto pieces = torch::embedding(embedding, words.clamp_min(0)) * valid.unsqueeze(-1);  // [T, K, d]
  auto mean = pieces.sum(1) / valid.sum(1, /*keepdim=*/true).clamp_min(1);  // [T, d]
  std::vector<torch::Tensor> probs = {head.classes.softmax(-1)};
  if (head.attributes.defined()) probs.push_back(head.attributes.sigmoid());
  return torch::matmul(torch::cat(probs, -1), mean);
}

torch::Tensor ObjectTagsImpl::box_embeddings(const DenseHeadOutput& head, const torch::Tensor& embedding) {
  if (locations.lt(0).any().item<bool>()) throw Error("model: words_boxes tags before set_locations");
  auto per_coordinate = torch::matmul(head.boxes.softmax(-1), torch::embedding(embedding, locations));  // [N, P, 4, d]
  return torch::einsum("npcd,cde->npe", {per_coordinate, box_roles});
}

torch::Tensor ObjectTagsImpl::forward(const DenseHeadOutput& head, const torch::Tensor& embedding) {
  auto tags = word_embeddings(head, embedding);
  return locations.defined() ? tags + box_embeddings(head, embedding) : tags;
}

}  // namespace smoes::model
