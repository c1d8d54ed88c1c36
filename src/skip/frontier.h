// MoDES's frontier search: the pair of thresholds (text, vision) with the
// least calibration loss among those that skip at least a target share of
// slots. Both thresholds come from sorted candidate lists, and the skip
// ratio never falls when either threshold rises, so for each text candidate
// only the smallest vision candidate that reaches the target can be best
// (a higher one skips more and, with a loss that never falls as more is
// skipped, loses no less). Walking the text candidates up moves that vision
// candidate only down: O(D) ratio and loss evaluations instead of the
// grid's O(D^2); each loss costs one pass over the N calibration samples.
#pragma once
#include <functional>

namespace smoes::skip {

struct FrontierPoint {
  int text = -1, vision = -1;  // candidate indices; -1 when no pair reaches the target
  double ratio = 0, loss = 0;
  int loss_evaluations = 0;
};

using PairFn = std::function<double(int text, int vision)>;

// ratio(i, j): skip ratio of text candidate i and vision candidate j, in
// [0, 1], nondecreasing in i and j. loss(i, j): what the pair costs.
FrontierPoint frontier_search(int text_candidates, int vision_candidates, const PairFn& ratio, const PairFn& loss,
                              double target);

// The reference: every pair of the grid.
FrontierPoint grid_search(int text_candidates, int vision_candidates, const PairFn& ratio, const PairFn& loss,
                          double target);

}  // namespace smoes::skip
