#include "eval/accuracy.h"

#include <algorithm>

#include "core/error.h"
#include "eval/ids.h"
#include "eval/vqa.h"

namespace smoes::eval {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

template <class A>
void require_nonempty(const std::map<std::string, A>& m, const std::string& what) {
  if (m.empty()) throw Error(what + ": nothing to evaluate");
}

}  // namespace

std::string lower_strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

nlohmann::json exact_match_metrics(const std::map<std::string, std::string>& answers,
                                   const std::map<std::string, std::string>& predictions) {
  require_nonempty(answers, "exact match");
  require_same_ids("exact match", answers, predictions);
  int right = 0;
  for (const auto& [id, gold] : answers) right += lower_strip(predictions.at(id)) == lower_strip(gold);
  return {{"accuracy", static_cast<double>(right) / answers.size()}, {"count", answers.size()}};
}

std::string nlvr2_sentence_group(const std::string& identifier) {
  // Split on '-' into fields, blank field 2, join again.
  std::vector<std::string> fields(1);
  for (char c : identifier) {
    if (c == '-')
      fields.emplace_back();
    else
      fields.back().push_back(c);
  }
  if (fields.size() < 3)
    throw Error("NLVR2: identifier '" + identifier + "' is not of the form split-set_id-pair_id-sentence_id");
  fields[2].clear();
  std::string out = fields[0];
  for (size_t i = 1; i < fields.size(); ++i) out += "-" + fields[i];
  return out;
}

nlohmann::json nlvr2_metrics(const std::map<std::string, std::string>& labels,
                             const std::map<std::string, std::string>& predictions) {
  require_nonempty(labels, "NLVR2");
  require_same_ids("NLVR2", labels, predictions);
  int right = 0;
  std::map<std::string, bool> consistent;  // sentence group -> all examples right so far
  for (const auto& [id, gold] : labels) {
    bool ok = lower_strip(predictions.at(id)) == lower_strip(gold);
    right += ok;
    auto [it, inserted] = consistent.emplace(nlvr2_sentence_group(id), true);
    it->second = it->second && ok;
  }
  auto n_consistent = std::count_if(consistent.begin(), consistent.end(), [](const auto& kv) { return kv.second; });
  return {{"accuracy", static_cast<double>(right) / labels.size()},
          {"consistency", static_cast<double>(n_consistent) / consistent.size()},
          {"count", labels.size()},
          {"sentences", consistent.size()}};
}

nlohmann::json snli_ve_metrics(const std::map<std::string, std::string>& labels,
                               const std::map<std::string, std::string>& predictions) {
  require_nonempty(labels, "SNLI-VE");
  require_same_ids("SNLI-VE", labels, predictions);
  int right = 0;
  std::map<std::string, std::pair<int, int>> per_label;  // gold label -> (right, total)
  for (const auto& [id, gold] : labels) {
    std::string g = lower_strip(gold);
    bool ok = lower_strip(predictions.at(id)) == g;
    right += ok;
    per_label[g].first += ok;
    per_label[g].second += 1;
  }
  nlohmann::json out = {{"accuracy", static_cast<double>(right) / labels.size()}, {"count", labels.size()}};
  out["per_label"] = nlohmann::json::object();
  for (const auto& [g, v] : per_label) out["per_label"][g] = static_cast<double>(v.first) / v.second;
  return out;
}

nlohmann::json vcr_metrics(const std::map<std::string, VcrGold>& gold,
                           const std::map<std::string, VcrPrediction>& predictions) {
  require_nonempty(gold, "VCR");
  require_same_ids("VCR", gold, predictions);
  int qa = 0, qar = 0, both = 0;
  for (const auto& [id, g] : gold) {
    const auto& p = predictions.at(id);
    bool a = p.answer == g.answer_label, r = p.rationale == g.rationale_label;
    qa += a;
    qar += r;
    both += a && r;
  }
  double n = static_cast<double>(gold.size());
  return {{"Q->A", qa / n}, {"QA->R", qar / n}, {"Q->AR", both / n}, {"count", gold.size()}};
}

double aokvqa_direct_answer_accuracy(std::string_view predicted, const std::vector<std::string>& direct_answers) {
  std::string p = vqa_normalize_answer(predicted);
  auto matches = std::count_if(direct_answers.begin(), direct_answers.end(),
                               [&](const std::string& a) { return vqa_normalize_answer(a) == p; });
  return std::min(1.0, matches / 3.0);
}

nlohmann::json aokvqa_mc_metrics(const std::map<std::string, AokvqaQuestion>& questions,
                                 const std::map<std::string, std::string>& predictions) {
  require_nonempty(questions, "A-OKVQA MC");
  require_same_ids("A-OKVQA MC", questions, predictions);
  int right = 0;
  for (const auto& [id, q] : questions) {
    if (q.correct_choice_idx < 0 || q.correct_choice_idx >= static_cast<int>(q.choices.size()))
      throw Error("A-OKVQA MC: question " + id + ": correct_choice_idx " + std::to_string(q.correct_choice_idx) +
                  " is outside its " + std::to_string(q.choices.size()) + " choices");
    right += lower_strip(predictions.at(id)) == lower_strip(q.choices[q.correct_choice_idx]);
  }
  return {{"accuracy", static_cast<double>(right) / questions.size()}, {"count", questions.size()}};
}

nlohmann::json aokvqa_da_metrics(const std::map<std::string, AokvqaQuestion>& questions,
                                 const std::map<std::string, std::string>& predictions) {
  require_same_ids("A-OKVQA DA", questions, predictions);
  double sum = 0;
  size_t n = 0;
  for (const auto& [id, q] : questions) {
    if (q.difficult_direct_answer) continue;
    if (q.direct_answers.empty()) throw Error("A-OKVQA DA: question " + id + " has no direct_answers");
    sum += aokvqa_direct_answer_accuracy(predictions.at(id), q.direct_answers);
    ++n;
  }
  if (n == 0) throw Error("A-OKVQA DA: nothing to evaluate (no question without difficult_direct_answer)");
  return {{"accuracy", sum / n}, {"count", n}};
}

}  // namespace smoes::eval
