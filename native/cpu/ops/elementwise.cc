// CPU kernels of the arithmetic ops Add, Sub, Mul, Div, Pow, Mod and of the unary math ops Sqrt, Erf,
// Exp, Log, Neg, Abs, Reciprocal, Floor, Ceil, Round, Sign, Sin, Cos: a functor each over
// cpu/kernels/broadcast.h.
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>

#include "core/kernel_registry.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/elementwise_math.h"

namespace inferd {
namespace {

using namespace cpu;

struct op_add {
  template <class T> T operator()(T a, T b) const { return T(arith_t<T>(a) + arith_t<T>(b)); }
};
struct op_sub {
  template <class T> T operator()(T a, T b) const { return T(arith_t<T>(a) - arith_t<T>(b)); }
};
struct op_mul {
  template <class T> T operator()(T a, T b) const { return T(arith_t<T>(a) * arith_t<T>(b)); }
};
// Integer division truncates toward zero, as C's does. MIN / −1, which traps in hardware, wraps to
// MIN; zero divisors are refused before the loop (div_kernel).
struct op_div {
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
      return b == -1 ? T(arith_t<T>(0) - arith_t<T>(a)) : T(a / b);
    else
      return a / b;
  }
};
struct op_square {
  template <class T> T operator()(T x) const { return x * x; }
};
struct op_sqrt {
  template <class T> T operator()(T x) const { return std::sqrt(x); }
};
struct op_erf {
  template <class T> T operator()(T x) const { return math::erf(x); }
};
struct op_exp {
  template <class T> T operator()(T x) const { return math::exp(x); }
};
struct op_log {
  template <class T> T operator()(T x) const { return math::log(x); }
};
// Signed integers wrap (−MIN is MIN), as numpy's do.
struct op_neg {
  template <class T> T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) return T(arith_t<T>(0) - arith_t<T>(x));
    else return -x;
  }
};
struct op_abs {
  template <class T> T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) return std::fabs(x);
    else if constexpr (std::is_signed_v<T>) return x < 0 ? T(arith_t<T>(0) - arith_t<T>(x)) : x;
    else return x;
  }
};
struct op_reciprocal {
  template <class T> T operator()(T x) const { return T(1) / x; }
};
struct op_floor {
  template <class T> T operator()(T x) const { return std::floor(x); }
};
struct op_ceil {
  template <class T> T operator()(T x) const { return std::ceil(x); }
};
// Halves round to even, as numpy's round does: rint rounds so in the default rounding mode.
struct op_round {
  template <class T> T operator()(T x) const { return std::rint(x); }
};
// −1, 0 or 1; NaN stays NaN.
struct op_sign {
  template <class T> T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) return x > 0 ? T(1) : T(0);
    else return x > T(0) ? T(1) : (x < T(0) ? T(-1) : (x == T(0) ? T(0) : x));
  }
};
// std::sin and std::cos: their range reduction stays exact for large arguments, which a vectorisable
// polynomial would have to pay for too; positional encodings are their main use, off the hot path.
struct op_sin {
  template <class T> T operator()(T x) const { return std::sin(x); }
};
struct op_cos {
  template <class T> T operator()(T x) const { return std::cos(x); }
};

// Mod with fmod = 1: the remainder of truncated division, with the dividend's sign (C's fmod and %).
// MIN % −1, which traps in hardware, is 0.
struct op_fmod {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) return T(std::fmod(arith_t<T>(a), arith_t<T>(b)));
    else if constexpr (std::is_signed_v<T>) return b == -1 ? T(0) : T(a % b);
    else return T(a % b);
  }
};
// Mod with fmod = 0 (integers only): the remainder of floored division, with the divisor's sign, as
// Python's % gives.
struct op_mod {
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_signed_v<T>) {
      if (b == -1) return T(0);
      const T r = T(a % b);
      return r != 0 && ((r < 0) != (b < 0)) ? T(r + b) : r;
    } else {
      return T(a % b);
    }
  }
};

// base^exponent for integers by repeated squaring, wrapping on overflow. A negative exponent gives
// 1/base^n truncated toward zero: 0 unless the base is ±1.
template <class A, class B> A integer_pow(A base, B exponent) {
  if constexpr (std::is_signed_v<B>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if constexpr (std::is_signed_v<A>)
        if (base == -1) return (exponent & 1) ? A(-1) : A(1);
      return 0;
    }
  }
  arith_t<A> result = 1, factor = arith_t<A>(base);
  for (B e = exponent; e > 0; e = B(e >> 1)) {
    if (e & 1) result *= factor;
    factor *= factor;
  }
  return A(result);
}

// The result has the base's type (Pow-12 lets the exponent's differ).
struct op_pow {
  template <class A, class B> A operator()(A base, B exponent) const {
    if constexpr (std::is_floating_point_v<A>)
      return std::pow(base, static_cast<A>(exponent));
    else if constexpr (std::is_floating_point_v<B>)
      return math::float_to_integer<A>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
    else
      return integer_pow(base, exponent);
  }
};

template <class T> void check_no_zero(const std::string& who, const Tensor& divisor) {
  const T* p = divisor.data_as<T>();
  const int64_t n = divisor.size();
  for (int64_t i = 0; i < n; ++i)
    if (p[i] == 0)
      fail(ErrorKind::runtime, who, ": integer division by zero (input B is 0 at flat index ", i, ")");
}

// The ops whose integer forms refuse a zero divisor.
template <class Op>
inline constexpr bool kDivides = std::is_same_v<Op, op_div> || std::is_same_v<Op, op_fmod> || std::is_same_v<Op, op_mod>;

// Add, Sub, Mul, Div, Mod: both inputs and the output of one type from `Types`.
template <class Op, class Types = numeric_types> class arith_kernel final : public Kernel {
 public:
  arith_kernel(const KernelInit& init, bool legacy) : label_(init.node.label()), rule_(init, legacy) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& c = ctx.output(0);
    if (a.dtype != b.dtype)
      fail(ErrorKind::invalid_argument, label_, ": inputs have types ", dtype_name(a.dtype), " and ",
           dtype_name(b.dtype));
    broadcast_walk walk;
    rule_.plan(label_, a, b, c, &walk);
    visit_dtype(a.dtype, Types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kDivides<Op> && std::is_integral_v<T>)
        if (c.size() > 0) check_no_zero<T>(label_, b);
      binary_map(a.data_as<T>(), b.data_as<T>(), c.data_as<T>(), walk, Op{}, *ctx.threads);
    });
  }

 private:
  std::string label_;
  broadcast_rule rule_;
};

class pow_kernel final : public Kernel {
 public:
  pow_kernel(const KernelInit& init, bool legacy) : label_(init.node.label()), rule_(init, legacy) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& c = ctx.output(0);
    // x^2 (common in exported normalisations) is one multiply; std::pow is far slower.
    if (b.size() == 1 && a.size() == c.size() && squares(a.dtype, b)) {
      visit_dtype(a.dtype, float_types{}, label_, [&](auto tag) {
        using T = decltype(tag);
        unary_map(a.data_as<T>(), c.data_as<T>(), a.size(), op_square{}, *ctx.threads);
      });
      return;
    }
    broadcast_walk walk;
    rule_.plan(label_, a, b, c, &walk);
    visit_dtype(a.dtype, type_list<float, double, int32_t, int64_t>{}, label_, [&](auto base_tag) {
      using A = decltype(base_tag);
      visit_dtype(b.dtype, numeric_types{}, label_, [&](auto exponent_tag) {
        using B = decltype(exponent_tag);
        binary_map(a.data_as<A>(), b.data_as<B>(), c.data_as<A>(), walk, op_pow{}, *ctx.threads);
      });
    });
  }

 private:
  // True when a float base is raised to an exponent that is exactly 2.
  static bool squares(DType base, const Tensor& exponent) {
    if (base != DType::f32 && base != DType::f64) return false;
    switch (exponent.dtype) {
      case DType::f32: return *exponent.data_as<float>() == 2.0f;
      case DType::f64: return *exponent.data_as<double>() == 2.0;
      case DType::i32: return *exponent.data_as<int32_t>() == 2;
      case DType::i64: return *exponent.data_as<int64_t>() == 2;
      default: return false;
    }
  }

  std::string label_;
  broadcast_rule rule_;
};

template <class Op, bool kLegacy> std::unique_ptr<Kernel> make_arith(const KernelInit& init) {
  return std::make_unique<arith_kernel<Op>>(init, kLegacy);
}

template <bool kLegacy> std::unique_ptr<Kernel> make_pow(const KernelInit& init) {
  return std::make_unique<pow_kernel>(init, kLegacy);
}

template <class Op, class Types = float_types> std::unique_ptr<Kernel> make_unary(const KernelInit& init) {
  return std::make_unique<unary_kernel<Op, Types>>(init);
}

using signed_types = type_list<float, double, int8_t, int16_t, int32_t, int64_t>;
using integer_types = type_list<int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;

std::unique_ptr<Kernel> make_mod(const KernelInit& init) {
  const int64_t fmod = init.attributes().get_int("fmod", 0);
  // fmod = 0 is Python's %, defined for integers only; fmod = 1 is C's, for every type.
  if (fmod == 1) return std::make_unique<arith_kernel<op_fmod, numeric_half_types>>(init, false);
  if (fmod == 0) return std::make_unique<arith_kernel<op_mod, integer_types>>(init, false);
  fail(ErrorKind::invalid_model, init.node.label(), ": attribute 'fmod' must be 0 or 1, got ", fmod);
}

}  // namespace

INFERD_CPU_KERNEL("Add", 1, 6, (make_arith<op_add, true>));
INFERD_CPU_KERNEL("Add", 7, kMaxOpset, (make_arith<op_add, false>));
INFERD_CPU_KERNEL("Sub", 1, 6, (make_arith<op_sub, true>));
INFERD_CPU_KERNEL("Sub", 7, kMaxOpset, (make_arith<op_sub, false>));
INFERD_CPU_KERNEL("Mul", 1, 6, (make_arith<op_mul, true>));
INFERD_CPU_KERNEL("Mul", 7, kMaxOpset, (make_arith<op_mul, false>));
INFERD_CPU_KERNEL("Div", 1, 6, (make_arith<op_div, true>));
INFERD_CPU_KERNEL("Div", 7, kMaxOpset, (make_arith<op_div, false>));
INFERD_CPU_KERNEL("Pow", 1, 6, make_pow<true>);
INFERD_CPU_KERNEL("Pow", 7, kMaxOpset, make_pow<false>);
INFERD_CPU_KERNEL("Mod", 10, kMaxOpset, make_mod);
INFERD_CPU_KERNEL("Sqrt", 1, kMaxOpset, make_unary<op_sqrt>);
INFERD_CPU_KERNEL("Erf", 9, kMaxOpset, make_unary<op_erf>);
INFERD_CPU_KERNEL("Exp", 1, kMaxOpset, make_unary<op_exp>);
INFERD_CPU_KERNEL("Log", 1, kMaxOpset, make_unary<op_log>);
INFERD_CPU_KERNEL("Neg", 1, kMaxOpset, (make_unary<op_neg, signed_types>));
INFERD_CPU_KERNEL("Abs", 1, kMaxOpset, (make_unary<op_abs, numeric_types>));
INFERD_CPU_KERNEL("Reciprocal", 1, kMaxOpset, make_unary<op_reciprocal>);
INFERD_CPU_KERNEL("Floor", 1, kMaxOpset, make_unary<op_floor>);
INFERD_CPU_KERNEL("Ceil", 1, kMaxOpset, make_unary<op_ceil>);
INFERD_CPU_KERNEL("Round", 11, kMaxOpset, make_unary<op_round>);
INFERD_CPU_KERNEL("Sign", 9, kMaxOpset, (make_unary<op_sign, numeric_types>));
INFERD_CPU_KERNEL("Sin", 7, kMaxOpset, make_unary<op_sin>);
INFERD_CPU_KERNEL("Cos", 7, kMaxOpset, make_unary<op_cos>);

}  // namespace inferd
