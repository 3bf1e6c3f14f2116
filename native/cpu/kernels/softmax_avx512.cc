// Softmax rows with AVX-512: the portable loop leaves the row maximum scalar (GCC does not vectorise
// a NaN-skipping max) and runs exp at 256 bits; a 128-wide row of attention scores took ~2.7 cycles
// per element that way. Compiled for AVX-512 by a target pragma, whatever the build's -march, and
// handed out only where the CPU has it.
#include "cpu/kernels/softmax_rows.h"

#include "cpu/kernels/cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12's intrinsics fill unused lanes from a self-initialised _mm512_undefined_*() that
// -Wmaybe-uninitialized reports once inlined here (GCC bug 105593); nothing is read uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace inferd {
namespace {

// cpu/ops/softmax.cc's exp_approx, 16 lanes at a time: Cody–Waite reduction, Cephes' polynomial,
// 2^n in the exponent bits; 0 below −87.3; NaN stays NaN (max/min return their second operand,
// the input, when it is NaN).
inline __m512 exp16(__m512 in) {
  const __m512 lo = _mm512_set1_ps(-87.3f);
  __m512 x = _mm512_min_ps(_mm512_set1_ps(88.3f), _mm512_max_ps(lo, in));
  const __m512 round = _mm512_set1_ps(12582912.0f);
  __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504f), round), round);
  const __m512 r =
      _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x));
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  n = _mm512_max_ps(_mm512_set1_ps(-126.0f), n);
  const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  const __m512 result = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
  return _mm512_maskz_mov_ps(~_mm512_cmp_ps_mask(in, lo, _CMP_LT_OQ), result);
}

void softmax_rows(const float* x, float* y, int64_t rows, int64_t D) {
  const int64_t full = D / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (D - full)) - 1);
  const __m512 minus_inf = _mm512_set1_ps(-__builtin_inff());
  for (int64_t row = 0; row < rows; ++row, x += D, y += D) {
    // Two running maxima and sums halve the dependency chains of a short row.
    __m512 m0 = minus_inf, m1 = minus_inf;
    int64_t j = 0;
    for (; j + 32 <= D; j += 32) {
      m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + j));
      m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + j + 16));
    }
    for (; j < full; j += 16) m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + j));
    if (tail) m1 = _mm512_max_ps(m1, _mm512_mask_loadu_ps(minus_inf, tail, x + full));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(_mm512_max_ps(m0, m1)));

    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (j = 0; j + 32 <= D; j += 32) {
      const __m512 e0 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j), m));
      const __m512 e1 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j + 16), m));
      _mm512_storeu_ps(y + j, e0);
      _mm512_storeu_ps(y + j + 16, e1);
      s0 = _mm512_add_ps(s0, e0);
      s1 = _mm512_add_ps(s1, e1);
    }
    for (; j < full; j += 16) {
      const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + j), m));
      _mm512_storeu_ps(y + j, e);
      s0 = _mm512_add_ps(s0, e);
    }
    if (tail) {
      const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + full), m));
      _mm512_mask_storeu_ps(y + full, tail, e);
      s1 = _mm512_add_ps(s1, _mm512_maskz_mov_ps(tail, e));
    }
    const __m512 scale = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)));
    for (j = 0; j < full; j += 16) _mm512_storeu_ps(y + j, _mm512_mul_ps(scale, _mm512_loadu_ps(y + j)));
    if (tail) _mm512_mask_storeu_ps(y + full, tail, _mm512_mul_ps(scale, _mm512_maskz_loadu_ps(tail, y + full)));
  }
}

}  // namespace
}  // namespace inferd

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

namespace inferd {
SoftmaxRowsFn softmax_rows_avx512() { return cpu_isa_supported(CpuIsa::avx512) ? softmax_rows : nullptr; }
}  // namespace inferd

#else
namespace inferd {
SoftmaxRowsFn softmax_rows_avx512() { return nullptr; }
}  // namespace inferd
#endif
