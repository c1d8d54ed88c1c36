// VQA-CP v2: the VQA questions (train2014 + val2014 pooled) re-split so that
// the answer prior of every question type changes between train and test.
// As in the VQA-CP paper, questions are grouped by (question type, answer);
// for each question type its answers are shuffled and alternately made
// "train-heavy" (85% of the group's questions go to train) or "test-heavy"
// (20% go to train), so every answer appears in both splits (the concepts
// are covered) but the most common answer of a type differs. The measured
// shift (total variation distance between the train and test answer
// distributions, per question type) goes to MANIFEST.json.
#include <spdlog/spdlog.h>

#include <cmath>
#include <set>

#include "world/datasets.h"

namespace smoes::world {

namespace {

using Distribution = std::map<std::string, double>;

double total_variation(const Distribution& a, const Distribution& b) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  double tv = 0;
  for (const auto& k : keys) tv += std::abs((a.count(k) ? a.at(k) : 0.0) - (b.count(k) ? b.at(k) : 0.0));
  return tv / 2;
}

Distribution normalised(const std::map<std::string, int>& counts) {
  double total = 0;
  for (const auto& [k, v] : counts) total += v;
  Distribution d;
  for (const auto& [k, v] : counts) d[k] = total > 0 ? v / total : 0.0;
  return d;
}

std::string top(const std::map<std::string, int>& counts) {
  std::string best;
  int n = -1;
  for (const auto& [k, v] : counts)
    if (v > n) best = k, n = v;
  return best;
}

}  // namespace

void write_vqacp(const Context& c, const std::vector<VqaRecord>& records) {
  Rng rng = c.stream("vqacp");
  std::map<std::string, std::set<std::string>> answers;  // question type -> answers
  for (const auto& r : records) answers[r.annotation["question_type"]].insert(r.annotation["multiple_choice_answer"]);
  std::map<std::pair<std::string, std::string>, double> p_train;
  for (const auto& [type, set] : answers) {
    std::vector<std::string> order(set.begin(), set.end());
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(int64_t(i))]);
    for (size_t k = 0; k < order.size(); ++k) p_train[{type, order[k]}] = k % 2 == 0 ? 0.85 : 0.2;
  }
  nlohmann::json q[2] = {nlohmann::json::array(), nlohmann::json::array()}, a[2] = {q[0], q[1]};
  std::map<std::string, std::map<std::string, int>> prior[2];  // split -> type -> answer -> count
  for (const auto& r : records) {
    const std::string type = r.annotation["question_type"], answer = r.annotation["multiple_choice_answer"];
    const int split = rng.chance(p_train[{type, answer}]) ? 0 : 1;
    q[split].push_back(r.question);
    a[split].push_back(r.annotation);
    prior[split][type][answer]++;
  }
  nlohmann::json shift = nlohmann::json::object();
  for (const auto& [type, set] : answers) {
    const double tv = total_variation(normalised(prior[0][type]), normalised(prior[1][type]));
    shift[type] = {{"total_variation", std::round(tv * 1000) / 1000},
                   {"train_top_answer", top(prior[0][type])},
                   {"test_top_answer", top(prior[1][type])}};
    spdlog::info("vqacp: '{}' answer prior shift (total variation) {:.3f}, top answer train '{}' test '{}'", type, tv,
                 top(prior[0][type]), top(prior[1][type]));
  }
  const char* names[2] = {"train", "test"};
  for (int s = 0; s < 2; ++s) {
    c.writer.write_json(std::string("vqacp/vqacp_v2_") + names[s] + "_questions.json", q[s]);
    c.writer.write_json(std::string("vqacp/vqacp_v2_") + names[s] + "_annotations.json", a[s]);
    c.writer.count("vqacp", names[s], "questions", int64_t(q[s].size()));
  }
  c.writer.note("vqacp", "prior_shift", shift);
}

}  // namespace smoes::world
