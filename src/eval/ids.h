// Checks that predictions cover exactly the evaluated ids (the official tools
// refuse results that miss questions or add unknown ones).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace smoes::eval {

// Throws smoes::Error "<what>: N of M ids have no prediction (first: a, b, ...);
// K predictions have unknown ids (first: ...)" when the id lists differ.
void report_id_mismatch(const std::string& what, size_t expected_count, const std::vector<std::string>& missing,
                        const std::vector<std::string>& unexpected);

template <class A, class B>
void require_same_ids(const std::string& what, const std::map<std::string, A>& expected,
                      const std::map<std::string, B>& predicted) {
  std::vector<std::string> missing, unexpected;
  for (const auto& kv : expected)
    if (!predicted.count(kv.first)) missing.push_back(kv.first);
  for (const auto& kv : predicted)
    if (!expected.count(kv.first)) unexpected.push_back(kv.first);
  if (!missing.empty() || !unexpected.empty()) report_id_mismatch(what, expected.size(), missing, unexpected);
}

}  // namespace smoes::eval
