// model.box_pointer: a head that scores every visual token as the object a
// prompt refers to, and (model.pointer_readout) a readout that lets each text
// token read what it points at. Both read the decoder's input, not its
// output: there each word is its own embedding and each visual token carries
// its tags, so the match is lexical and fast to learn (docs/RESULTS.md, "Box
// pointer": final states stayed near 0.3).
#pragma once
#include <torch/torch.h>

#include "model/object_tags.h"

namespace smoes::model {

// The readout's generation state: the keys, unit-RMS values and visual flags
// of every past position, and the running bag of text since the last visual
// token (sum [B, d], count [B]).
struct PointerCache {
  torch::Tensor keys, values, visual, bag, bag_count;
};

struct BoxPointerImpl : torch::nn::Module {
  BoxPointerImpl(int64_t d_model, bool readout);
  // The pointer starts as the plain cosine match of words and tags, the readout as a no-op.
  void reset_parameters();
  // Each row's score for every position as the referred object, [B, S]. It
  // reads the decoder's input `embedded` [B, S, d] (VLMOutput::embedded): the
  // query is the mean of the `words` ([B, S] bool, pointer_words) after the
  // row's last visual token up to position from[b] ([B] int64), the keys are
  // the visual tokens; both at unit RMS, then (W_q q) . (W_k k) / sqrt(d).
  // Only visual tokens (modality 1) can be chosen; the rest score -inf.
  torch::Tensor logits(const torch::Tensor& embedded, const torch::Tensor& modality, const torch::Tensor& words,
                       const torch::Tensor& from);
  // model.pointer_readout: what each text position of `x` [B, s, d] (the
  // decoder's input; modality / valid [B, s]) adds to the decoder's output:
  // W_o sum_j softmax_j(score) unit(x_j) over the visual tokens j at or before
  // it, scored as logits() scores them, with the bag of text since the last
  // visual token up to and including it as the query. Zero at visual tokens
  // and where no visual token came before. With `cache`, past positions come
  // from it and it is extended.
  torch::Tensor readout(const torch::Tensor& x, const torch::Tensor& modality, const torch::Tensor& words,
                        const torch::Tensor& valid, PointerCache* cache);

  torch::nn::Linear query{nullptr}, key{nullptr};  // W_q, W_k
  torch::nn::Linear value{nullptr};                // W_o (pointer_readout only)
};
TORCH_MODULE(BoxPointer);

// The text positions that may join the pointer's bag ([B, S] bool): with word
// tags (`tags` set), only the pieces of tag names ("red", "square");
// without, every text token.
torch::Tensor pointer_words(const torch::Tensor& input_ids, const torch::Tensor& modality, const ObjectTags& tags);

}  // namespace smoes::model
