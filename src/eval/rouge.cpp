#include "eval/rouge.h"

#include <algorithm>

#include "core/error.h"

namespace smoes::eval {
namespace {

// python's "".split(" ") == [""]: an empty caption is one empty token.
Tokens as_coco_split(const Tokens& t) { return t.empty() ? Tokens{""} : t; }

}  // namespace

size_t lcs_length(const Tokens& a, const Tokens& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

double rouge_l_sentence(const Tokens& candidate, const std::vector<Tokens>& references, double beta) {
  if (references.empty()) throw Error("ROUGE-L: a candidate has no reference captions");
  Tokens cand = as_coco_split(candidate);
  double prec_max = 0, rec_max = 0;
  for (const auto& r : references) {
    Tokens ref = as_coco_split(r);
    double lcs = static_cast<double>(lcs_length(ref, cand));
    prec_max = std::max(prec_max, lcs / cand.size());
    rec_max = std::max(rec_max, lcs / ref.size());
  }
  if (prec_max == 0 || rec_max == 0) return 0.0;
  return (1 + beta * beta) * prec_max * rec_max / (rec_max + beta * beta * prec_max);
}

RougeL rouge_l(const std::vector<CaptionSample>& samples) {
  require_references(samples, "ROUGE-L");
  RougeL out;
  double sum = 0;
  for (const auto& s : samples) {
    out.per_sample.push_back(rouge_l_sentence(s.candidate, s.references));
    sum += out.per_sample.back();
  }
  out.score = samples.empty() ? 0.0 : sum / samples.size();
  return out;
}

}  // namespace smoes::eval
