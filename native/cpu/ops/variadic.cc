// CPU kernels of Min, Max, Sum and Mean. The first two inputs are combined into the output by the
// binary map, and each further input is folded into it by the accumulate map, all broadcast as numpy
// does; Mean divides by the count as it folds the last input, so that no extra pass is made.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

using namespace cpu;

// NaN wins, as in numpy's minimum and maximum.
struct op_min {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) return a < b || a != a ? a : b;
    else return a < b ? a : b;
  }
};
struct op_max {
  template <class T> T operator()(T a, T b) const {
    if constexpr (is_float_v<T>) return a > b || a != a ? a : b;
    else return a > b ? a : b;
  }
};
struct op_sum {
  template <class T> T operator()(T a, T b) const { return T(arith_t<T>(a) + arith_t<T>(b)); }
};
// The last step of Mean: the sum so far plus the last input, divided by the input count.
struct op_sum_then_divide {
  double count;
  template <class T> T operator()(T a, T b) const {
    using A = arith_t<T>;
    return T((A(a) + A(b)) / A(count));
  }
};

// `Op` folds the inputs; `Last` (Mean's op_sum_then_divide) folds the last of two or more.
template <class Op, class Last, class Types> class variadic_kernel final : public Kernel {
 public:
  explicit variadic_kernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const size_t n = ctx.input_count;
    Tensor& out = ctx.output(0);
    for (size_t i = 0; i < n; ++i) {
      if (!ctx.has_input(i)) fail(ErrorKind::invalid_argument, label_, ": input ", i, " is missing");
      if (ctx.input(i).dtype != out.dtype)
        fail(ErrorKind::invalid_argument, label_, ": input ", i, " has type ", dtype_name(ctx.input(i).dtype),
             ", expected ", dtype_name(out.dtype));
    }
    if (n == 0) fail(ErrorKind::invalid_argument, label_, ": needs at least one input");
    visit_dtype(out.dtype, Types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      const Last last{static_cast<double>(n)};
      if (n == 1) {
        check(ctx.input(0).shape == out.shape, 0, ctx);
        std::memcpy(out.data, ctx.input(0).data, out.nbytes());
        return;
      }
      broadcast_walk pair;
      check(plan_broadcast(ctx.input(0).shape, ctx.input(1).shape, out.shape, &pair), 1, ctx);
      const T* a = ctx.input(0).data_as<T>();
      const T* b = ctx.input(1).data_as<T>();
      if (n == 2) {
        binary_map(a, b, out.data_as<T>(), pair, last, *ctx.threads);
        return;
      }
      binary_map(a, b, out.data_as<T>(), pair, Op{}, *ctx.threads);
      for (size_t i = 2; i < n; ++i) {
        nary_walk<1> walk;
        check(plan_broadcast(ctx.input(i).shape, out.shape, &walk), i, ctx);
        if (i + 1 < n) accumulate_map(ctx.input(i).data_as<T>(), out.data_as<T>(), walk, Op{}, *ctx.threads);
        else accumulate_map(ctx.input(i).data_as<T>(), out.data_as<T>(), walk, last, *ctx.threads);
      }
    });
  }

 private:
  // Fails naming the input that does not broadcast to the output.
  void check(bool ok, size_t i, const KernelContext& ctx) const {
    if (!ok)
      fail(ErrorKind::out_of_range, label_, ": input ", i, " of shape ", shape_to_string(ctx.input(i).shape),
           " does not broadcast to the output shape ", shape_to_string(ctx.output(0).shape));
  }

  std::string label_;
};

// For Min, Max and Sum the last input folds like the others.
template <class Op> struct same_op : Op {
  explicit same_op(double) {}
};

template <class Op, class Types> std::unique_ptr<Kernel> make_fold(const KernelInit& init) {
  return std::make_unique<variadic_kernel<Op, same_op<Op>, Types>>(init);
}

std::unique_ptr<Kernel> make_mean(const KernelInit& init) {
  return std::make_unique<variadic_kernel<op_sum, op_sum_then_divide, float_half_types>>(init);
}

}  // namespace

INFERD_CPU_KERNEL("Min", 1, kMaxOpset, (make_fold<op_min, numeric_half_types>));
INFERD_CPU_KERNEL("Max", 1, kMaxOpset, (make_fold<op_max, numeric_half_types>));
INFERD_CPU_KERNEL("Sum", 1, kMaxOpset, (make_fold<op_sum, float_half_types>));
INFERD_CPU_KERNEL("Mean", 1, kMaxOpset, make_mean);

}  // namespace inferd
