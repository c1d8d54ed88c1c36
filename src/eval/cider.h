// CIDEr-D exactly as the reference implementation (vrama91/cider,
// pyciderevalcap/ciderD/ciderD_scorer.py, df mode "corpus"), which the coco
// caption evaluation servers report as CIDEr-D.
#pragma once
#include <vector>

#include "eval/ngrams.h"

namespace smoes::eval {

struct CiderD {
  double score = 0;                // mean over images
  std::vector<double> per_sample;  // one per sample, in order
};

// For n = 1..4:
//  * df(g) = number of images whose references (any of them) contain g,
//    counted over the evaluated samples only; ref_len = log(number of samples);
//  * a caption's vector: tf(g) * (ref_len - log(max(1, df(g)))) per n-gram;
//    its "length" is its number of bigrams (the reference code's quirk);
//  * sim_n(c, r) = sum_g min(v_c(g), v_r(g)) * v_r(g) / (|v_c| |v_r|)  (the
//    division only when both norms are non-zero), times the Gaussian length
//    penalty exp(-(len_c - len_r)^2 / (2 sigma^2));
//  * image score = 10 * mean_n( sum_r sim_n(c, r) ) / #refs.
// Throws smoes::Error if a sample has no references.
CiderD cider_d(const std::vector<CaptionSample>& samples, double sigma = 6.0);

}  // namespace smoes::eval
