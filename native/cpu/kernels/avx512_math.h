// Vector forms of cpu::math's float functions (elementwise_math.h: the same formulas and
// polynomials, 16 lanes at a time) for the AVX-512 kernels: sgemm's epilogue activations and the
// Softmax rows' exp.
//
// Not a normal header: each <name>_avx512.cc includes it after <immintrin.h> and elementwise_math.h
// and after switching the compiler's target to AVX-512, inside an anonymous namespace, so that these
// functions are compiled for AVX-512 and stay private to that file (as sgemm_driver.h is).
namespace avx512_math {

// All lanes: the maskz_ forms of min, max, roundscale and scalef, because GCC 12 warns that the plain ones'
// _mm512_undefined_ps() source "may be used uninitialized".
constexpr __mmask16 kAll = 0xFFFF;

// e^x for x in [kExpMinArg, kExpMaxArg]: detail::exp_in_range, 2^n applied by scalef (exact across
// the normal and subnormal range, where the scalar code multiplies by two halves of 2^n).
inline __m512 exp_in_range(__m512 x) {
  const __m512 n = _mm512_maskz_roundscale_ps(kAll, _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_scalef_ps(kAll, p, n);
}

// math::exp: clamped, then +inf above the range, 0 below it, NaN kept.
inline __m512 exp(__m512 x) {
  const __m512 lo = _mm512_set1_ps(cpu::math::detail::kExpMinArg), hi = _mm512_set1_ps(cpu::math::detail::kExpMaxArg);
  __m512 y = exp_in_range(_mm512_maskz_min_ps(kAll, _mm512_maskz_max_ps(kAll, x, lo), hi));  // max(NaN, lo) is lo
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), y, _mm512_set1_ps(__builtin_inff()));
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), y, _mm512_setzero_ps());
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, x);
}

inline __m512 abs(__m512 x) { return _mm512_abs_ps(x); }
// |m| with x's sign.
inline __m512 copysign(__m512 m, __m512 x) {
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(m), _mm512_and_si512(_mm512_castps_si512(x), sign)));
}

// math::tanh.
inline __m512 tanh(__m512 x) {
  const __m512 s = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(2.06390887954e-2f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-5.37397155531e-2f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.33314422036e-1f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-3.33332819422e-1f));
  const __m512 near_zero = _mm512_fmadd_ps(_mm512_mul_ps(x, s), p, x);
  const __m512 ax = abs(x);
  const __m512 e = exp_in_range(_mm512_mul_ps(_mm512_set1_ps(2.0f), _mm512_maskz_min_ps(kAll, ax, _mm512_set1_ps(20.0f))));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 far = copysign(_mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one))), x);
  // Near zero, and NaN (which the polynomial keeps), take the polynomial.
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_NGE_UQ), far, near_zero);
}

// math::erf.
inline __m512 erf(__m512 x) {
  const __m512 s = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(7.875874871e-05f);
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-8.016864303e-04f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(5.189087242e-03f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-2.685421146e-02f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.128359437e-01f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-3.761262596e-01f));
  p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.128379107e+00f));
  const __m512 near_zero = _mm512_mul_ps(x, p);
  const __m512 ax = abs(x);
  const __m512 t = _mm512_maskz_min_ps(kAll, ax, _mm512_set1_ps(4.0f));
  const __m512 u = _mm512_mul_ps(_mm512_sub_ps(t, _mm512_set1_ps(2.5f)), _mm512_set1_ps(1.0f / 1.5f));
  __m512 g = _mm512_set1_ps(9.294974006e-05f);
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-2.451864420e-04f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(3.764772846e-04f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-9.162725764e-04f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(2.418384189e-03f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-5.611233413e-03f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(1.248669997e-02f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-2.699793689e-02f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(5.611062795e-02f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-1.115213931e-01f));
  g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(2.108063698e-01f));
  // −t² is in [−16, 0]: no special case of exp applies.
  const __m512 e = exp_in_range(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(t, t)));
  const __m512 far = copysign(_mm512_fnmadd_ps(e, g, _mm512_set1_ps(1.0f)), x);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(1.0f), _CMP_NGT_UQ), far, near_zero);
}

}  // namespace avx512_math
