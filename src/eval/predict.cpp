#include "eval/predict.h"

#include <algorithm>

#include "core/error.h"
#include "model/generate.h"
#include "tasks/batch.h"

namespace smoes::eval {

using tasks::collate;
using tasks::Kind;
using tasks::make_sequence;
using tasks::Sequence;

namespace {

std::vector<double> decode_box(const data::Tokenizer& tok, const std::vector<int64_t>& ids, const data::Example& ex,
                               int bins) {
  std::vector<int> found;
  const int first = tok.location_id(0);
  for (int64_t id : ids)
    if (id >= first && id < first + tok.location_bins() && found.size() < 4) found.push_back(int(id - first));
  if (found.size() < 4 || ex.image_width <= 0 || ex.image_height <= 0) return {};
  for (int b : found)
    if (b >= bins) return {};
  return tasks::location_bins_to_box(found, ex.image_width, ex.image_height, bins);
}

void generate_batch(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                    const tasks::Task& task, const std::vector<const data::Example*>& batch,
                    const PredictOptions& o, std::vector<Prediction>& out) {
  std::vector<Sequence> prompts;
  for (const auto* ex : batch)
    prompts.push_back(
        prompt_sequence(tok, cache, *ex, model->image_tokens(), o.max_text_len, model->cfg.data.image_position));
  auto input = collate(prompts, model->cfg.model.image_size, tok.pad_id(), /*left_pad=*/true).input;
  int new_tokens = o.max_new_tokens > 0 ? o.max_new_tokens : default_new_tokens(task.kind);
  auto generated = model::greedy_generate(model, input, new_tokens, tok.eos_id());
  for (size_t i = 0; i < batch.size(); ++i) {
    Prediction p;
    std::vector<int> ids(generated[i].begin(), generated[i].end());
    p.text = tok.decode(ids);
    if (task.kind == Kind::kGrounding) p.box = decode_box(tok, generated[i], *batch[i], model->cfg.model.location_bins);
    out.push_back(std::move(p));
  }
}

Prediction choose(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                  const PredictOptions& o) {
  if (ex.choices.empty()) throw Error(ex.task + " example " + ex.id + ": no choices to score");
  auto prompt =
      collate({prompt_sequence(tok, cache, ex, model->image_tokens(), o.max_text_len, model->cfg.data.image_position)},
              model->cfg.model.image_size, tok.pad_id(), false)
          .input;
  std::vector<std::vector<int64_t>> choices;
  for (const auto& c : ex.choices) {
    auto ids = tok.encode(c);
    choices.emplace_back(ids.begin(), ids.end());
    choices.back().push_back(tok.eos_id());  // the whole answer, so a prefix of a longer choice does not win
  }
  auto scores = model::score_choices(model, prompt, choices);
  Prediction p;
  p.choice = int(std::max_element(scores.begin(), scores.end()) - scores.begin());
  p.text = ex.choices[p.choice];
  return p;
}

// Summed NLL of each example's first reference (the whole target incl. eos).
void score_text_batch(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                      const std::vector<const data::Example*>& batch, const PredictOptions& o,
                      std::vector<Prediction>& out) {
  std::vector<Sequence> seqs;
  for (const auto* ex : batch) {
    if (ex->targets.empty()) throw Error(ex->task + " example " + ex->id + ": no reference text");
    seqs.push_back(make_sequence(tok, cache, *ex, ex->targets.front(), model->image_tokens(), o.max_text_len,
                                 model->cfg.data.image_position));
  }
  auto b = collate(seqs, model->cfg.model.image_size, tok.pad_id(), false);
  auto logits = model->forward(b.input).logits;
  auto nll = torch::nn::functional::cross_entropy(
                 logits.reshape({-1, logits.size(-1)}), b.labels.reshape({-1}),
                 torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kNone))
                 .reshape(b.labels.sizes());
  auto counted = b.labels.ne(-100);
  for (size_t i = 0; i < batch.size(); ++i) {
    Prediction p;
    p.nll = nll[i].sum().item<double>();
    p.tokens = counted[i].sum().item<int64_t>();
    out.push_back(p);
  }
}

}  // namespace

int default_new_tokens(Kind kind) {
  switch (kind) {
    case Kind::kCaption: return 24;
    case Kind::kGrounding: return 6;  // 4 location tokens (+ the word-start piece SentencePiece may put first)
    default: return 8;
  }
}

Sequence prompt_sequence(const data::Tokenizer& tok, data::ImageCache& cache, const data::Example& ex,
                         int image_tokens, int max_text_len, const std::string& image_position) {
  // make_sequence ends every sequence with eos, which a prompt must not have.
  auto s = make_sequence(tok, cache, ex, "", image_tokens, max_text_len, image_position);
  s.ids.pop_back();
  s.modality.pop_back();
  s.loss.pop_back();
  return s;
}

std::vector<Prediction> predict(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache,
                                const tasks::Task& task, const std::vector<data::Example>& examples,
                                const PredictOptions& o) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<Prediction> out;
  out.reserve(examples.size());
  if (task.kind == Kind::kChoice) {
    for (const auto& ex : examples) out.push_back(choose(model, tok, cache, ex, o));
    return out;
  }
  for (size_t start = 0; start < examples.size(); start += size_t(o.batch_size)) {
    std::vector<const data::Example*> batch;
    for (size_t i = start; i < std::min(examples.size(), start + size_t(o.batch_size)); ++i) batch.push_back(&examples[i]);
    if (task.kind == Kind::kText) score_text_batch(model, tok, cache, batch, o, out);
    else generate_batch(model, tok, cache, task, batch, o, out);
  }
  return out;
}

}  // namespace smoes::eval
