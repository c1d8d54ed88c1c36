// A model's answers to task examples, in the form each task is scored in:
// generated text (captions, VQA, GQA), a box decoded from the location
// tokens the decoder generates (grounding, whatever the model's options: the
// box pointer's pick is a diagnostic of `smoes analyze grounding`, never a
// score), the highest-likelihood choice (multiple choice), or the per-token
// log-likelihood of the reference (text perplexity).
#pragma once
#include <string>
#include <vector>

#include "data/image_cache.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "tasks/batch.h"
#include "tasks/tasks.h"

namespace smoes::eval {

struct Prediction {
  std::string text;         // generated answer (decoded)
  std::vector<double> box;  // grounding: [x, y, w, h] in pixels, empty when no 4 location tokens came out
  int choice = -1;          // multiple choice: index of the best-scoring choice
  double nll = 0;           // text: summed negative log-likelihood of the reference ...
  int64_t tokens = 0;       // ... over this many tokens
};

struct PredictOptions {
  int batch_size = 16;
  int max_text_len = 64;
  int max_new_tokens = 0;  // 0 = by task kind (captions 24, answers 8, boxes 6)
};

// Tokens generated per answer when PredictOptions::max_new_tokens is 0.
int default_new_tokens(tasks::Kind kind);

// An example's prompt (image slots and prompt text, no answer, no eos), as
// generation reads it.
tasks::Sequence prompt_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                                int image_tokens, int max_text_len, const std::string& image_position);

std::vector<Prediction> predict(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                                const tasks::Task& task, const std::vector<data::Example>& examples,
                                const PredictOptions& options);

}  // namespace smoes::eval
