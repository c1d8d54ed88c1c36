// The world's random numbers: SplitMix64 with our own uniform/choice helpers,
// so the same seed gives the same bytes on every platform (the standard
// library's distributions are implementation-defined).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace smoes::world {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // A generator for a named stream (dataset/split), independent of draw order elsewhere.
  Rng fork(const std::string& stream) const;

  uint64_t next();
  double uniform();                              // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t below(int64_t n);                      // [0, n)
  bool chance(double p) { return uniform() < p; }
  template <class T>
  const T& pick(const std::vector<T>& items) { return items[below(int64_t(items.size()))]; }

 private:
  uint64_t state_;
};

}  // namespace smoes::world
