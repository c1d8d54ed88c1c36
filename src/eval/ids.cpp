#include "eval/ids.h"

#include "core/error.h"

namespace smoes::eval {
namespace {

std::string first_few(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 5; ++i) out += (i ? ", " : "") + ids[i];
  return ids.size() > 5 ? out + ", ..." : out;
}

}  // namespace

void report_id_mismatch(const std::string& what, size_t expected_count, const std::vector<std::string>& missing,
                        const std::vector<std::string>& unexpected) {
  std::string msg = what + ":";
  if (!missing.empty())
    msg += " " + std::to_string(missing.size()) + " of " + std::to_string(expected_count) +
           " ids have no prediction (first: " + first_few(missing) + ")";
  if (!unexpected.empty())
    msg += std::string(missing.empty() ? "" : ";") + " " + std::to_string(unexpected.size()) +
           " predictions have ids that are not evaluated (first: " + first_few(unexpected) + ")";
  throw Error(msg);
}

}  // namespace smoes::eval
