// The study's statistics: means over seeds with percentile-bootstrap 95%
// CIs, paired differences between methods (same seeds) with their own CI,
// Spearman rank correlation, and the verdict rule every question uses.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smoes::study {

struct Estimate {
  double mean = 0, lo = 0, hi = 0;  // lo/hi: the 95% CI (equal to the mean for one value)
  int n = 0;
};

// Mean of `values` with a percentile bootstrap (`resamples`, seeded) 95% CI.
Estimate bootstrap(const std::vector<double>& values, uint64_t seed = 1, int resamples = 2000);
// a - b paired by index (same seeds), bootstrapped over the pairs.
Estimate paired_difference(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed = 1);

// Spearman's rho (average ranks for ties); nullopt when either side is constant or n < 2.
std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y);

// The rule every verdict follows (stated in the report):
//   fewer than 2 values                    -> "underpowered"
//   the 95% CI excludes 0, same sign as the claim -> "supported"
//   the 95% CI excludes 0, opposite sign   -> "contradicted"
//   otherwise (the CI holds 0)             -> "underpowered"
// `claim_positive`: the claim is that the quantity is > 0.
std::string verdict(const Estimate& e, bool claim_positive = true);

// "0.512 [0.498, 0.530]" (3 decimals); "0.512 (1 seed)" when n == 1.
std::string format(const Estimate& e);
std::string format(double v);  // 3 decimals (3 significant digits below 0.1); every table uses it

}  // namespace smoes::study
