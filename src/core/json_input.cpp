#include "core/json_input.h"

#include "core/error.h"

namespace smoes {

void check_json_depth(std::string_view text, const std::string& name) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kJsonMaxDepth)
        throw Error(name + ": JSON nested deeper than " + std::to_string(kJsonMaxDepth) + " levels (at byte " +
                    std::to_string(i) + "); refusing to read it");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace smoes
