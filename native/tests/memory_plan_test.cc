// The static memory plan: buffers alive at the same step never overlap, and buffers whose lifetimes
// are disjoint share bytes (a chain of N layers needs two buffers' worth of arena, not N).
#include <random>
#include <vector>

#include "core/memory_plan.h"
#include "support/check.h"

using inferd::BufferRequest;

namespace {

bool overlap(const BufferRequest& a, const BufferRequest& b) {
  const bool in_time = !(a.last_step < b.first_step || b.last_step < a.first_step);
  const bool in_space = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
  return in_time && in_space && a.bytes > 0 && b.bytes > 0;
}

void chain_reuses_two_buffers() {
  // Layer i writes buffer i at step i and layer i+1 reads it: only neighbours are alive together.
  std::vector<BufferRequest> r;
  for (int i = 0; i < 10; ++i) r.push_back({4096, i, i + 1, 0});
  const size_t arena = inferd::plan_memory(r);
  CHECK(arena == 2 * 4096);
}

void random_lifetimes_never_collide() {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferRequest> r;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % 30);
      r.push_back({1 + rng() % 10000, first, first + static_cast<int>(rng() % 8), 0});
    }
    const size_t arena = inferd::plan_memory(r);
    size_t total = 0;
    for (size_t i = 0; i < r.size(); ++i) {
      CHECK(r[i].offset % inferd::kArenaAlignment == 0);
      CHECK(r[i].offset + r[i].bytes <= arena);
      total += (r[i].bytes + 63) / 64 * 64;
      for (size_t j = i + 1; j < r.size(); ++j) CHECK(!overlap(r[i], r[j]));
    }
    CHECK(arena <= total);
  }
}

}  // namespace

int main() {
  chain_reuses_two_buffers();
  random_lifetimes_never_collide();
  return inferd::test::failures();
}
