// Tokenised caption data and n-gram counting shared by BLEU, ROUGE-L and CIDEr-D.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

namespace smoes::eval {

using Tokens = std::vector<std::string>;

// One image: the candidate caption and its reference captions, all tokenised
// (see caption_tokens() in eval/text_normalize.h).
struct CaptionSample {
  Tokens candidate;
  std::vector<Tokens> references;
};

// Counts of the n-grams of one order; the key is the n tokens joined by '\x1f'.
using NgramCounts = std::unordered_map<std::string, int>;

// counts[n - 1] holds the n-grams of `tokens` for n = 1..max_n (like coco's precook()).
std::vector<NgramCounts> count_ngrams(const Tokens& tokens, int max_n);

// Throws smoes::Error naming `metric` and the sample index when a sample has no references.
void require_references(const std::vector<CaptionSample>& samples, const char* metric);

}  // namespace smoes::eval
