// Corpus BLEU-1..4 exactly as coco-caption's bleu_scorer.py computes it
// (BleuScorer.compute_score(option="closest")).
#pragma once
#include <array>
#include <vector>

#include "eval/ngrams.h"

namespace smoes::eval {

// BLEU-n for n = 1..4 (index n - 1), in [0, 1]:
//  * per image: candidate length, "closest" reference length (ties -> the
//    shorter reference), guesses max(0, len - n + 1), and n-gram matches
//    clipped by the largest count of that n-gram in any one reference;
//  * all of these summed over the corpus, then
//    BLEU-n = prod_{k<=n} ((correct_k + 1e-15) / (guess_k + 1e-9)) ^ (1/n),
//    times exp(1 - 1/ratio) when ratio = (testlen + 1e-15) / (reflen + 1e-9) < 1.
// Throws smoes::Error if a sample has no references.
std::array<double, 4> bleu(const std::vector<CaptionSample>& samples);

}  // namespace smoes::eval
