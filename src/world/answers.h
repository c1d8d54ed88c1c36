// Simulated annotators: ten short answers to one question, most of them the
// true answer, some a synonym ("ball" for circle, "two" for 2), some a
// plausible mistake (a neighbouring colour, a count off by one, the other of
// yes/no), each with VQA's answer_confidence. The true answer is always the
// strict majority, so VQA's multiple_choice_answer (the most common answer)
// is correct by construction.
#pragma once
#include <string>
#include <vector>

#include "world/rng.h"

namespace smoes::world {

struct HumanAnswer {
  std::string answer;
  std::string confidence;  // "yes" | "maybe" | "no"
};

std::vector<std::string> answer_synonyms(const std::string& answer);
std::vector<std::string> answer_confusions(const std::string& answer);

// `p_correct` of the answers are the truth (at least 4, and always the most common).
std::vector<HumanAnswer> human_answers(const std::string& truth, Rng& rng, int n = 10, double p_correct = 0.75);
// The most common answer (ties: the first of them in `answers`' order).
std::string most_common(const std::vector<HumanAnswer>& answers);

}  // namespace smoes::world
