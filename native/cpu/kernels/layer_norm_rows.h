// LayerNormalization over contiguous float rows (the last axes, a transformer's hidden size) with
// an ISA's vector instructions. The portable form stays in cpu/ops/norm.cc, which picks this one
// where the CPU has it; results agree with it to rounding (sums in a different order).
#pragma once

#include <cstdint>

namespace inferd {

// For each of `rows` rows of D floats: mean m, inv = 1/√(Σ(x − m)²/D + epsilon),
// y = (x − m)·inv·scale + bias (bias may be null); mean_out and inv_out, when not null, get m and inv
// per row. scale and bias are D floats.
using LayerNormRowsFn = void (*)(const float* x, float* y, int64_t rows, int64_t D, const float* scale,
                                 const float* bias, float epsilon, float* mean_out, float* inv_out);

// The AVX-512 kernel, or null where the CPU (or the compiler) lacks AVX-512.
LayerNormRowsFn layer_norm_rows_avx512();

}  // namespace inferd
