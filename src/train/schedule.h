// Learning-rate schedule: linear warmup, then cosine decay to
// lr * min_lr_ratio at the last step. A pure function of the step, so resume
// needs only the step.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace smoes::train {

inline double lr_at(int64_t step, double peak, int64_t warmup, int64_t total, double min_ratio) {
  if (warmup > 0 && step < warmup) return peak * double(step + 1) / double(warmup);
  const double span = std::max<int64_t>(1, total - warmup);
  const double progress = std::min(1.0, double(step - warmup) / span);
  const double floor = peak * min_ratio;
  return floor + (peak - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace smoes::train
