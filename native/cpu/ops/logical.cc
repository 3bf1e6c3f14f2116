// CPU kernels of Equal, Less, Greater, LessOrEqual, GreaterOrEqual, And, Or, Xor, Not and Where: a
// functor each over the binary, unary and ternary maps of cpu/kernels/broadcast.h.
#include <cstdint>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

using namespace cpu;

// Comparisons follow IEEE: anything compared with NaN is false, except NaN != x.
struct op_equal {
  template <class T> bool operator()(T a, T b) const { return a == b; }
};
struct op_less {
  template <class T> bool operator()(T a, T b) const { return a < b; }
};
struct op_greater {
  template <class T> bool operator()(T a, T b) const { return a > b; }
};
struct op_less_or_equal {
  template <class T> bool operator()(T a, T b) const { return a <= b; }
};
struct op_greater_or_equal {
  template <class T> bool operator()(T a, T b) const { return a >= b; }
};
struct op_and {
  bool operator()(bool a, bool b) const { return a & b; }
};
struct op_or {
  bool operator()(bool a, bool b) const { return a | b; }
};
struct op_xor {
  bool operator()(bool a, bool b) const { return a != b; }
};
// Not and Where read bools as bytes: GCC 12 vectorises no loop that loads `bool` into a select or
// negates it, and does vectorise the same loop on uint8_t.
struct op_not {
  uint8_t operator()(uint8_t x) const { return x == 0; }
};
struct op_where {
  template <class T> T operator()(uint8_t condition, T x, T y) const { return condition ? x : y; }
};

using compare_types = type_list<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t,
                                uint64_t, bool>;
using bool_types = type_list<bool>;

// c = op(a, b) with bool c; a and b of one type from `Types`.
template <class Op, class Types> class to_bool_kernel final : public Kernel {
 public:
  to_bool_kernel(const KernelInit& init, bool legacy) : label_(init.node.label()), rule_(init, legacy) {}

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
      binary_map(a.data_as<T>(), b.data_as<T>(), c.data_as<bool>(), walk, Op{}, *ctx.threads);
    });
  }

 private:
  std::string label_;
  broadcast_rule rule_;
};

// Where moves elements without looking at them: it is dispatched on their size alone, so that every
// type the engine holds (float16, bfloat16, bool …) shares four instantiations.
class where_kernel final : public Kernel {
 public:
  explicit where_kernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& condition = ctx.input(0);
    const Tensor& x = ctx.input(1);
    const Tensor& y = ctx.input(2);
    Tensor& out = ctx.output(0);
    if (condition.dtype != DType::boolean || x.dtype != y.dtype || x.dtype != out.dtype)
      fail(ErrorKind::invalid_argument, label_, ": inputs have types ", dtype_name(condition.dtype), ", ",
           dtype_name(x.dtype), " and ", dtype_name(y.dtype), "; expected bool and two of one type");
    ternary_walk walk;
    if (!plan_broadcast(condition.shape, x.shape, y.shape, out.shape, &walk))
      fail(ErrorKind::out_of_range, label_, ": input shapes ", shape_to_string(condition.shape), ", ",
           shape_to_string(x.shape), " and ", shape_to_string(y.shape), " do not broadcast to the output shape ",
           shape_to_string(out.shape));
    const auto select = [&](auto tag) {
      using T = decltype(tag);
      ternary_map(condition.data_as<uint8_t>(), x.data_as<T>(), y.data_as<T>(), out.data_as<T>(), walk, op_where{},
                  *ctx.threads);
    };
    switch (dtype_size(x.dtype)) {
      case 1: select(uint8_t{}); break;
      case 2: select(uint16_t{}); break;
      case 4: select(uint32_t{}); break;
      case 8: select(uint64_t{}); break;
      default: fail(ErrorKind::unsupported, label_, ": the CPU kernel does not support type ", dtype_name(x.dtype));
    }
  }

 private:
  std::string label_;
};

template <class Op, class Types, bool kLegacy> std::unique_ptr<Kernel> make_to_bool(const KernelInit& init) {
  return std::make_unique<to_bool_kernel<Op, Types>>(init, kLegacy);
}

class not_kernel final : public Kernel {
 public:
  explicit not_kernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    if (x.dtype != DType::boolean)
      fail(ErrorKind::unsupported, label_, ": the CPU kernel does not support type ", dtype_name(x.dtype));
    unary_map(x.data_as<uint8_t>(), y.data_as<uint8_t>(), x.size(), op_not{}, *ctx.threads);
  }

 private:
  std::string label_;
};

std::unique_ptr<Kernel> make_not(const KernelInit& init) { return std::make_unique<not_kernel>(init); }

std::unique_ptr<Kernel> make_where(const KernelInit& init) { return std::make_unique<where_kernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Equal", 1, 6, (make_to_bool<op_equal, compare_types, true>));
INFERD_CPU_KERNEL("Equal", 7, kMaxOpset, (make_to_bool<op_equal, compare_types, false>));
INFERD_CPU_KERNEL("Less", 1, 6, (make_to_bool<op_less, compare_types, true>));
INFERD_CPU_KERNEL("Less", 7, kMaxOpset, (make_to_bool<op_less, compare_types, false>));
INFERD_CPU_KERNEL("Greater", 1, 6, (make_to_bool<op_greater, compare_types, true>));
INFERD_CPU_KERNEL("Greater", 7, kMaxOpset, (make_to_bool<op_greater, compare_types, false>));
INFERD_CPU_KERNEL("LessOrEqual", 12, kMaxOpset, (make_to_bool<op_less_or_equal, compare_types, false>));
INFERD_CPU_KERNEL("GreaterOrEqual", 12, kMaxOpset, (make_to_bool<op_greater_or_equal, compare_types, false>));
INFERD_CPU_KERNEL("And", 1, 6, (make_to_bool<op_and, bool_types, true>));
INFERD_CPU_KERNEL("And", 7, kMaxOpset, (make_to_bool<op_and, bool_types, false>));
INFERD_CPU_KERNEL("Or", 1, 6, (make_to_bool<op_or, bool_types, true>));
INFERD_CPU_KERNEL("Or", 7, kMaxOpset, (make_to_bool<op_or, bool_types, false>));
INFERD_CPU_KERNEL("Xor", 1, 6, (make_to_bool<op_xor, bool_types, true>));
INFERD_CPU_KERNEL("Xor", 7, kMaxOpset, (make_to_bool<op_xor, bool_types, false>));
INFERD_CPU_KERNEL("Not", 1, kMaxOpset, make_not);
INFERD_CPU_KERNEL("Where", 9, kMaxOpset, make_where);

}  // namespace inferd
