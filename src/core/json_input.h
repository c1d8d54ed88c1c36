// Limits on JSON read from outside (datasets, results files, configs,
// `--set` values): nesting deeper than kJsonMaxDepth is refused before the
// JSON library builds anything. nlohmann::json parses without recursion but
// copies, compares and prints recursively, so a file of a few megabytes of
// '[' would otherwise overflow the stack where a message quotes a value.
// Real formats nest a handful of levels (VCR's object references: 4).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace smoes {

inline constexpr size_t kJsonMaxDepth = 1000;

// Throws smoes::Error "<name>: JSON nested deeper than 1000 levels (at byte
// N); refusing to read it" when a '[' or '{' outside strings opens level
// kJsonMaxDepth + 1. One pass over the bytes, nothing allocated.
void check_json_depth(std::string_view text, const std::string& name);

}  // namespace smoes
