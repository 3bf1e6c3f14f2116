// Seeded random test data. Each test program owns its generator (a fixed seed), so its cases are
// the same on every run; these draw from it in one fixed order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace inferd::test {

// n floats uniform in [lo, hi).
inline std::vector<float> random_floats(std::mt19937& rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// An integer in [lo, hi].
inline int64_t random_int(std::mt19937& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

}  // namespace inferd::test
