// CPU kernel of TopK. Each slice along the axis is copied with its indices into a per-thread scratch
// array and partially sorted: the k first of the order "larger value first (smaller with largest = 0),
// then lower index first", so ties go to the lower index as ONNX specifies. NaN counts as larger than
// every number, as in numpy's sort order. k comes from the planned output's shape.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

using namespace cpu;

template <class T> struct Entry {
  T value;
  int64_t index;
};

template <class T> inline bool greater(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a > b || (std::isnan(a) && !std::isnan(b));
  else return a > b;
}

template <class T>
void top_k(const T* x, int64_t outer, int64_t D, int64_t inner, int64_t k, bool largest, T* values,
           int64_t* indices, ThreadPool& pool) {
  if (k == 0 || outer == 0 || inner == 0) return;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(D, 1));
  pool.parallel_for(outer * inner, grain, [&](int64_t begin, int64_t end) {
    // Grows to the longest axis this thread has seen, then is reused by every later run.
    thread_local std::vector<Entry<T>> scratch;
    if (scratch.size() < static_cast<size_t>(D)) scratch.resize(static_cast<size_t>(D));
    Entry<T>* e = scratch.data();
    for (int64_t s = begin; s < end; ++s) {
      const int64_t o = s / inner, t = s % inner;
      const T* src = x + o * D * inner + t;
      for (int64_t a = 0; a < D; ++a) e[a] = {src[a * inner], a};
      if (largest) {
        std::partial_sort(e, e + k, e + D, [](const Entry<T>& p, const Entry<T>& q) {
          return greater(p.value, q.value) || (!greater(q.value, p.value) && p.index < q.index);
        });
      } else {
        std::partial_sort(e, e + k, e + D, [](const Entry<T>& p, const Entry<T>& q) {
          return greater(q.value, p.value) || (!greater(p.value, q.value) && p.index < q.index);
        });
      }
      T* v = values + o * k * inner + t;
      int64_t* i = indices + o * k * inner + t;
      for (int64_t j = 0; j < k; ++j) {
        v[j * inner] = e[j].value;
        i[j * inner] = e[j].index;
      }
    }
  });
}

class TopKKernel final : public Kernel {
 public:
  TopKKernel(const KernelInit& init, bool has_largest)
      : label_(init.node.label()),
        axis_(init.attributes().get_int("axis", -1)),
        largest_(!has_largest || init.attributes().get_int("largest", 1) != 0) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& values = ctx.output(0);
    Tensor& indices = ctx.output(1);
    const int rank = x.rank();
    if (axis_ < -rank || axis_ >= rank)
      fail(ErrorKind::runtime, label_, ": attribute 'axis' ", axis_, " is out of range for rank ", rank);
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    const int64_t outer = dims_product(x.shape, 0, axis), D = x.shape[static_cast<size_t>(axis)];
    const int64_t inner = dims_product(x.shape, axis + 1, rank);
    const int64_t k = values.rank() == rank ? values.shape[static_cast<size_t>(axis)] : -1;
    if (values.dtype != x.dtype || indices.dtype != DType::i64 || values.shape != indices.shape || k < 0 || k > D ||
        values.size() != outer * k * inner)
      fail(ErrorKind::runtime, label_, ": outputs ", shape_to_string(values.shape), " and ",
           shape_to_string(indices.shape), " do not match input ", shape_to_string(x.shape));
    visit_dtype(x.dtype, numeric_types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      top_k(x.data_as<T>(), outer, D, inner, k, largest_, values.data_as<T>(), indices.data_as<int64_t>(), *ctx.threads);
    });
  }

 private:
  std::string label_;
  int64_t axis_;
  bool largest_;
};

std::unique_ptr<Kernel> make_top_k_1(const KernelInit& init) { return std::make_unique<TopKKernel>(init, false); }
std::unique_ptr<Kernel> make_top_k_11(const KernelInit& init) { return std::make_unique<TopKKernel>(init, true); }

}  // namespace

// Opsets 1 and 10 differ only in where k comes from, which the kernel reads off the output.
INFERD_CPU_KERNEL("TopK", 1, 10, make_top_k_1);
INFERD_CPU_KERNEL("TopK", 11, kMaxOpset, make_top_k_11);

}  // namespace inferd
