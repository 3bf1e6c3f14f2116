// Shape arithmetic shared by shape functions and kernels: broadcasting, strides, axis handling.
#pragma once

#include <cstdint>
#include <string>

#include "inferd/tensor.h"

namespace inferd {

inline constexpr int kMaxRank = 8;

// Numpy-style multidirectional broadcast of two shapes; returns false when they do not broadcast.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);

// Row-major element strides of `shape`, written into strides[0..rank).
void row_major_strides(const Shape& shape, int64_t* strides);

// Strides for reading a tensor of shape `in` as if broadcast to shape `out` (same rank or lower;
// missing leading dims and dims of size 1 get stride 0). Returns false if `in` does not broadcast.
bool broadcast_strides(const Shape& in, const Shape& out, int64_t* strides);

// Product of dims [begin, end).
int64_t dims_product(const Shape& shape, int begin, int end);

}  // namespace inferd
