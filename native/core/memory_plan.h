// The static memory plan: every intermediate tensor of a run gets an offset in one arena, and two
// tensors share bytes only when their lifetimes (the steps between writing and last reading them)
// do not overlap. Greedy by size (largest first, lowest offset that fits), as TFLite's planner does:
// simple, and within a few percent of optimal on inference graphs.
#pragma once

#include <cstddef>
#include <vector>

namespace inferd {

struct BufferRequest {
  size_t bytes = 0;
  int first_step = 0;  // the step that writes it
  int last_step = 0;   // the last step that reads it (inclusive)
  size_t offset = 0;   // assigned by plan_memory
};

inline constexpr size_t kArenaAlignment = 64;

// Assigns offsets (multiples of kArenaAlignment) and returns the arena size needed.
size_t plan_memory(std::vector<BufferRequest>& requests);

}  // namespace inferd
