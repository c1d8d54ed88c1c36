#include "study/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "core/error.h"

namespace smoes::study {

Estimate bootstrap(const std::vector<double>& values, uint64_t seed, int resamples) {
  Estimate e;
  e.n = int(values.size());
  if (values.empty()) return e;
  e.mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  e.lo = e.hi = e.mean;
  if (values.size() < 2) return e;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  std::vector<double> means(resamples);
  for (auto& m : means) {
    double s = 0;
    for (size_t i = 0; i < values.size(); ++i) s += values[pick(rng)];
    m = s / values.size();
  }
  std::sort(means.begin(), means.end());
  e.lo = means[size_t(0.025 * (resamples - 1))];
  e.hi = means[size_t(std::ceil(0.975 * (resamples - 1)))];
  return e;
}

Estimate paired_difference(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed) {
  if (a.size() != b.size()) throw Error("study: a paired difference needs the same seeds on both sides");
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return bootstrap(d, seed);
}

namespace {

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[order[k]] = (i + j) / 2.0 + 1;  // ties share the average rank
    i = j + 1;
  }
  return r;
}

}  // namespace

std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nullopt;
  auto rx = ranks(x), ry = ranks(y);
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / rx.size();
  const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / ry.size();
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::nullopt;
  return sxy / std::sqrt(sxx * syy);
}

std::string verdict(const Estimate& e, bool claim_positive) {
  if (e.n < 2) return "underpowered";
  if (e.lo > 0) return claim_positive ? "supported" : "contradicted";
  if (e.hi < 0) return claim_positive ? "contradicted" : "supported";
  return "underpowered";
}

std::string format(double v) {
  char buf[32];
  // Three decimals, or three significant digits below 0.1 (GFLOPs per token are ~0.005).
  std::snprintf(buf, sizeof buf, v == 0 || std::abs(v) >= 0.1 ? "%.3f" : "%.3g", v);
  return std::string(buf) == "-0.000" ? "0.000" : buf;
}

std::string format(const Estimate& e) {
  if (e.n == 0) return "n/a";
  if (e.n == 1) return format(e.mean) + " (1 seed)";
  return format(e.mean) + " [" + format(e.lo) + ", " + format(e.hi) + "]";
}

}  // namespace smoes::study
