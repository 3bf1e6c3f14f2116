// CPU kernels of Range, ConstantOfShape, Size, Trilu and CumSum.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

using namespace cpu;

constexpr int64_t kBytesPerTask = 64 * 1024;

// ---- Range ---------------------------------------------------------------------------------------

// output[i] = start + i·delta, for as many elements as the plan gave the output (the shape function
// counted them from the same values). Integers compute in int64, float16 and bfloat16 in float32.
class RangeKernel final : public Kernel {
 public:
  explicit RangeKernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& start = ctx.input(0);
    const Tensor& delta = ctx.input(2);
    Tensor& y = ctx.output(0);
    const int64_t n = y.size();
    if (y.dtype != start.dtype || delta.dtype != start.dtype || start.size() != 1 || delta.size() != 1)
      fail(ErrorKind::runtime, label_, ": start, delta and output must share one type, with scalar start and delta");
    switch (start.dtype) {
      case DType::f32: fill(y.data_as<float>(), n, start.data_as<float>()[0], delta.data_as<float>()[0]); break;
      case DType::f64: fill(y.data_as<double>(), n, start.data_as<double>()[0], delta.data_as<double>()[0]); break;
      case DType::i16: fill_int(y.data_as<int16_t>(), n, start.data_as<int16_t>()[0], delta.data_as<int16_t>()[0]); break;
      case DType::i32: fill_int(y.data_as<int32_t>(), n, start.data_as<int32_t>()[0], delta.data_as<int32_t>()[0]); break;
      case DType::i64: fill_int(y.data_as<int64_t>(), n, start.data_as<int64_t>()[0], delta.data_as<int64_t>()[0]); break;
      case DType::f16: {
        const float s = half_to_float(start.data_as<uint16_t>()[0]), d = half_to_float(delta.data_as<uint16_t>()[0]);
        uint16_t* out = y.data_as<uint16_t>();
        for (int64_t i = 0; i < n; ++i) out[i] = float_to_half(s + static_cast<float>(i) * d);
        break;
      }
      case DType::bf16: {
        const float s = bf16_to_float(start.data_as<uint16_t>()[0]), d = bf16_to_float(delta.data_as<uint16_t>()[0]);
        uint16_t* out = y.data_as<uint16_t>();
        for (int64_t i = 0; i < n; ++i) out[i] = float_to_bf16(s + static_cast<float>(i) * d);
        break;
      }
      default: fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(start.dtype));
    }
  }

 private:
  template <class T> static void fill(T* out, int64_t n, T start, T delta) {
    for (int64_t i = 0; i < n; ++i) out[i] = start + static_cast<T>(i) * delta;
  }
  template <class T> static void fill_int(T* out, int64_t n, T start, T delta) {
    // Every element lies in [start, limit), so it fits T; only the product needs the wider type.
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<T>(static_cast<int64_t>(start) + static_cast<int64_t>(static_cast<uint64_t>(i) * static_cast<uint64_t>(static_cast<int64_t>(delta))));
  }

  std::string label_;
};

std::unique_ptr<Kernel> make_range(const KernelInit& init) { return std::make_unique<RangeKernel>(init); }

// ---- ConstantOfShape -----------------------------------------------------------------------------

class ConstantOfShapeKernel final : public Kernel {
 public:
  explicit ConstantOfShapeKernel(const KernelInit& init) : label_(init.node.label()) {
    if (const Tensor* value = init.attributes().get_tensor("value")) {
      if (value->size() != 1 || dtype_size(value->dtype) == 0 || dtype_size(value->dtype) > sizeof(bytes_))
        fail(ErrorKind::invalid_model, label_, ": attribute 'value' must hold one element of a stored type");
      dtype_ = value->dtype;
      std::memcpy(bytes_, value->data, dtype_size(dtype_));
    }
  }

  void run(const KernelContext& ctx) const override {
    Tensor& y = ctx.output(0);
    if (y.dtype != dtype_)
      fail(ErrorKind::runtime, label_, ": output is ", dtype_name(y.dtype), ", value is ", dtype_name(dtype_));
    const size_t elem = dtype_size(dtype_);
    visit_width(elem, [&](auto tag) {
      using T = decltype(tag);
      T v;
      std::memcpy(&v, bytes_, sizeof(T));
      T* out = y.data_as<T>();
      ctx.threads->parallel_for(y.size(), kBytesPerTask / static_cast<int64_t>(sizeof(T)), [&](int64_t b, int64_t e) {
        std::fill(out + b, out + e, v);
      });
    });
  }

 private:
  template <class F> void visit_width(size_t bytes, F&& f) const {
    switch (bytes) {
      case 1: f(uint8_t{}); break;
      case 2: f(uint16_t{}); break;
      case 4: f(uint32_t{}); break;
      case 8: f(uint64_t{}); break;
      default: fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(dtype_));
    }
  }

  std::string label_;
  DType dtype_ = DType::f32;  // a float 0 unless 'value' says otherwise
  alignas(8) unsigned char bytes_[8] = {};
};

std::unique_ptr<Kernel> make_constant_of_shape(const KernelInit& init) {
  return std::make_unique<ConstantOfShapeKernel>(init);
}

// ---- Size ----------------------------------------------------------------------------------------

// The plan gives Size's value when it plans (see its shape function); this runs only when a node is
// evaluated some other way.
class SizeKernel final : public Kernel {
 public:
  void run(const KernelContext& ctx) const override { ctx.output(0).data_as<int64_t>()[0] = ctx.input(0).size(); }
};

std::unique_ptr<Kernel> make_size(const KernelInit&) { return std::make_unique<SizeKernel>(); }

// ---- Trilu ---------------------------------------------------------------------------------------

// Row i of each [N, M] matrix keeps columns j with j − i ≥ k (upper) or j − i ≤ k (lower) and zeroes
// the rest: a copy and a memset per row, whatever the type (a zero byte pattern is 0, 0.0 and false).
class TriluKernel final : public Kernel {
 public:
  explicit TriluKernel(const KernelInit& init)
      : label_(init.node.label()), upper_(init.attributes().get_int("upper", 1) != 0) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    if (rank < 2 || y.shape != x.shape || y.dtype != x.dtype)
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(y.shape), " does not match input ",
           shape_to_string(x.shape));
    const int64_t N = x.shape[static_cast<size_t>(rank - 2)], M = x.shape[static_cast<size_t>(rank - 1)];
    int64_t k = 0;
    if (ctx.has_input(1)) {
      const Tensor& kt = ctx.input(1);
      if (kt.dtype != DType::i64 || kt.size() != 1)
        fail(ErrorKind::invalid_argument, label_, ": input 'k' must be an int64 scalar");
      k = std::clamp<int64_t>(kt.data_as<int64_t>()[0], -(N + 1), M + 1);  // beyond these nothing changes
    }
    const int64_t rows = dims_product(x.shape, 0, rank - 1);
    if (rows == 0 || M == 0) return;
    const size_t elem = dtype_size(x.dtype);
    const size_t row_bytes = static_cast<size_t>(M) * elem;
    const char* src = static_cast<const char*>(x.data);
    char* dst = static_cast<char*>(y.data);
    const bool upper = upper_;
    const int64_t grain = std::max<int64_t>(1, kBytesPerTask / static_cast<int64_t>(row_bytes));
    ctx.threads->parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t i = r % N;
        // Kept columns [lo, hi).
        const int64_t lo = upper ? std::clamp<int64_t>(i + k, 0, M) : 0;
        const int64_t hi = upper ? M : std::clamp<int64_t>(i + k + 1, 0, M);
        char* to = dst + static_cast<size_t>(r) * row_bytes;
        const char* from = src + static_cast<size_t>(r) * row_bytes;
        std::memset(to, 0, static_cast<size_t>(lo) * elem);
        if (hi > lo && to != from) std::memcpy(to + lo * elem, from + lo * elem, static_cast<size_t>(hi - lo) * elem);
        std::memset(to + std::max(hi, lo) * elem, 0, static_cast<size_t>(M - std::max(hi, lo)) * elem);
      }
    });
  }

 private:
  std::string label_;
  bool upper_;
};

std::unique_ptr<Kernel> make_trilu(const KernelInit& init) { return std::make_unique<TriluKernel>(init); }

// ---- CumSum --------------------------------------------------------------------------------------

// The input seen as [outer, D, inner]; each task runs the D-long scan for a run of up to kColumns
// neighbouring inner positions at once, the output's previous row being the running sum (so the loop
// over columns is contiguous and vectorises).
constexpr int64_t kColumns = 1024;

template <class T>
void cum_sum_columns(const T* x, T* y, int64_t D, int64_t inner, int64_t width, bool exclusive, bool reverse) {
  using A = arith_t<T>;
  const int64_t first = reverse ? D - 1 : 0;
  const int64_t step = reverse ? -1 : 1;
  T* row = y + first * inner;
  const T* in = x + first * inner;
  for (int64_t t = 0; t < width; ++t) row[t] = exclusive ? T(0) : in[t];
  for (int64_t a = 1; a < D; ++a) {
    const int64_t at = first + a * step;
    T* out = y + at * inner;
    const T* prev = out - step * inner;
    const T* add = exclusive ? x + (at - step) * inner : x + at * inner;
    for (int64_t t = 0; t < width; ++t) out[t] = T(A(prev[t]) + A(add[t]));
  }
}

class CumSumKernel final : public Kernel {
 public:
  explicit CumSumKernel(const KernelInit& init)
      : label_(init.node.label()),
        exclusive_(init.attributes().get_int("exclusive", 0) != 0),
        reverse_(init.attributes().get_int("reverse", 0) != 0) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& axis_tensor = ctx.input(1);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    if (y.shape != x.shape || y.dtype != x.dtype)
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(y.shape), " does not match input ",
           shape_to_string(x.shape));
    if ((axis_tensor.dtype != DType::i32 && axis_tensor.dtype != DType::i64) || axis_tensor.size() != 1)
      fail(ErrorKind::invalid_argument, label_, ": input 'axis' must be an int32 or int64 scalar");
    const int64_t axis = axis_tensor.dtype == DType::i32 ? axis_tensor.data_as<int32_t>()[0] : axis_tensor.data_as<int64_t>()[0];
    if (axis < -rank || axis >= rank)
      fail(ErrorKind::out_of_range, label_, ": input 'axis' ", axis, " is out of range for rank ", rank);
    const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
    const int64_t outer = dims_product(x.shape, 0, a), D = x.shape[static_cast<size_t>(a)];
    const int64_t inner = dims_product(x.shape, a + 1, rank);
    if (outer == 0 || D == 0 || inner == 0) return;
    const int64_t blocks = (inner + kColumns - 1) / kColumns;
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / (D * std::min(inner, kColumns)));
    visit_dtype(x.dtype, type_list<float, double, int32_t, int64_t, uint32_t, uint64_t>{}, label_, [&](auto tag) {
      using T = decltype(tag);
      const T* in = x.data_as<T>();
      T* out = y.data_as<T>();
      ctx.threads->parallel_for(outer * blocks, grain, [&](int64_t begin, int64_t end) {
        for (int64_t task = begin; task < end; ++task) {
          const int64_t o = task / blocks, t0 = (task % blocks) * kColumns;
          const int64_t offset = o * D * inner + t0;
          cum_sum_columns(in + offset, out + offset, D, inner, std::min(kColumns, inner - t0), exclusive_, reverse_);
        }
      });
    });
  }

 private:
  std::string label_;
  bool exclusive_, reverse_;
};

std::unique_ptr<Kernel> make_cum_sum(const KernelInit& init) { return std::make_unique<CumSumKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Range", 11, kMaxOpset, make_range);
INFERD_CPU_KERNEL("ConstantOfShape", 9, kMaxOpset, make_constant_of_shape);
INFERD_CPU_KERNEL("Size", 1, kMaxOpset, make_size);
INFERD_CPU_KERNEL("Trilu", 14, kMaxOpset, make_trilu);
INFERD_CPU_KERNEL("CumSum", 11, kMaxOpset, make_cum_sum);

}  // namespace inferd
