// The one exception type smoes throws for bad input, bad config or bad files.
// Messages name the file / field / layer and the problem, so callers can print
// them as they are.
#pragma once
#include <stdexcept>
#include <string>

namespace smoes {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace smoes
