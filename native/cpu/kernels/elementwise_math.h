// exp, expm1, log, log1p, softplus, tanh, erf and sigmoid for the elementwise and activation kernels.
// The float versions are written so that a loop calling them vectorises: no calls into libm, no
// branches (both sides are computed and one is selected), bit manipulation through memcpy. Their
// relative error against the double-precision functions is below 1e-6 over the whole float range
// (elementwise_ops_test and math_ops_test check it). The double versions are the std:: functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace inferd::cpu::math {

namespace detail {

inline constexpr float kExpMaxArg = 88.7228394f;   // above: +inf
inline constexpr float kExpMinArg = -103.972076f;  // below: 0 (smaller than half the least subnormal)

// e^x for x in [kExpMinArg, kExpMaxArg] (not NaN). x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so n·ln2
// is exact: Cody–Waite), e^r from the polynomial of Cephes' expf, then ·2^n built in the exponent
// bits. 2^n is applied as two factors so that n from −149 (subnormal results) to 128 (x near
// ln FLT_MAX) stays representable.
inline float exp_in_range(float x) {
  // Round to nearest by adding and removing 1.5·2^23 (std::nearbyint/floor keep GCC from vectorising).
  constexpr float kRound = 12582912.0f;
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t half = ni >> 1;
  const uint32_t bits1 = static_cast<uint32_t>(half + 127) << 23;
  const uint32_t bits2 = static_cast<uint32_t>(ni - half + 127) << 23;
  float scale1, scale2;
  std::memcpy(&scale1, &bits1, sizeof scale1);
  std::memcpy(&scale2, &bits2, sizeof scale2);
  return p * scale1 * scale2;
}

}  // namespace detail

// e^x: detail::exp_in_range on x clamped, then the special cases selected.
inline float exp(float x) {
  using detail::kExpMaxArg;
  using detail::kExpMinArg;
  // Written so that NaN becomes kExpMinArg: converting NaN to an integer is undefined.
  const float xc = x > kExpMinArg ? (x < kExpMaxArg ? x : kExpMaxArg) : kExpMinArg;
  const float y = detail::exp_in_range(xc);
  const float inf = std::numeric_limits<float>::infinity();
  return x != x ? x : (x < kExpMinArg ? 0.0f : (x > kExpMaxArg ? inf : y));
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

// e^x − 1, accurate near 0 where e^x − 1 cancels: for |x| < 1/2 the Taylor polynomial to x^8 (its
// remainder is below 2e-8 relative), elsewhere math::exp(x) − 1, which is within 3e-7 there.
inline float expm1(float x) {
  float p = 1.0f / 40320;
  p = p * x + 1.0f / 5040;
  p = p * x + 1.0f / 720;
  p = p * x + 1.0f / 120;
  p = p * x + 1.0f / 24;
  p = p * x + 1.0f / 6;
  p = p * x + 0.5f;
  p = p * x * x + x;
  const float far = math::exp(x) - 1.0f;
  return std::fabs(x) < 0.5f ? p : far;
}

// ln x. x = m·2^e with m in [√½, √2) (subnormals first scaled by 2^23), ln m = ln(1 + f) from the
// polynomial of Cephes' logf, and e·ln2 added in two parts (Cody–Waite) so that it stays exact.
// x < 0 and NaN give NaN, 0 gives −inf, +inf gives +inf.
inline float log(float x) {
  constexpr float kMinNormal = 1.17549435e-38f;
  const float xs = x < kMinNormal ? x * 8388608.0f : x;
  const float scaled = x < kMinNormal ? 23.0f : 0.0f;
  int32_t bits;
  std::memcpy(&bits, &xs, sizeof bits);
  const int32_t e = ((bits >> 23) & 0xff) - 126;
  const int32_t m_bits = (bits & 0x007fffff) | 0x3f000000;  // m in [1/2, 1)
  float m;
  std::memcpy(&m, &m_bits, sizeof m);
  const bool low = m < 0.707106781186547524f;
  const float f = (low ? m + m : m) - 1.0f;
  const float fe = static_cast<float>(e) - (low ? 1.0f : 0.0f) - scaled;
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z;
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  const float r = f + y + fe * 0.693359375f;
  const float inf = std::numeric_limits<float>::infinity();
  const float special = x == 0.0f ? -inf : (x == inf ? inf : std::numeric_limits<float>::quiet_NaN());
  return x > 0.0f && x < inf ? r : special;
}

// ln(1 + x) for x ≥ −1, accurate for small x: u = 1 + x rounds to u = 1 + x + c, and
// ln u − c/u corrects for that to first order (c = (u − 1) − x is exact). No branch: for tiny x,
// u = 1 and the correction alone gives x.
inline float log1p(float x) {
  const float u = 1.0f + x;
  const float y = math::log(u) - ((u - 1.0f) - x) / u;
  const float inf = std::numeric_limits<float>::infinity();
  return x == inf ? inf : (x == -1.0f ? -inf : y);
}

// ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|): e^x never overflows, and very negative x give e^x
// rather than 0. e^−|x| is in (0, 1], so exp's special cases are left out: selecting constants there
// lets GCC thread jumps through log1p and then give up vectorising the loop.
inline float softplus(float x) {
  const float a = -std::fabs(x);
  const float t = detail::exp_in_range(a > detail::kExpMinArg ? a : detail::kExpMinArg);  // NaN too
  const float y = (x > 0.0f ? x : 0.0f) + math::log1p(t);
  return x != x ? x : y;
}

inline double exp(double x) { return std::exp(x); }
inline double expm1(double x) { return std::expm1(x); }
inline double log(double x) { return std::log(x); }
inline double log1p(double x) { return std::log1p(x); }
inline double softplus(double x) { return (x > 0 ? x : 0) + std::log1p(std::exp(-std::fabs(x))); }
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
