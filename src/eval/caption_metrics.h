// The caption metric table: tokenise as coco-caption does, then BLEU-1..4,
// ROUGE-L and CIDEr-D over the evaluated images.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/ngrams.h"

namespace smoes::eval {

// Tokenises the captions as coco-caption does (caption_tokens_lines(): all
// references in one run, all candidates in another, in the order of the
// `references` map, which the samples follow). Throws smoes::Error when the id sets differ or an
// image has no references.
std::vector<CaptionSample> make_caption_samples(const std::map<std::string, std::vector<std::string>>& references,
                                                const std::map<std::string, std::string>& predictions);

// {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr-D", "images"}:
// fractions as coco-caption prints them (BLEU/ROUGE-L in [0, 1], CIDEr-D in
// [0, 10]). Throws smoes::Error when there is nothing to evaluate.
nlohmann::json caption_metrics(const std::map<std::string, std::vector<std::string>>& references,
                               const std::map<std::string, std::string>& predictions);

}  // namespace smoes::eval
