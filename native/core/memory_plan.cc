#include "core/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace inferd {

size_t plan_memory(std::vector<BufferRequest>& requests) {
  auto aligned = [](size_t bytes) { return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; };
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });

  std::vector<size_t> placed;  // indices already given an offset, kept sorted by offset
  size_t arena = 0;
  for (size_t index : order) {
    BufferRequest& r = requests[index];
    const size_t need = aligned(r.bytes);
    // Walk the live-overlapping buffers in offset order and take the first gap that fits.
    size_t candidate = 0;
    for (size_t other_index : placed) {
      const BufferRequest& o = requests[other_index];
      const bool overlaps_in_time = !(o.last_step < r.first_step || r.last_step < o.first_step);
      if (!overlaps_in_time) continue;
      if (candidate + need <= o.offset) break;
      candidate = std::max(candidate, o.offset + aligned(o.bytes));
    }
    r.offset = candidate;
    arena = std::max(arena, candidate + need);
    placed.insert(std::upper_bound(placed.begin(), placed.end(), index,
                                   [&](size_t a, size_t b) { return requests[a].offset < requests[b].offset; }),
                  index);
  }
  return arena;
}

}  // namespace inferd
