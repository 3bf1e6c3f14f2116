// CPU kernel of Cast (and CastLike) between float, double, float16, bfloat16, bool and the 8- to
// 64-bit integers. Every conversion reads the source as an integer, bool, float or double (float16 and
// bfloat16 through float) and writes it by the rules of op_cast; the planner has set the output's type
// from `to` (CastLike: from input 1).
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

#include "core/kernel_registry.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/elementwise_math.h"

namespace inferd {
namespace {

// float16 and bfloat16 elements: distinct types, so that dispatch tells them from uint16.
struct half_t { uint16_t bits; };
struct bf16_t { uint16_t bits; };

}  // namespace

template <> struct dtype_of_t<half_t> { static constexpr DType value = DType::f16; };
template <> struct dtype_of_t<bf16_t> { static constexpr DType value = DType::bf16; };

namespace {

using namespace cpu;

using cast_types = type_list<float, double, half_t, bf16_t, bool, int8_t, int16_t, int32_t, int64_t, uint8_t,
                             uint16_t, uint32_t, uint64_t>;

template <class T> auto load(T x) { return x; }
inline float load(half_t x) { return half_to_float(x.bits); }
inline float load(bf16_t x) { return bf16_to_float(x.bits); }

// To `To` from a loaded value: bool is "not zero" (NaN counts as true, as in C); a floating value to an
// integer truncates, with NaN and out-of-range values defined (math::float_to_integer); float16 and
// bfloat16 round to nearest even through float; everything else is C's conversion.
template <class To> struct op_cast {
  template <class From> To operator()(From x) const {
    const auto v = load(x);
    using V = decltype(v);
    if constexpr (std::is_same_v<To, half_t>) return half_t{float_to_half(static_cast<float>(v))};
    else if constexpr (std::is_same_v<To, bf16_t>) return bf16_t{float_to_bf16(static_cast<float>(v))};
    else if constexpr (std::is_same_v<To, bool>) return v != V(0);
    else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<V>)
      return math::float_to_integer<To>(v);
    else return static_cast<To>(v);
  }
};

class cast_kernel final : public Kernel {
 public:
  explicit cast_kernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    if (x.dtype == y.dtype) {
      std::memcpy(y.data, x.data, x.nbytes());
      return;
    }
    visit_dtype(x.dtype, cast_types{}, label_, [&](auto from_tag) {
      using From = decltype(from_tag);
      visit_dtype(y.dtype, cast_types{}, label_, [&](auto to_tag) {
        using To = decltype(to_tag);
        unary_map(x.data_as<From>(), y.data_as<To>(), x.size(), op_cast<To>{}, *ctx.threads);
      });
    });
  }

 private:
  std::string label_;
};

std::unique_ptr<Kernel> make_cast(const KernelInit& init) { return std::make_unique<cast_kernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Cast", 1, 5, make_cast);
INFERD_CPU_KERNEL("Cast", 6, kMaxOpset, make_cast);
// CastLike is Cast to the type of input 1, which the planner has given the output.
INFERD_CPU_KERNEL("CastLike", 15, kMaxOpset, make_cast);

}  // namespace inferd
