#include "model/generate.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace smoes::model {
namespace {

VLMInput text_step(const torch::Tensor& tokens) {  // tokens: [B, S]
  return {tokens, torch::zeros_like(tokens), torch::ones(tokens.sizes(), torch::kBool), {}, {}};
}

// The prompt's forward with logits at its last column only ([B, V]): every
// prompt ends there (left padding), and the vocabulary projection of the
// other positions would be work thrown away (and counted as executed).
torch::Tensor prefill_last_logits(MoEVLM& model, VLMInput prompt, KVCache& cache) {
  prompt.logits_at = torch::zeros(prompt.input_ids.sizes(), torch::kBool);
  prompt.logits_at.select(1, -1).fill_(true);
  return model->forward(prompt, &cache).logits;
}

void reorder_cache(KVCache& cache, const torch::Tensor& rows) {
  for (auto& layer : cache.layers) layer.select_rows(rows);
  cache.key_valid = cache.key_valid.index_select(0, rows);
  cache.next_position = cache.next_position.index_select(0, rows);
  auto& p = cache.pointer;
  for (auto* t : {&p.keys, &p.values, &p.visual, &p.bag, &p.bag_count})
    if (t->defined()) *t = t->index_select(0, rows);
}

void require_batch_one(const VLMInput& prompt, const char* what) {
  if (prompt.input_ids.size(0) != 1)
    throw Error(std::string(what) + ": expects a batch of one prompt, got " + std::to_string(prompt.input_ids.size(0)));
}

}  // namespace

std::vector<std::vector<int64_t>> greedy_generate(MoEVLM& model, const VLMInput& prompts, int max_new_tokens,
                                                  int64_t eos_id) {
  torch::NoGradGuard no_grad;
  const int64_t b = prompts.input_ids.size(0);
  KVCache cache;
  auto logits = prefill_last_logits(model, prompts, cache);
  std::vector<std::vector<int64_t>> out(b);
  std::vector<bool> done(b, false);
  for (int step = 0; step < max_new_tokens; ++step) {
    auto next = logits.argmax(-1);  // [B]
    auto next_acc = next.accessor<int64_t, 1>();
    bool all_done = true;
    for (int64_t i = 0; i < b; ++i) {
      if (done[i]) continue;
      if (next_acc[i] == eos_id) done[i] = true;
      else out[i].push_back(next_acc[i]);
      all_done = all_done && done[i];
    }
    if (all_done || step + 1 == max_new_tokens) break;
    logits = model->forward(text_step(next.unsqueeze(1)), &cache).logits.select(1, -1);
  }
  return out;
}

std::vector<int64_t> beam_search(MoEVLM& model, const VLMInput& prompt, int beams, int max_new_tokens, int64_t eos_id,
                                 double length_penalty) {
  require_batch_one(prompt, "beam_search");
  if (beams < 1) throw Error("beam_search: beams must be >= 1");
  torch::NoGradGuard no_grad;
  KVCache cache;
  auto logp = torch::log_softmax(prefill_last_logits(model, prompt, cache), -1);  // [1, V]
  struct Hyp {
    std::vector<int64_t> tokens;
    double score;
  };
  std::vector<Hyp> live{{{}, 0.0}}, finished;
  auto normalised = [&](const Hyp& h) { return h.score / std::pow(std::max<size_t>(1, h.tokens.size()), length_penalty); };
  for (int step = 0; step < max_new_tokens && !live.empty(); ++step) {
    // Candidates: every live beam x its top `beams` tokens.
    auto [top_lp, top_id] = logp.topk(beams, -1);
    std::vector<std::pair<double, std::pair<int64_t, int64_t>>> cand;  // score, (beam, token)
    for (size_t i = 0; i < live.size(); ++i)
      for (int j = 0; j < beams; ++j)
        cand.push_back({live[i].score + top_lp[i][j].item<double>(), {int64_t(i), top_id[i][j].item<int64_t>()}});
    std::sort(cand.begin(), cand.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<Hyp> next;
    std::vector<int64_t> rows, tokens;
    for (auto& [score, bt] : cand) {
      Hyp h{live[bt.first].tokens, score};
      if (bt.second == eos_id) {
        finished.push_back(h);
      } else {
        h.tokens.push_back(bt.second);
        next.push_back(h);
        rows.push_back(bt.first);
        tokens.push_back(bt.second);
      }
      if (int(next.size()) == beams) break;
    }
    live = next;
    if (live.empty()) break;
    if (int(finished.size()) >= beams) break;  // early stopping, as HF's early_stopping=True
    reorder_cache(cache, torch::tensor(rows));
    logp = torch::log_softmax(model->forward(text_step(torch::tensor(tokens).unsqueeze(1)), &cache).logits.select(1, -1), -1);
  }
  for (auto& h : live) finished.push_back(h);
  auto best = std::max_element(finished.begin(), finished.end(),
                               [&](auto& a, auto& b) { return normalised(a) < normalised(b); });
  return best->tokens;
}

std::vector<double> score_choices(MoEVLM& model, const VLMInput& prompt,
                                  const std::vector<std::vector<int64_t>>& choices) {
  require_batch_one(prompt, "score_choices");
  if (choices.empty()) return {};
  torch::NoGradGuard no_grad;
  KVCache cache;
  auto first_logp = torch::log_softmax(prefill_last_logits(model, prompt, cache), -1)[0];  // [V]
  const int64_t c = choices.size();
  size_t longest = 0;
  for (const auto& ch : choices) {
    if (ch.empty()) throw Error("score_choices: empty choice");
    longest = std::max(longest, ch.size());
  }
  // Right-padded continuations: padding sits after each choice's tokens, so
  // causality keeps it from touching the scored positions, and its mask keeps
  // it away from the routers.
  auto tokens = torch::zeros({c, int64_t(longest)}, torch::kLong);
  auto valid = torch::zeros({c, int64_t(longest)}, torch::kBool);
  for (int64_t i = 0; i < c; ++i) {
    for (size_t t = 0; t < choices[i].size(); ++t) tokens[i][t] = choices[i][t];
    valid[i].narrow(0, 0, int64_t(choices[i].size())).fill_(true);
  }
  reorder_cache(cache, torch::zeros({c}, torch::kLong));
  auto step = text_step(tokens);
  step.attention_mask = valid;
  auto logp = torch::log_softmax(model->forward(step, &cache).logits, -1);  // [C, L, V]
  std::vector<double> scores(c);
  for (int64_t i = 0; i < c; ++i) {
    double s = first_logp[choices[i][0]].item<double>();
    for (size_t t = 1; t < choices[i].size(); ++t) s += logp[i][t - 1][choices[i][t]].item<double>();
    scores[i] = s;
  }
  return scores;
}

}  // namespace smoes::model
