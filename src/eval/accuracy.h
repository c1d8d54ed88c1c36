// Classification / multiple-choice accuracies: GQA exact match, NLVR2
// accuracy and consistency, SNLI-VE, VCR (Q->A, QA->R, Q->AR) and A-OKVQA
// (multiple choice and direct answer). All results are fractions in [0, 1];
// every function throws smoes::Error when the prediction ids differ from the
// ground truth's or there is nothing to evaluate.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace smoes::eval {

// ASCII lowercase and strip of surrounding whitespace: the comparison form
// for exact-match answers and labels.
std::string lower_strip(std::string_view s);

// GQA: {"accuracy", "count"}; prediction and answer compared after lower_strip.
nlohmann::json exact_match_metrics(const std::map<std::string, std::string>& answers,
                                   const std::map<std::string, std::string>& predictions);

// The NLVR2 sentence a "split-set_id-pair_id-sentence_id" identifier belongs
// to: the identifier with its pair_id (third '-' field) blanked, as the
// official nlvr2/eval/metrics.py does ("dev-850-0-1" -> "dev-850--1"); one
// sentence is written for up to 4 image pairs of a set. Throws smoes::Error
// for identifiers with fewer than 3 fields.
std::string nlvr2_sentence_group(const std::string& identifier);

// NLVR2 (labels "True"/"False", compared case-insensitively): {"accuracy",
// "consistency" (fraction of sentence groups whose examples are all right),
// "count", "sentences"}.
nlohmann::json nlvr2_metrics(const std::map<std::string, std::string>& labels,
                             const std::map<std::string, std::string>& predictions);

// SNLI-VE 3-way (entailment / neutral / contradiction, after lower_strip):
// {"accuracy", "per_label": {gold label: accuracy}, "count"}.
nlohmann::json snli_ve_metrics(const std::map<std::string, std::string>& labels,
                               const std::map<std::string, std::string>& predictions);

struct VcrGold {
  int answer_label = 0;     // index into answer_choices
  int rationale_label = 0;  // index into rationale_choices
};
struct VcrPrediction {
  int answer = 0;
  int rationale = 0;  // chosen given the correct answer (the QA->R protocol)
};
// {"Q->A", "QA->R", "Q->AR" (answer and rationale both right), "count"}.
nlohmann::json vcr_metrics(const std::map<std::string, VcrGold>& gold,
                           const std::map<std::string, VcrPrediction>& predictions);

struct AokvqaQuestion {
  std::vector<std::string> choices;
  int correct_choice_idx = 0;
  std::vector<std::string> direct_answers;  // normally 10
  bool difficult_direct_answer = false;     // excluded from direct-answer scoring, as officially
};

// One direct answer, as the official A-OKVQA evaluation scores it:
// min(1, #{direct answers equal to the prediction} / 3) -- no leave-one-out --
// with both sides passed through vqa_normalize_answer() first.
double aokvqa_direct_answer_accuracy(std::string_view predicted, const std::vector<std::string>& direct_answers);

// Multiple choice: the predicted text must equal choices[correct_choice_idx]
// (after lower_strip). {"accuracy", "count"}.
nlohmann::json aokvqa_mc_metrics(const std::map<std::string, AokvqaQuestion>& questions,
                                 const std::map<std::string, std::string>& predictions);

// Direct answer over the questions not marked difficult_direct_answer
// (predictions for those are accepted and ignored). {"accuracy", "count"}.
nlohmann::json aokvqa_da_metrics(const std::map<std::string, AokvqaQuestion>& questions,
                                 const std::map<std::string, std::string>& predictions);

}  // namespace smoes::eval
