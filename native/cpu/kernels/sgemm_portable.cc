// sgemm's portable kernels: plain C++ for the build's baseline ISA, the fallback on CPUs without
// AVX2 and the reference the fast kernels are tested against.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#if defined(__SSE__)
#include <immintrin.h>
#endif

#include "cpu/kernels/elementwise_math.h"
#include "cpu/kernels/sgemm_kernels.h"

namespace inferd {
namespace {

#include "cpu/kernels/sgemm_driver.h"

struct Portable {
  static constexpr int MR = 4, NR = 16;
  static constexpr int64_t KC = 256, MC = 192, NC = 1024;
  static constexpr auto epilogue = &apply_epilogue;

  // Plain loops, which the compiler vectorises along j. The unrolling is spelled out because, left
  // to itself, GCC vectorises across k with shuffles (5x slower with SSE2).
  template <int R>
  static void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta, int64_t cols) {
    float acc[R][NR] = {};
    for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
#pragma GCC unroll 16
      for (int i = 0; i < R; ++i) {
        const float ai = a[i];
#pragma GCC unroll 32
        for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
      }
    }
    for (int i = 0; i < R; ++i)
      for (int64_t j = 0; j < cols; ++j)
        c[i * ldc + j] = beta == 0 ? acc[i][j] : acc[i][j] + beta * c[i * ldc + j];
  }
};

}  // namespace

const SgemmKernels& sgemm_kernels_portable() { return Driver<Portable>::table("portable"); }

}  // namespace inferd
