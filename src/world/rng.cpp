#include "world/rng.h"

namespace smoes::world {

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }

int64_t Rng::below(int64_t n) { return n <= 0 ? 0 : int64_t(next() % uint64_t(n)); }

Rng Rng::fork(const std::string& stream) const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the stream name, mixed with the seed
  for (unsigned char c : stream) h = (h ^ c) * 1099511628211ull;
  Rng r(state_ ^ h);
  r.next();
  return r;
}

}  // namespace smoes::world
