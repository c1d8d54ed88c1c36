// A NaN or Inf where training needs finite numbers (a loss, a gradient,
// router logits): the trainer stops on it and says which checkpoint is good.
#pragma once
#include "core/error.h"

namespace smoes {

class NonFiniteError : public Error {
 public:
  using Error::Error;
};

}  // namespace smoes
