// VQA accuracy exactly as the official evaluation script
// (GT-Vision-Lab/VQA, PythonEvaluationTools/vqaEvaluation/vqaEval.py).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace smoes::eval {

// processPunctuation: each of ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? ! is
// deleted when it appears next to a space or when the text contains
// digit,digit ("1,000" -> "1000"), otherwise replaced by a space; then every
// '.' not followed by a digit is deleted (at most 32 of them: the script
// passes re.UNICODE, 32, as re.sub's count).
std::string vqa_process_punctuation(std::string_view text);

// processDigitArticle: lowercase, split on whitespace, number words
// none/zero..ten -> 0..10, drop a/an/the, map contractions ("dont" ->
// "don't"), join with single spaces.
std::string vqa_process_digit_article(std::string_view text);

// '\n' and '\t' -> ' ', strip, then the two steps above: the normal form an
// answer is compared in. "Two dogs." -> "2 dogs".
std::string vqa_normalize_answer(std::string_view answer);

// One question, as the script scores it: answers get '\n'/'\t' -> ' ' and
// strip; only if the human answers are not all identical are they and the
// prediction normalised (a quirk of the script); then for each human answer
// i, acc_i = min(1, #{j != i : answer_j == prediction} / 3), averaged over i.
// Throws smoes::Error when `human_answers` is empty.
double vqa_accuracy(std::string_view predicted, const std::vector<std::string>& human_answers);

struct VqaQuestion {
  std::vector<std::string> answers;  // the (normally 10) human answers
  std::string question_type;         // e.g. "what color is the"
  std::string answer_type;           // "yes/no", "number" or "other"
};

// {"accuracy", "per_question_type": {type: acc}, "per_answer_type": {type: acc},
// "questions"}: means of the per-question accuracies, as fractions in [0, 1]
// (the script prints round(100 * x, 2)). Throws smoes::Error when the
// prediction ids differ from the questions' or there are no questions.
nlohmann::json vqa_metrics(const std::map<std::string, VqaQuestion>& questions,
                           const std::map<std::string, std::string>& predictions);

}  // namespace smoes::eval
