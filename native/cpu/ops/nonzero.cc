// CPU kernel of NonZero: one pass counts the non-zero elements (so the output is sized once), a
// second writes each one's coordinates, row-major order, one output row per input dimension.
#include <memory>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

using namespace cpu;

template <class T> inline bool is_non_zero(T x) {
  if constexpr (std::is_same_v<T, half>) return static_cast<float>(x) != 0.0f;
  else return x != T(0);
}

template <class T> int64_t count_non_zero(const T* x, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += is_non_zero(x[i]);
  return count;
}

template <class T> void write_indices(const T* x, const Shape& shape, int64_t count, int64_t* out) {
  const int rank = static_cast<int>(shape.size());
  int64_t index[kMaxRank] = {};
  const int64_t n = shape_size(shape);
  int64_t column = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (is_non_zero(x[i])) {
      for (int d = 0; d < rank; ++d) out[d * count + column] = index[d];
      ++column;
    }
    for (int d = rank - 1; d >= 0 && ++index[d] == shape[static_cast<size_t>(d)]; --d) index[d] = 0;
  }
}

class NonZeroKernel final : public Kernel {
 public:
  explicit NonZeroKernel(std::string label) : label_(std::move(label)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.rank() > kMaxRank) fail(ErrorKind::unsupported, label_, ": input rank ", x.rank(), " exceeds ", kMaxRank);
    auto each = [&](auto zero) {
      using T = decltype(zero);
      const T* data = x.data_as<T>();
      const int64_t count = count_non_zero(data, x.size());
      // A scalar has no dimensions: its one element, when non-zero, is a column of zero rows.
      const int64_t dims[2] = {static_cast<int64_t>(x.rank()), count};
      Tensor& out = ctx.output(0);
      ctx.scope->allocate_output(out, dims, 2);
      write_indices(data, x.shape, count, out.data_as<int64_t>());
    };
    if (x.dtype == DType::boolean) each(bool{});
    else visit_dtype(x.dtype, numeric_half_types{}, label_, each);
  }

 private:
  std::string label_;
};

std::unique_ptr<Kernel> make_non_zero(const KernelInit& init) {
  return std::make_unique<NonZeroKernel>(init.node.label());
}

}  // namespace

INFERD_CPU_KERNEL("NonZero", 9, 12, make_non_zero);
INFERD_CPU_KERNEL("NonZero", 13, kMaxOpset, make_non_zero);

}  // namespace inferd
