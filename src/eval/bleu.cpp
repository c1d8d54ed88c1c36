#include "eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace smoes::eval {
namespace {

constexpr int kMaxN = 4;
constexpr double kTiny = 1e-15;  // numerator guard: a 0 match count still gives ~0, not NaN
constexpr double kSmall = 1e-9;  // denominator guard against division by zero

// The reference length closest to the candidate's; ties go to the shorter one
// (python: min((abs(l - testlen), l) for l in reflens)[1]).
long closest_ref_length(const std::vector<Tokens>& refs, long testlen) {
  long best = -1;
  for (const auto& r : refs) {
    long l = static_cast<long>(r.size());
    if (best < 0 || std::labs(l - testlen) < std::labs(best - testlen) ||
        (std::labs(l - testlen) == std::labs(best - testlen) && l < best))
      best = l;
  }
  return best;
}

// Per n-gram, the largest count in any single reference (the clipping limit).
std::vector<NgramCounts> max_reference_counts(const std::vector<Tokens>& refs) {
  std::vector<NgramCounts> out(kMaxN);
  for (const auto& r : refs) {
    auto counts = count_ngrams(r, kMaxN);
    for (int n = 0; n < kMaxN; ++n)
      for (const auto& [g, c] : counts[n]) out[n][g] = std::max(out[n][g], c);
  }
  return out;
}

}  // namespace

std::array<double, 4> bleu(const std::vector<CaptionSample>& samples) {
  require_references(samples, "BLEU");
  double testlen = 0, reflen = 0;
  std::array<double, kMaxN> guess{}, correct{};
  for (const auto& s : samples) {
    long tl = static_cast<long>(s.candidate.size());
    testlen += tl;
    reflen += closest_ref_length(s.references, tl);
    auto limit = max_reference_counts(s.references);
    auto cand = count_ngrams(s.candidate, kMaxN);
    for (int n = 0; n < kMaxN; ++n) {
      guess[n] += std::max(0L, tl - n);
      for (const auto& [g, c] : cand[n]) {
        auto it = limit[n].find(g);
        if (it != limit[n].end()) correct[n] += std::min(c, it->second);
      }
    }
  }
  std::array<double, kMaxN> out{};
  double product = 1.0;
  for (int n = 0; n < kMaxN; ++n) {
    product *= (correct[n] + kTiny) / (guess[n] + kSmall);
    out[n] = std::pow(product, 1.0 / (n + 1));
  }
  // Brevity penalty on the corpus totals.
  double ratio = (testlen + kTiny) / (reflen + kSmall);
  if (ratio < 1)
    for (double& b : out) b *= std::exp(1 - 1 / ratio);
  return out;
}

}  // namespace smoes::eval
