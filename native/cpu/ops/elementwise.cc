// CPU kernels of Add, Sub, Mul, Div, Pow, Sqrt and Erf: a functor each over cpu/kernels/broadcast.h.
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

// How an op's two inputs broadcast. From opset 7, numpy's rules. Before, B is broadcast onto A only
// when `broadcast` is 1, laid along A's dims from `axis` (by default A's last dims) or a single
// element; that is numpy broadcasting once B's dims are padded with 1s on both sides.
class broadcast_rule {
 public:
  broadcast_rule(const KernelInit& init, bool legacy)
      : legacy_(legacy && init.attributes().get_int("broadcast", 0) == 1),
        has_axis_(init.attributes().has("axis")),
        axis_(init.attributes().get_int("axis", 0)) {}

  void plan(const std::string& who, const Tensor& a, const Tensor& b, const Tensor& c,
            broadcast_walk* walk) const {
    const bool ok = legacy_ ? plan_legacy(a.shape, b.shape, c.shape, walk)
                            : plan_broadcast(a.shape, b.shape, c.shape, walk);
    if (!ok)
      fail(ErrorKind::out_of_range, who, ": input shapes ", shape_to_string(a.shape), " and ",
           shape_to_string(b.shape), " do not broadcast to the output shape ", shape_to_string(c.shape));
  }

 private:
  bool plan_legacy(const Shape& a, const Shape& b, const Shape& c, broadcast_walk* walk) const {
    const int a_rank = static_cast<int>(a.size()), b_rank = static_cast<int>(b.size());
    if (a_rank > kMaxRank) return false;
    const int c_rank = static_cast<int>(c.size());
    int64_t b_dims[kMaxRank] = {};
    if (shape_size(b) == 1) return plan_broadcast(a.data(), a_rank, b_dims, 0, c.data(), c_rank, walk);
    int64_t axis = has_axis_ ? axis_ : a_rank - b_rank;
    if (axis < 0) axis += a_rank;
    if (b_rank > a_rank || axis < 0 || axis + b_rank > a_rank) return false;
    for (int d = 0; d < a_rank; ++d) b_dims[d] = d >= axis && d < axis + b_rank ? b[d - axis] : 1;
    return plan_broadcast(a.data(), a_rank, b_dims, a_rank, c.data(), c_rank, walk);
  }

  bool legacy_;
  bool has_axis_;
  int64_t axis_;
};

template <class T> void check_no_zero(const std::string& who, const Tensor& divisor) {
  const T* p = divisor.data_as<T>();
  const int64_t n = divisor.size();
  for (int64_t i = 0; i < n; ++i)
    if (p[i] == 0)
      fail(ErrorKind::runtime, who, ": integer division by zero (input B is 0 at flat index ", i, ")");
}

// Add, Sub, Mul, Div: both inputs and the output of one type.
template <class Op> class arith_kernel final : public Kernel {
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
    visit_dtype(a.dtype, numeric_types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<Op, op_div> && std::is_integral_v<T>)
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

template <class Op> std::unique_ptr<Kernel> make_float_unary(const KernelInit& init) {
  return std::make_unique<unary_kernel<Op, float_types>>(init);
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
INFERD_CPU_KERNEL("Sqrt", 1, kMaxOpset, make_float_unary<op_sqrt>);
INFERD_CPU_KERNEL("Erf", 9, kMaxOpset, make_float_unary<op_erf>);

}  // namespace inferd
