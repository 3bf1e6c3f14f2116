// exp, tanh, erf and sigmoid for the activation kernels. The float versions are written so that a
// loop calling them vectorises: no calls into libm, no branches (both sides are computed and one is
// selected), bit manipulation through memcpy. Their relative error against the double-precision
// functions is below 1e-6 over the whole float range (elementwise_ops_test checks it). The double
// versions are the std:: functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace inferd::cpu::math {

// e^x. x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so n·ln2 is exact: Cody–Waite), e^r from
// the polynomial of Cephes' expf, then ·2^n built in the exponent bits. 2^n is applied as
// two factors so that n from −149 (subnormal results) to 128 (x near ln FLT_MAX) stays representable.
inline float exp(float x) {
  constexpr float kMaxArg = 88.7228394f;    // above: +inf
  constexpr float kMinArg = -103.972076f;   // below: 0 (smaller than half the least subnormal)
  const float xc = x < kMinArg ? kMinArg : (x > kMaxArg ? kMaxArg : x);
  // Round to nearest by adding and removing 1.5·2^23 (std::nearbyint/floor keep GCC from vectorising).
  constexpr float kRound = 12582912.0f;
  const float n = (xc * 1.44269504088896341f + kRound) - kRound;
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t half = ni >> 1;
  const int32_t bits1 = (half + 127) << 23, bits2 = (ni - half + 127) << 23;
  float scale1, scale2;
  std::memcpy(&scale1, &bits1, sizeof scale1);
  std::memcpy(&scale2, &bits2, sizeof scale2);
  const float y = p * scale1 * scale2;
  const float inf = std::numeric_limits<float>::infinity();
  return x != x ? x : (x < kMinArg ? 0.0f : (x > kMaxArg ? inf : y));
}

// tanh(x). Near 0 the odd polynomial of Cephes' tanhf; elsewhere 1 − 2/(e^2|x| + 1), which loses
// digits to cancellation only near 0, where the polynomial takes over.
inline float tanh(float x) {
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const float near_zero = x + x * s * p;
  const float ax = std::fabs(x);
  const float e = math::exp(2.0f * (ax < 20.0f ? ax : 20.0f));  // tanh(20) rounds to 1
  const float far = std::copysign(1.0f - 2.0f / (e + 1.0f), x);
  return x != x ? x : (ax < 0.625f ? near_zero : far);
}

// erf(x). For |x| ≤ 1, x·P(x²); above, 1 − e^(−x²)·g(|x|), where g(t) = erfc(t)·e^(t²) varies
// slowly and is fitted on [1, 4] in u = (t − 2.5)/1.5. Both polynomials are Chebyshev interpolants
// computed for inferd (max relative error of erf: 1.7e-7 and 4e-8). erf(4) rounds to 1 in float.
inline float erf(float x) {
  const float s = x * x;
  float p = 7.875874871e-05f;
  p = p * s - 8.016864303e-04f;
  p = p * s + 5.189087242e-03f;
  p = p * s - 2.685421146e-02f;
  p = p * s + 1.128359437e-01f;
  p = p * s - 3.761262596e-01f;
  p = p * s + 1.128379107e+00f;
  const float near_zero = x * p;

  const float ax = std::fabs(x);
  const float t = ax < 4.0f ? ax : 4.0f;
  const float u = (t - 2.5f) * (1.0f / 1.5f);
  float g = 9.294974006e-05f;
  g = g * u - 2.451864420e-04f;
  g = g * u + 3.764772846e-04f;
  g = g * u - 9.162725764e-04f;
  g = g * u + 2.418384189e-03f;
  g = g * u - 5.611233413e-03f;
  g = g * u + 1.248669997e-02f;
  g = g * u - 2.699793689e-02f;
  g = g * u + 5.611062795e-02f;
  g = g * u - 1.115213931e-01f;
  g = g * u + 2.108063698e-01f;
  const float far = std::copysign(1.0f - math::exp(-t * t) * g, x);
  return x != x ? x : (ax <= 1.0f ? near_zero : far);
}

// 1 / (1 + e^−x); for very negative x, e^−x is +inf and the result 0, as it should be.
inline float sigmoid(float x) { return 1.0f / (1.0f + math::exp(-x)); }

inline double exp(double x) { return std::exp(x); }
inline double tanh(double x) { return std::tanh(x); }
inline double erf(double x) { return std::erf(x); }
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Floating → integer T, defined for every input (C leaves out-of-range conversions undefined):
// truncation toward zero through int64, then wrapping into T, which is what numpy's astype gives on
// x86 for values int64 holds (300.0 → uint8 44, −1.0 → uint8 255); NaN → 0; beyond int64, saturation.
template <class T, class F> T float_to_integer(F v) {
  static_assert(std::is_integral_v<T> && std::is_floating_point_v<F>);
  constexpr F kTwo63 = F(9223372036854775808.0), kTwo64 = F(18446744073709551616.0);
  if (v != v) return T(0);
  if constexpr (std::is_same_v<T, uint64_t>) {
    if (v >= kTwo64) return std::numeric_limits<uint64_t>::max();
    if (v >= kTwo63) return static_cast<uint64_t>(v);
  }
  if (v >= kTwo63) return static_cast<T>(std::numeric_limits<int64_t>::max());
  if (v < -kTwo63) return static_cast<T>(std::numeric_limits<int64_t>::min());
  return static_cast<T>(static_cast<int64_t>(v));
}

}  // namespace inferd::cpu::math
