// Softmax over contiguous rows (the last axis, the attention scores' case) with an ISA's vector
// instructions. The portable form stays in cpu/ops/softmax.cc, which picks this one where the CPU
// has it; results agree with it to a few ulp, not bit for bit (FMA contraction differs).
#pragma once

#include <cstdint>

namespace inferd {

// y[r, :] = exp(x[r, :] − max) / Σ exp(x[r, :] − max) for each of `rows` rows of D floats (x and y
// may be the same memory). A row holding NaN becomes NaN; −inf entries give 0.
using SoftmaxRowsFn = void (*)(const float* x, float* y, int64_t rows, int64_t D);

// The AVX-512 kernel, or null where the CPU (or the compiler) lacks AVX-512.
SoftmaxRowsFn softmax_rows_avx512();

}  // namespace inferd
