// sgemm's AVX-512 kernels: a 12×32 register tile (24 zmm accumulators: two vectors of C per row,
// enough rows that the two FMA ports always have independent work, and the 8 registers left hold
// op(B)'s two vectors and the broadcast of op(A)). Compiled for AVX-512 by a target pragma, whatever
// the build's -march, and only called where the CPU has it (sgemm.cc checks, once).
#include <algorithm>
#include <cstdint>

#include "cpu/kernels/elementwise_math.h"
#include "cpu/kernels/sgemm_kernels.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
// prefer-vector-width=512: GCC otherwise vectorises the epilogue's loops (GELU's erf, tanh, sigmoid)
// with 256-bit registers; full width measured 10% faster on BERT's GELU product.
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,prefer-vector-width=512")
#endif

namespace inferd {
namespace {

#include "cpu/kernels/sgemm_driver.h"

struct Avx512 {
  static constexpr int MR = 12, NR = 32;
  // An MR×KC micro-panel of packed A (12 KiB) and a KC×NR micro-panel of packed B (32 KiB) share L1d
  // (48 KiB) while the micro-kernel streams the KC×NC block of packed B, 1 MiB, from L2 (2 MiB).
  static constexpr int64_t KC = 256, MC = 384, NC = 1024;

  // One k of the tile: two vectors of op(B) times R broadcasts of op(A).
  template <int R>
  static inline __attribute__((always_inline)) void step(__m512 (&acc0)[R], __m512 (&acc1)[R], const float* a,
                                                         const float* b) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
    }
  }

  // The finished tile into C: c = acc + beta·c (beta == 0: c not read), the first `cols` columns.
  template <int R>
  static inline __attribute__((always_inline)) void store(__m512 (&acc0)[R], __m512 (&acc1)[R], float* c, int64_t ldc,
                                                          float beta, int64_t cols) {
    const __m512 vbeta = _mm512_set1_ps(beta);
    if (cols == NR) {
#pragma GCC unroll 16
      for (int i = 0; i < R; ++i) {
        float* row = c + i * ldc;
        if (beta != 0) {
          acc0[i] = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row), acc0[i]);
          acc1[i] = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row + 16), acc1[i]);
        }
        _mm512_storeu_ps(row, acc0[i]);
        _mm512_storeu_ps(row + 16, acc1[i]);
      }
      return;
    }
    // A tile cut by the right edge of C: masked loads and stores touch only the columns that exist.
    const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
    const __mmask16 m1 = cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      float* row = c + i * ldc;
      if (beta != 0) {
        acc0[i] = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m0, row), acc0[i]);
        acc1[i] = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m1, row + 16), acc1[i]);
      }
      _mm512_mask_storeu_ps(row, m0, acc0[i]);
      _mm512_mask_storeu_ps(row + 16, m1, acc1[i]);
    }
  }

  template <int R>
  static void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta, int64_t cols) {
    __m512 acc0[R], acc1[R];
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
    if constexpr (R <= 2) {
      // One or two rows (a batch of one through prepacked weights) have too few accumulators to
      // cover the FMA latency: four interleaved sets over k, added at the end.
      __m512 p0[3][R], p1[3][R];
#pragma GCC unroll 4
      for (int s = 0; s < 3; ++s)
        for (int i = 0; i < R; ++i) p0[s][i] = p1[s][i] = _mm512_setzero_ps();
      int64_t k = 0;
      for (; k + 4 <= kc; k += 4, a += 4 * MR, b += 4 * NR) {
        step<R>(acc0, acc1, a, b);
        step<R>(p0[0], p1[0], a + MR, b + NR);
        step<R>(p0[1], p1[1], a + 2 * MR, b + 2 * NR);
        step<R>(p0[2], p1[2], a + 3 * MR, b + 3 * NR);
      }
      for (; k < kc; ++k, a += MR, b += NR) step<R>(acc0, acc1, a, b);
#pragma GCC unroll 4
      for (int i = 0; i < R; ++i) {
        acc0[i] = _mm512_add_ps(_mm512_add_ps(acc0[i], p0[0][i]), _mm512_add_ps(p0[1][i], p0[2][i]));
        acc1[i] = _mm512_add_ps(_mm512_add_ps(acc1[i], p1[0][i]), _mm512_add_ps(p1[1][i], p1[2][i]));
      }
      store<R>(acc0, acc1, c, ldc, beta, cols);
      return;
    }
    // C's rows are far apart (often a multiple of 4 KiB, so they compete for one L1 set): fetch them
    // near the end of the products, late enough that streaming B through L1 does not evict them.
    // Two loops rather than a test in one: a branch in the loop costs the register allocator its
    // grip on the 26 live vectors (a spill per k measured 30% slower).
    const int64_t prefetch_at = kc > 32 ? kc - 32 : 0;
    // Meanwhile ask L2 for the next micro-panel of B (packing places it right after this one): a
    // model's weights come from L3 on the first row block, and the hardware prefetcher alone left
    // that pass waiting on them (BERT-base-sized products at 128 rows ran 10-15% faster with this).
    const int64_t next = NR * kc;
    int64_t k = 0;
#pragma GCC unroll 4
    for (; k < prefetch_at; ++k, a += MR, b += NR) {
      _mm_prefetch(reinterpret_cast<const char*>(b + next), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(b + next + 16), _MM_HINT_T1);
      step<R>(acc0, acc1, a, b);
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (; k < kc; ++k, a += MR, b += NR) step<R>(acc0, acc1, a, b);
    store<R>(acc0, acc1, c, ldc, beta, cols);
  }
};

}  // namespace

const SgemmKernels& sgemm_kernels_avx512_impl() { return Driver<Avx512>::table("avx512"); }

}  // namespace inferd

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace inferd {
const SgemmKernels& sgemm_kernels_avx512() { return sgemm_kernels_avx512_impl(); }
}  // namespace inferd

#else  // no x86 target attributes: the portable kernels stand in.
namespace inferd {
const SgemmKernels& sgemm_kernels_avx512() { return sgemm_kernels_portable(); }
}  // namespace inferd
#endif
