// ROUGE-L exactly as coco-caption's rouge.py: per image, LCS-based precision
// and recall against each reference, the maxima of each over the references,
// F-measure with beta = 1.2; the corpus score is the mean over images.
#pragma once
#include <vector>

#include "eval/ngrams.h"

namespace smoes::eval {

// Length of the longest common subsequence of two token lists.
size_t lcs_length(const Tokens& a, const Tokens& b);

// One image's ROUGE-L: P = max_r LCS/|cand|, R = max_r LCS/|ref_r| (maxima
// taken separately), F = (1 + b^2) P R / (R + b^2 P), 0 when P or R is 0.
// As coco-caption splits with split(" "), an empty caption counts as one
// empty token. Throws smoes::Error when `references` is empty.
double rouge_l_sentence(const Tokens& candidate, const std::vector<Tokens>& references, double beta = 1.2);

struct RougeL {
  double score = 0;                // mean over images
  std::vector<double> per_sample;  // one per sample, in order
};
RougeL rouge_l(const std::vector<CaptionSample>& samples);

}  // namespace smoes::eval
