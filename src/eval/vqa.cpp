#include "eval/vqa.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "eval/ids.h"

namespace smoes::eval {
namespace {

// Python 2 str whitespace, used by strip() and split().
bool is_py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

const std::string_view kPunct[] = {";",  "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
                                   "\\", "_", "-", ">", "<",  "@", "`", ",", "?", "!"};

const std::unordered_map<std::string, std::string> kNumberWords = {
    {"none", "0"}, {"zero", "0"}, {"one", "1"},   {"two", "2"},   {"three", "3"}, {"four", "4"},
    {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"},  {"ten", "10"}};

// The script's full contractions table, verbatim (entries with capitals, such
// as "Im", can never match after lowercasing; kept to mirror the script).
const std::unordered_map<std::string, std::string> kContractions = {{"aint", "ain't"},
                                                                    {"arent", "aren't"},
                                                                    {"cant", "can't"},
                                                                    {"couldve", "could've"},
                                                                    {"couldnt", "couldn't"},
                                                                    {"couldn'tve", "couldn't've"},
                                                                    {"couldnt've", "couldn't've"},
                                                                    {"didnt", "didn't"},
                                                                    {"doesnt", "doesn't"},
                                                                    {"dont", "don't"},
                                                                    {"hadnt", "hadn't"},
                                                                    {"hadnt've", "hadn't've"},
                                                                    {"hadn'tve", "hadn't've"},
                                                                    {"hasnt", "hasn't"},
                                                                    {"havent", "haven't"},
                                                                    {"hed", "he'd"},
                                                                    {"hed've", "he'd've"},
                                                                    {"he'dve", "he'd've"},
                                                                    {"hes", "he's"},
                                                                    {"howd", "how'd"},
                                                                    {"howll", "how'll"},
                                                                    {"hows", "how's"},
                                                                    {"Id've", "I'd've"},
                                                                    {"I'dve", "I'd've"},
                                                                    {"Im", "I'm"},
                                                                    {"Ive", "I've"},
                                                                    {"isnt", "isn't"},
                                                                    {"itd", "it'd"},
                                                                    {"itd've", "it'd've"},
                                                                    {"it'dve", "it'd've"},
                                                                    {"itll", "it'll"},
                                                                    {"let's", "let's"},
                                                                    {"maam", "ma'am"},
                                                                    {"mightnt", "mightn't"},
                                                                    {"mightnt've", "mightn't've"},
                                                                    {"mightn'tve", "mightn't've"},
                                                                    {"mightve", "might've"},
                                                                    {"mustnt", "mustn't"},
                                                                    {"mustve", "must've"},
                                                                    {"neednt", "needn't"},
                                                                    {"notve", "not've"},
                                                                    {"oclock", "o'clock"},
                                                                    {"oughtnt", "oughtn't"},
                                                                    {"ow's'at", "'ow's'at"},
                                                                    {"'ows'at", "'ow's'at"},
                                                                    {"'ow'sat", "'ow's'at"},
                                                                    {"shant", "shan't"},
                                                                    {"shed've", "she'd've"},
                                                                    {"she'dve", "she'd've"},
                                                                    {"she's", "she's"},
                                                                    {"shouldve", "should've"},
                                                                    {"shouldnt", "shouldn't"},
                                                                    {"shouldnt've", "shouldn't've"},
                                                                    {"shouldn'tve", "shouldn't've"},
                                                                    {"somebody'd", "somebodyd"},
                                                                    {"somebodyd've", "somebody'd've"},
                                                                    {"somebody'dve", "somebody'd've"},
                                                                    {"somebodyll", "somebody'll"},
                                                                    {"somebodys", "somebody's"},
                                                                    {"someoned", "someone'd"},
                                                                    {"someoned've", "someone'd've"},
                                                                    {"someone'dve", "someone'd've"},
                                                                    {"someonell", "someone'll"},
                                                                    {"someones", "someone's"},
                                                                    {"somethingd", "something'd"},
                                                                    {"somethingd've", "something'd've"},
                                                                    {"something'dve", "something'd've"},
                                                                    {"somethingll", "something'll"},
                                                                    {"thats", "that's"},
                                                                    {"thered", "there'd"},
                                                                    {"thered've", "there'd've"},
                                                                    {"there'dve", "there'd've"},
                                                                    {"therere", "there're"},
                                                                    {"theres", "there's"},
                                                                    {"theyd", "they'd"},
                                                                    {"theyd've", "they'd've"},
                                                                    {"they'dve", "they'd've"},
                                                                    {"theyll", "they'll"},
                                                                    {"theyre", "they're"},
                                                                    {"theyve", "they've"},
                                                                    {"twas", "'twas"},
                                                                    {"wasnt", "wasn't"},
                                                                    {"wed've", "we'd've"},
                                                                    {"we'dve", "we'd've"},
                                                                    {"weve", "we've"},
                                                                    {"werent", "weren't"},
                                                                    {"whatll", "what'll"},
                                                                    {"whatre", "what're"},
                                                                    {"whats", "what's"},
                                                                    {"whatve", "what've"},
                                                                    {"whens", "when's"},
                                                                    {"whered", "where'd"},
                                                                    {"wheres", "where's"},
                                                                    {"whereve", "where've"},
                                                                    {"whod", "who'd"},
                                                                    {"whod've", "who'd've"},
                                                                    {"who'dve", "who'd've"},
                                                                    {"wholl", "who'll"},
                                                                    {"whos", "who's"},
                                                                    {"whove", "who've"},
                                                                    {"whyll", "why'll"},
                                                                    {"whyre", "why're"},
                                                                    {"whys", "why's"},
                                                                    {"wont", "won't"},
                                                                    {"wouldve", "would've"},
                                                                    {"wouldnt", "wouldn't"},
                                                                    {"wouldnt've", "wouldn't've"},
                                                                    {"wouldn'tve", "wouldn't've"},
                                                                    {"yall", "y'all"},
                                                                    {"yall'll", "y'all'll"},
                                                                    {"y'allll", "y'all'll"},
                                                                    {"yall'd've", "y'all'd've"},
                                                                    {"y'alld've", "y'all'd've"},
                                                                    {"y'all'dve", "y'all'd've"},
                                                                    {"youd", "you'd"},
                                                                    {"youd've", "you'd've"},
                                                                    {"you'dve", "you'd've"},
                                                                    {"youll", "you'll"},
                                                                    {"youre", "you're"},
                                                                    {"youve", "you've"}};

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) s.replace(i, from.size(), to);
  return s;
}

// commaStrip "(\d)(\,)(\d)" found anywhere.
bool has_digit_comma_digit(std::string_view s) {
  for (size_t i = 1; i + 1 < s.size(); ++i)
    if (s[i] == ',' && is_digit(s[i - 1]) && is_digit(s[i + 1])) return true;
  return false;
}

std::string strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_py_space(s[b])) ++b;
  while (e > b && is_py_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// The script's first step on every answer: '\n', '\t' -> ' ', then strip().
std::string clean(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\t', ' ');
  return strip(out);
}

}  // namespace

std::string vqa_process_punctuation(std::string_view text) {
  const std::string in(text);
  const bool digit_comma = has_digit_comma_digit(in);
  std::string out = in;
  for (std::string_view p : kPunct) {
    // The test looks at the original text, the replacement acts on the running result.
    bool spaced =
        in.find(std::string(p) + " ") != std::string::npos || in.find(" " + std::string(p)) != std::string::npos;
    out = replace_all(out, p, spaced || digit_comma ? "" : " ");
  }
  // periodStrip "(?!<=\d)(\.)(?!\d)": its first group is a look-ahead (not a
  // look-behind), so it removes every '.' not followed by a digit, count = 32.
  std::string result;
  int removed = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    bool next_digit = i + 1 < out.size() && is_digit(out[i + 1]);
    if (out[i] == '.' && !next_digit && removed < 32) {
      ++removed;
      continue;
    }
    result.push_back(out[i]);
  }
  return result;
}

std::string vqa_process_digit_article(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    auto num = kNumberWords.find(cur);
    std::string w = num == kNumberWords.end() ? cur : num->second;
    if (w != "a" && w != "an" && w != "the") words.push_back(w);
    cur.clear();
  };
  for (char c : text) {
    if (is_py_space(c)) {
      flush();
    } else {
      cur.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    }
  }
  flush();
  std::string out;
  for (const auto& w : words) {
    auto it = kContractions.find(w);
    if (!out.empty()) out.push_back(' ');
    out += it == kContractions.end() ? w : it->second;
  }
  return out;
}

std::string vqa_normalize_answer(std::string_view answer) {
  return vqa_process_digit_article(vqa_process_punctuation(clean(answer)));
}

double vqa_accuracy(std::string_view predicted, const std::vector<std::string>& human_answers) {
  if (human_answers.empty()) throw Error("VQA accuracy: a question has no human answers");
  std::vector<std::string> gt;
  for (const auto& a : human_answers) gt.push_back(clean(a));
  std::string res = clean(predicted);
  bool all_same = std::all_of(gt.begin(), gt.end(), [&](const std::string& a) { return a == gt[0]; });
  if (!all_same) {  // the script normalises only when the humans disagree
    for (auto& a : gt) a = vqa_process_digit_article(vqa_process_punctuation(a));
    res = vqa_process_digit_article(vqa_process_punctuation(res));
  }
  int total_matches = static_cast<int>(std::count(gt.begin(), gt.end(), res));
  double sum = 0;
  for (const auto& a : gt) {
    int others = total_matches - (a == res ? 1 : 0);  // leave answer i out
    sum += std::min(1.0, others / 3.0);
  }
  return sum / gt.size();
}

nlohmann::json vqa_metrics(const std::map<std::string, VqaQuestion>& questions,
                           const std::map<std::string, std::string>& predictions) {
  if (questions.empty()) throw Error("VQA: no questions to evaluate");
  require_same_ids("VQA", questions, predictions);
  double total = 0;
  std::map<std::string, std::pair<double, int>> by_qtype, by_atype;
  for (const auto& [id, q] : questions) {
    double acc = vqa_accuracy(predictions.at(id), q.answers);
    total += acc;
    by_qtype[q.question_type].first += acc;
    by_qtype[q.question_type].second += 1;
    by_atype[q.answer_type].first += acc;
    by_atype[q.answer_type].second += 1;
  }
  nlohmann::json out;
  out["accuracy"] = total / questions.size();
  out["per_question_type"] = nlohmann::json::object();
  out["per_answer_type"] = nlohmann::json::object();
  for (const auto& [t, v] : by_qtype) out["per_question_type"][t] = v.first / v.second;
  for (const auto& [t, v] : by_atype) out["per_answer_type"][t] = v.first / v.second;
  out["questions"] = questions.size();
  return out;
}

}  // namespace smoes::eval
