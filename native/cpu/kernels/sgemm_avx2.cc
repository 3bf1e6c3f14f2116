// sgemm's AVX2+FMA kernels: a 6×16 register tile (12 ymm accumulators, 2 for op(B)'s vectors and
// 1 for the broadcast of op(A), of 16 registers). Compiled for AVX2 by a target pragma, whatever
// the build's -march, and only called where the CPU has it (sgemm.cc checks, once).
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cpu/kernels/elementwise_math.h"
#include "cpu/kernels/sgemm_kernels.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace inferd {
namespace {

#include "cpu/kernels/sgemm_driver.h"

struct Avx2 {
  static constexpr int MR = 6, NR = 16;
  // An MR×KC micro-panel of packed A is 6 KiB, held in L1d while the micro-kernel sweeps the KC×NC
  // block of packed B, 1 MiB, held in L2 (1–2 MiB on AVX2 server cores; smaller L2s fall back to L3).
  static constexpr int64_t KC = 256, MC = 192, NC = 1024;
  static constexpr auto epilogue = &apply_epilogue;

  template <int R>
  static void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta, int64_t cols) {
    if (cols < NR) {
      // A tile cut by the right edge of C: computed whole on the stack, then the columns that
      // exist merged into C.
      alignas(32) float t[R * NR];
      tile<R>(kc, a, b, t, NR, 0.0f, NR);
      for (int i = 0; i < R; ++i)
        for (int64_t j = 0; j < cols; ++j)
          c[i * ldc + j] = beta == 0 ? t[i * NR + j] : t[i * NR + j] + beta * c[i * ldc + j];
      return;
    }
    __m256 acc0[R], acc1[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      acc0[i] = acc1[i] = _mm256_setzero_ps();
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + i);
        acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
        acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
      }
    }
    const __m256 vbeta = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      float* row = c + i * ldc;
      if (beta != 0) {
        acc0[i] = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(row), acc0[i]);
        acc1[i] = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(row + 8), acc1[i]);
      }
      _mm256_storeu_ps(row, acc0[i]);
      _mm256_storeu_ps(row + 8, acc1[i]);
    }
  }
};

}  // namespace

const SgemmKernels& sgemm_kernels_avx2_impl() { return Driver<Avx2>::table("avx2"); }

}  // namespace inferd

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace inferd {
const SgemmKernels& sgemm_kernels_avx2() { return sgemm_kernels_avx2_impl(); }
}  // namespace inferd

#else  // no x86 target attributes: the portable kernels stand in.
namespace inferd {
const SgemmKernels& sgemm_kernels_avx2() { return sgemm_kernels_portable(); }
}  // namespace inferd
#endif
