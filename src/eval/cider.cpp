#include "eval/cider.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_set>

namespace smoes::eval {
namespace {

constexpr int kCiderMaxN = 4;

// A caption as tf-idf weights per n-gram order, with norms and bigram count.
struct TfIdf {
  std::array<std::unordered_map<std::string, double>, kCiderMaxN> weights;
  std::array<double, kCiderMaxN> norm{};
  double length = 0;  // number of bigrams: counts2vec adds term_freq "if n == 1", n being order - 1
};

using DocFreq = std::array<std::unordered_map<std::string, double>, kCiderMaxN>;

// Number of images whose reference set contains each n-gram.
DocFreq document_frequency(const std::vector<std::vector<std::vector<NgramCounts>>>& refs) {
  DocFreq df;
  for (const auto& image_refs : refs) {
    std::array<std::unordered_set<std::string>, kCiderMaxN> seen;
    for (const auto& counts : image_refs)
      for (int n = 0; n < kCiderMaxN; ++n)
        for (const auto& kv : counts[n]) seen[n].insert(kv.first);
    for (int n = 0; n < kCiderMaxN; ++n)
      for (const auto& g : seen[n]) df[n][g] += 1;
  }
  return df;
}

TfIdf to_tfidf(const std::vector<NgramCounts>& counts, const DocFreq& df, double ref_len) {
  TfIdf v;
  for (int n = 0; n < kCiderMaxN; ++n) {
    for (const auto& [g, tf] : counts[n]) {
      auto it = df[n].find(g);
      double d = it == df[n].end() ? 0.0 : it->second;
      // n-grams absent from the references get df 1, i.e. the largest idf.
      double w = tf * (ref_len - std::log(std::max(1.0, d)));
      v.weights[n][g] = w;
      v.norm[n] += w * w;
      if (n == 1) v.length += tf;
    }
    v.norm[n] = std::sqrt(v.norm[n]);
  }
  return v;
}

// Clipped cosine similarity per order, with the Gaussian length penalty.
std::array<double, kCiderMaxN> similarity(const TfIdf& hyp, const TfIdf& ref, double sigma) {
  std::array<double, kCiderMaxN> val{};
  double delta = hyp.length - ref.length;
  double penalty = std::exp(-(delta * delta) / (2 * sigma * sigma));
  for (int n = 0; n < kCiderMaxN; ++n) {
    for (const auto& [g, wh] : hyp.weights[n]) {
      auto it = ref.weights[n].find(g);
      double wr = it == ref.weights[n].end() ? 0.0 : it->second;
      val[n] += std::min(wh, wr) * wr;  // CIDEr-D clips the candidate weight by the reference's
    }
    if (hyp.norm[n] != 0 && ref.norm[n] != 0) val[n] /= hyp.norm[n] * ref.norm[n];
    val[n] *= penalty;
  }
  return val;
}

}  // namespace

CiderD cider_d(const std::vector<CaptionSample>& samples, double sigma) {
  require_references(samples, "CIDEr-D");
  std::vector<std::vector<std::vector<NgramCounts>>> ref_counts;
  for (const auto& s : samples) {
    ref_counts.emplace_back();
    for (const auto& r : s.references) ref_counts.back().push_back(count_ngrams(r, kCiderMaxN));
  }
  DocFreq df = document_frequency(ref_counts);
  double ref_len = std::log(static_cast<double>(samples.size()));

  CiderD out;
  double total = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    TfIdf hyp = to_tfidf(count_ngrams(samples[i].candidate, kCiderMaxN), df, ref_len);
    std::array<double, kCiderMaxN> sum{};
    for (const auto& rc : ref_counts[i]) {
      auto sim = similarity(hyp, to_tfidf(rc, df, ref_len), sigma);
      for (int n = 0; n < kCiderMaxN; ++n) sum[n] += sim[n];
    }
    double mean = (sum[0] + sum[1] + sum[2] + sum[3]) / kCiderMaxN;
    double score = mean / ref_counts[i].size() * 10.0;
    out.per_sample.push_back(score);
    total += score;
  }
  out.score = samples.empty() ? 0.0 : total / samples.size();
  return out;
}

}  // namespace smoes::eval
