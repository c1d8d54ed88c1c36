#include "eval/ngrams.h"

#include "core/error.h"

namespace smoes::eval {

std::vector<NgramCounts> count_ngrams(const Tokens& tokens, int max_n) {
  std::vector<NgramCounts> counts(max_n);
  for (int n = 1; n <= max_n; ++n) {
    for (size_t i = 0; i + n <= tokens.size(); ++i) {
      std::string key = tokens[i];
      for (int k = 1; k < n; ++k) key.append(1, '\x1f').append(tokens[i + k]);
      ++counts[n - 1][key];
    }
  }
  return counts;
}

void require_references(const std::vector<CaptionSample>& samples, const char* metric) {
  for (size_t i = 0; i < samples.size(); ++i)
    if (samples[i].references.empty())
      throw Error(std::string(metric) + ": sample " + std::to_string(i) + " has no reference captions");
}

}  // namespace smoes::eval
