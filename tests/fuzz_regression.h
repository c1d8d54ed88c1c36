// Shared by the tests of the fuzz findings (docs/RELIABILITY.md, "Fuzzing"):
// the regression inputs in tests/fixtures/fuzz/<target>/, in the fuzz
// targets' own input format (fuzz/fuzz_common.h: files of a two-file input
// joined by kSeparator).
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/files.h"

namespace fuzz_regression {

inline std::string path(const std::string& target, const std::string& name) {
  return std::string(SMOES_FIXTURES_DIR) + "/fuzz/" + target + "/" + name;
}

inline std::string bytes(const std::string& target, const std::string& name) {
  return smoes::read_file(path(target, name));
}

// The input cut at the separator of fuzz/fuzz_common.h.
inline std::vector<std::string> split(const std::string& input) {
  static const std::string sep = "\n@@smoes-fuzz-next-file@@\n";
  std::vector<std::string> parts;
  size_t from = 0, at;
  while ((at = input.find(sep, from)) != std::string::npos) {
    parts.push_back(input.substr(from, at - from));
    from = at + sep.size();
  }
  parts.push_back(input.substr(from));
  return parts;
}

}  // namespace fuzz_regression

// `haystack` is evaluated once (it is often an error_of(...) call).
#define EXPECT_HAS(haystack, needle)                                                 \
  do {                                                                               \
    const std::string expect_has_text_ = (haystack);                                 \
    EXPECT_NE(expect_has_text_.find(needle), std::string::npos) << expect_has_text_; \
  } while (0)
