#include "world/answers.h"

#include <algorithm>
#include <map>

namespace smoes::world {

std::vector<std::string> answer_synonyms(const std::string& a) {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"circle", {"ball", "round"}},   {"square", {"box", "block"}},      {"triangle", {"wedge"}},
      {"diamond", {"rhombus"}},        {"metal", {"metallic", "steel"}},  {"wood", {"wooden"}},
      {"glass", {"clear"}},            {"rubber", {"plastic"}},           {"purple", {"violet"}},
      {"grey", {"gray"}},              {"red", {"dark red"}},             {"large", {"big"}},
      {"small", {"little", "tiny"}},   {"yes", {"yeah"}},                 {"0", {"none", "zero"}},
      {"1", {"one"}},                  {"2", {"two"}},                    {"3", {"three"}},
      {"4", {"four"}},                 {"5", {"five"}},                   {"6", {"six"}}};
  auto it = table.find(a);
  return it == table.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> answer_confusions(const std::string& a) {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"red", {"orange", "purple"}},   {"orange", {"red", "yellow"}},   {"yellow", {"orange", "white"}},
      {"green", {"blue", "yellow"}},   {"blue", {"purple", "green"}},   {"purple", {"blue", "red"}},
      {"white", {"yellow", "grey"}},   {"black", {"purple", "blue"}},   {"circle", {"diamond"}},
      {"square", {"diamond"}},         {"triangle", {"diamond"}},       {"diamond", {"square", "triangle"}},
      {"metal", {"glass"}},            {"glass", {"metal"}},            {"wood", {"rubber"}},
      {"rubber", {"wood"}},            {"yes", {"no"}},                 {"no", {"yes"}},
      {"small", {"large"}},            {"large", {"small"}},            {"left", {"right"}},
      {"right", {"left"}}};
  auto it = table.find(a);
  if (it != table.end()) return it->second;
  if (!a.empty() && a.find_first_not_of("0123456789") == std::string::npos) {  // counts: off by one
    const int n = std::stoi(a);
    return n == 0 ? std::vector<std::string>{"1"} : std::vector<std::string>{std::to_string(n - 1), std::to_string(n + 1)};
  }
  return {};
}

std::vector<HumanAnswer> human_answers(const std::string& truth, Rng& rng, int n, double p_correct) {
  const auto syn = answer_synonyms(truth), wrong = answer_confusions(truth);
  std::vector<HumanAnswer> out;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    if (u < p_correct || (u < p_correct + (1 - p_correct) * 0.4 && syn.empty()) || (wrong.empty() && syn.empty())) {
      out.push_back({truth, rng.chance(0.85) ? "yes" : "maybe"});
    } else if ((u < p_correct + (1 - p_correct) * 0.4) || wrong.empty()) {
      out.push_back({rng.pick(syn), rng.chance(0.6) ? "yes" : "maybe"});
    } else {
      out.push_back({rng.pick(wrong), rng.chance(0.5) ? "maybe" : "no"});
    }
  }
  // The truth must be the strict majority answer (and given at least 4 times).
  auto count_of = [&](const std::string& a) {
    int k = 0;
    for (const auto& h : out) k += h.answer == a;
    return k;
  };
  for (int i = 0; i < n; ++i) {
    int best_other = 0;
    for (const auto& h : out)
      if (h.answer != truth) best_other = std::max(best_other, count_of(h.answer));
    const int t = count_of(truth);
    if (t > best_other && t >= std::min(4, n)) break;
    for (auto& h : out)
      if (h.answer != truth) {
        h = {truth, "yes"};
        break;
      }
  }
  return out;
}

std::string most_common(const std::vector<HumanAnswer>& answers) {
  std::string best;
  int best_count = 0;
  for (const auto& a : answers) {
    int k = 0;
    for (const auto& b : answers) k += a.answer == b.answer;
    if (k > best_count) best = a.answer, best_count = k;
  }
  return best;
}

}  // namespace smoes::world
