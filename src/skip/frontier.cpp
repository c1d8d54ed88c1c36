#include "skip/frontier.h"

namespace smoes::skip {

namespace {

void consider(FrontierPoint& best, int i, int j, double ratio, const PairFn& loss) {
  const double l = loss(i, j);
  ++best.loss_evaluations;
  if (best.text < 0 || l < best.loss) {
    const int evaluations = best.loss_evaluations;
    best = {i, j, ratio, l, evaluations};
  }
}

}  // namespace

FrontierPoint frontier_search(int nt, int nv, const PairFn& ratio, const PairFn& loss, double target) {
  FrontierPoint best;
  int j = nv - 1;
  for (int i = 0; i < nt; ++i) {
    if (ratio(i, nv - 1) < target) continue;  // even the highest vision threshold falls short
    while (j > 0 && ratio(i, j - 1) >= target) --j;
    consider(best, i, j, ratio(i, j), loss);
  }
  return best;
}

FrontierPoint grid_search(int nt, int nv, const PairFn& ratio, const PairFn& loss, double target) {
  FrontierPoint best;
  for (int i = 0; i < nt; ++i)
    for (int j = 0; j < nv; ++j)
      if (const double r = ratio(i, j); r >= target) consider(best, i, j, r, loss);
  return best;
}

}  // namespace smoes::skip
