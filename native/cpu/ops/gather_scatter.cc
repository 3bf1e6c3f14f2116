// CPU kernels of the gather/scatter family. Gather sees data as [outer, axis dim, inner] and copies,
// for every outer row and every index, the contiguous inner block the index selects. GatherElements
// walks the indices row by row (rows along the last axis), reading one element per index.
// ScatterND copies data to the output, then applies each update slice in order, combined by the
// reduction's functor. Every kernel checks all its indices before it reads or writes with any.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

// Enough bytes per parallel chunk to outweigh waking a thread.
constexpr int64_t kBytesPerTask = 64 * 1024;

// Copies one block of B bytes, or of `bytes` when B is 0 (sizes known only at run time). A fixed-size
// memcpy compiles to plain moves and, unlike a typed load, needs no alignment.
template <size_t B> inline void copy_block(char* dst, const char* src, size_t bytes) {
  if constexpr (B != 0) std::memcpy(dst, src, B);
  else std::memcpy(dst, src, bytes);
}

template <typename Fn> void with_block_size(size_t bytes, Fn&& fn) {
  switch (bytes) {
    case 1: fn(std::integral_constant<size_t, 1>{}); break;
    case 2: fn(std::integral_constant<size_t, 2>{}); break;
    case 4: fn(std::integral_constant<size_t, 4>{}); break;
    case 8: fn(std::integral_constant<size_t, 8>{}); break;
    case 16: fn(std::integral_constant<size_t, 16>{}); break;
    default: fn(std::integral_constant<size_t, 0>{}); break;
  }
}

// Where the work is described once for both index types.
struct GatherGeometry {
  const char* data;
  char* out;
  int64_t outer;   // product of data dims before the axis
  int64_t extent;  // data dim at the axis: the valid indices are [-extent, extent)
  int64_t count;   // number of indices
  size_t block;    // bytes of data after the axis: what one index selects
};

template <size_t B, typename Index>
void gather(const GatherGeometry& g, const Index* indices, ThreadPool& threads) {
  const size_t b = B != 0 ? B : g.block;
  const int64_t grain = std::max<int64_t>(1, kBytesPerTask / static_cast<int64_t>(b));
  threads.parallel_for(g.outer * g.count, grain, [&](int64_t begin, int64_t end) {
    int64_t o = begin / g.count, n = begin % g.count;
    char* dst = g.out + static_cast<size_t>(begin) * b;
    for (int64_t t = begin; t < end; ++t, dst += b) {
      int64_t i = static_cast<int64_t>(indices[n]);
      if (i < 0) i += g.extent;
      copy_block<B>(dst, g.data + static_cast<size_t>(o * g.extent + i) * b, b);
      if (++n == g.count) { n = 0; ++o; }
    }
  });
}

class GatherKernel final : public Kernel {
 public:
  GatherKernel(const Node& node, int64_t axis) : label_(node.label()), axis_(axis) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    Tensor& out = ctx.output(0);
    const int rank = data.rank();
    if (axis_ < -rank || axis_ >= rank)
      fail(ErrorKind::runtime, label_, ": attribute 'axis' ", axis_, " is out of range for data shape ",
           shape_to_string(data.shape));
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    GatherGeometry g;
    g.data = static_cast<const char*>(data.data);
    g.out = static_cast<char*>(out.data);
    g.outer = dims_product(data.shape, 0, axis);
    g.extent = data.shape[static_cast<size_t>(axis)];
    g.count = indices.size();
    g.block = static_cast<size_t>(dims_product(data.shape, axis + 1, rank)) * dtype_size(data.dtype);
    if (out.dtype != data.dtype || out.nbytes() != static_cast<size_t>(g.outer * g.count) * g.block)
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(out.shape), " does not match data ",
           shape_to_string(data.shape), " gathered by indices ", shape_to_string(indices.shape));

    switch (indices.dtype) {
      case DType::i32: run_typed(g, indices.data_as<int32_t>(), data.shape, axis, *ctx.threads); break;
      case DType::i64: run_typed(g, indices.data_as<int64_t>(), data.shape, axis, *ctx.threads); break;
      default:
        fail(ErrorKind::runtime, label_, ": indices have type ", dtype_name(indices.dtype), "; expected int32 or int64");
    }
  }

 private:
  template <typename Index>
  void run_typed(const GatherGeometry& g, const Index* indices, const Shape& data_shape, int axis,
                 ThreadPool& threads) const {
    // Every index is checked before any is used, so a bad one never reads outside the data.
    for (int64_t n = 0; n < g.count; ++n) {
      const int64_t i = static_cast<int64_t>(indices[n]);
      if (i < -g.extent || i >= g.extent)
        fail(ErrorKind::runtime, label_, ": index ", i, " (indices element ", n, ") is out of range [", -g.extent,
             ", ", g.extent - 1, "] for axis ", axis, " of data shape ", shape_to_string(data_shape));
    }
    if (g.block == 0 || g.outer == 0 || g.count == 0) return;
    with_block_size(g.block, [&](auto size) { gather<decltype(size)::value>(g, indices, threads); });
  }

  std::string label_;
  int64_t axis_;
};

std::unique_ptr<Kernel> make_gather(const KernelInit& init) {
  return std::make_unique<GatherKernel>(init.node, init.attributes().get_int("axis", 0));
}

// Calls fn(T{}) with T the unsigned integer as wide as `dtype`'s elements: for kernels that move
// elements without computing on them.
template <class F> void visit_width(DType dtype, const std::string& who, F&& f) {
  switch (dtype_size(dtype)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    case 8: f(uint64_t{}); break;
    default: fail(ErrorKind::unsupported, who, ": the CPU kernel does not support type ", dtype_name(dtype));
  }
}

// ---- GatherElements ------------------------------------------------------------------------------

template <class T, class Index>
void gather_elements(const T* data, const Shape& data_shape, const Index* indices, const Shape& shape, int axis,
                     T* out, ThreadPool& pool) {
  const int rank = static_cast<int>(shape.size());
  int64_t stride[kMaxRank];
  row_major_strides(data_shape, stride);
  const int last = rank - 1;
  const int64_t n = shape[static_cast<size_t>(last)];
  const int64_t extent = data_shape[static_cast<size_t>(axis)];
  const int64_t axis_stride = stride[axis];
  const int64_t rows = dims_product(shape, 0, last);
  if (rows == 0 || n == 0) return;
  pool.parallel_for(rows, std::max<int64_t>(1, cpu::kParallelGrain / n), [&](int64_t first, int64_t end) {
    int64_t index[kMaxRank] = {};
    int64_t base = 0;  // data offset of the row, the axis's coordinate left out
    for (int64_t r = first, d = last - 1; d >= 0; --d) {
      index[d] = r % shape[static_cast<size_t>(d)];
      r /= shape[static_cast<size_t>(d)];
      if (d != axis) base += index[d] * stride[d];
    }
    for (int64_t row = first; row < end; ++row) {
      const Index* idx = indices + row * n;
      T* dst = out + row * n;
      if (axis == last) {
        const T* src = data + base;
        for (int64_t j = 0; j < n; ++j) {
          const int64_t i = static_cast<int64_t>(idx[j]);
          dst[j] = src[i < 0 ? i + extent : i];
        }
      } else {
        const T* src = data + base;
        for (int64_t j = 0; j < n; ++j) {
          const int64_t i = static_cast<int64_t>(idx[j]);
          dst[j] = src[j + (i < 0 ? i + extent : i) * axis_stride];
        }
      }
      for (int d = last - 1; d >= 0; --d) {
        if (d != axis) base += stride[d];
        if (++index[d] < shape[static_cast<size_t>(d)]) break;
        if (d != axis) base -= shape[static_cast<size_t>(d)] * stride[d];
        index[d] = 0;
      }
    }
  });
}

class GatherElementsKernel final : public Kernel {
 public:
  explicit GatherElementsKernel(const KernelInit& init)
      : label_(init.node.label()), axis_(init.attributes().get_int("axis", 0)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    Tensor& out = ctx.output(0);
    const int rank = data.rank();
    if (axis_ < -rank || axis_ >= rank)
      fail(ErrorKind::runtime, label_, ": attribute 'axis' ", axis_, " is out of range for data shape ",
           shape_to_string(data.shape));
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    bool fits = rank <= kMaxRank && indices.rank() == rank && out.shape == indices.shape && out.dtype == data.dtype;
    for (int d = 0; fits && d < rank; ++d)
      fits = d == axis || indices.shape[static_cast<size_t>(d)] <= data.shape[static_cast<size_t>(d)];
    if (!fits)
      fail(ErrorKind::runtime, label_, ": indices ", shape_to_string(indices.shape), " and output ",
           shape_to_string(out.shape), " do not fit data ", shape_to_string(data.shape));
    switch (indices.dtype) {
      case DType::i32: run_typed(data, indices.data_as<int32_t>(), indices.shape, axis, out, *ctx.threads); break;
      case DType::i64: run_typed(data, indices.data_as<int64_t>(), indices.shape, axis, out, *ctx.threads); break;
      default:
        fail(ErrorKind::runtime, label_, ": indices have type ", dtype_name(indices.dtype), "; expected int32 or int64");
    }
  }

 private:
  template <class Index>
  void run_typed(const Tensor& data, const Index* indices, const Shape& shape, int axis, Tensor& out,
                 ThreadPool& pool) const {
    const int64_t extent = data.shape[static_cast<size_t>(axis)];
    const int64_t count = shape_size(shape);
    for (int64_t n = 0; n < count; ++n) {
      const int64_t i = static_cast<int64_t>(indices[n]);
      if (i < -extent || i >= extent)
        fail(ErrorKind::runtime, label_, ": index ", i, " (indices element ", n, ") is out of range [", -extent, ", ",
             extent - 1, "] for axis ", axis, " of data shape ", shape_to_string(data.shape));
    }
    visit_width(data.dtype, label_, [&](auto tag) {
      using T = decltype(tag);
      gather_elements(data.data_as<T>(), data.shape, indices, shape, axis, out.data_as<T>(), pool);
    });
  }

  std::string label_;
  int64_t axis_;
};

std::unique_ptr<Kernel> make_gather_elements(const KernelInit& init) {
  return std::make_unique<GatherElementsKernel>(init);
}

// ---- ScatterND -----------------------------------------------------------------------------------

struct op_assign {
  template <class T> T operator()(T, T u) const { return u; }
};
struct op_add {
  template <class T> T operator()(T a, T b) const { return T(cpu::arith_t<T>(a) + cpu::arith_t<T>(b)); }
};
struct op_mul {
  template <class T> T operator()(T a, T b) const { return T(cpu::arith_t<T>(a) * cpu::arith_t<T>(b)); }
};
struct op_max {
  template <class T> T operator()(T a, T b) const { return b > a ? b : a; }
};
struct op_min {
  template <class T> T operator()(T a, T b) const { return b < a ? b : a; }
};

// out[offset(tuple u) + j] = op(out[...], updates[u · slice + j]) for every index tuple u in order.
template <class T, class Op>
void scatter_nd(T* out, const T* updates, const int64_t* offsets, int64_t tuples, int64_t slice, const Op& op,
                ThreadPool& pool) {
  for (int64_t u = 0; u < tuples; ++u) {
    T* dst = out + offsets[u];
    const T* src = updates + u * slice;
    pool.parallel_for(slice, cpu::kParallelGrain, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) dst[j] = op(dst[j], src[j]);
    });
  }
}

enum class Reduction { none, add, mul, max, min };

class ScatterNDKernel final : public Kernel {
 public:
  explicit ScatterNDKernel(const KernelInit& init) : label_(init.node.label()) {
    const std::string r = init.attributes().get_string("reduction", "none");
    if (r == "none") reduction_ = Reduction::none;
    else if (r == "add") reduction_ = Reduction::add;
    else if (r == "mul") reduction_ = Reduction::mul;
    else if (r == "max") reduction_ = Reduction::max;
    else if (r == "min") reduction_ = Reduction::min;
    else fail(ErrorKind::invalid_model, label_, ": attribute 'reduction' '", r, "' is not one of none, add, mul, max, min");
  }

  void run(const KernelContext& ctx) const override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const Tensor& updates = ctx.input(2);
    Tensor& out = ctx.output(0);
    const int rank = data.rank();
    const int64_t k = indices.rank() > 0 ? indices.shape.back() : 0;
    if (indices.dtype != DType::i64 || k < 1 || k > rank || out.shape != data.shape || out.dtype != data.dtype ||
        updates.dtype != data.dtype)
      fail(ErrorKind::runtime, label_, ": indices ", shape_to_string(indices.shape), " (", dtype_name(indices.dtype),
           ") do not fit data ", shape_to_string(data.shape));
    const int64_t tuples = indices.size() / k;
    const int64_t slice = dims_product(data.shape, static_cast<int>(k), rank);
    if (updates.size() != tuples * slice)
      fail(ErrorKind::runtime, label_, ": updates ", shape_to_string(updates.shape), " do not fit indices ",
           shape_to_string(indices.shape), " and data ", shape_to_string(data.shape));
    if (out.data != data.data && out.nbytes() > 0) std::memcpy(out.data, data.data, out.nbytes());
    if (tuples == 0 || slice == 0) return;

    // Every index checked (and turned into an element offset) before anything is written.
    thread_local std::vector<int64_t> offsets;
    if (offsets.size() < static_cast<size_t>(tuples)) offsets.resize(static_cast<size_t>(tuples));
    const int64_t* idx = indices.data_as<int64_t>();
    for (int64_t u = 0; u < tuples; ++u) {
      int64_t position = 0;  // row-major position of the tuple among data's first k dims
      for (int64_t d = 0; d < k; ++d) {
        const int64_t extent = data.shape[static_cast<size_t>(d)];
        int64_t i = idx[u * k + d];
        if (i < -extent || i >= extent)
          fail(ErrorKind::runtime, label_, ": index ", i, " (indices tuple ", u, ", entry ", d, ") is out of range [",
               -extent, ", ", extent - 1, "] for axis ", d, " of data shape ", shape_to_string(data.shape));
        position = position * extent + (i < 0 ? i + extent : i);
      }
      offsets[static_cast<size_t>(u)] = position * slice;
    }
    if (reduction_ == Reduction::none) {
      visit_width(data.dtype, label_, [&](auto tag) {
        using T = decltype(tag);
        scatter_nd(out.data_as<T>(), updates.data_as<T>(), offsets.data(), tuples, slice, op_assign{}, *ctx.threads);
      });
      return;
    }
    visit_dtype(data.dtype, cpu::numeric_types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      T* o = out.data_as<T>();
      const T* up = updates.data_as<T>();
      switch (reduction_) {
        case Reduction::add: scatter_nd(o, up, offsets.data(), tuples, slice, op_add{}, *ctx.threads); break;
        case Reduction::mul: scatter_nd(o, up, offsets.data(), tuples, slice, op_mul{}, *ctx.threads); break;
        case Reduction::max: scatter_nd(o, up, offsets.data(), tuples, slice, op_max{}, *ctx.threads); break;
        case Reduction::min: scatter_nd(o, up, offsets.data(), tuples, slice, op_min{}, *ctx.threads); break;
        case Reduction::none: break;
      }
    });
  }

 private:
  std::string label_;
  Reduction reduction_ = Reduction::none;
};

std::unique_ptr<Kernel> make_scatter_nd(const KernelInit& init) { return std::make_unique<ScatterNDKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Gather", 1, kMaxOpset, make_gather);
INFERD_CPU_KERNEL("GatherElements", 11, kMaxOpset, make_gather_elements);
// The reductions that opsets 16 and 18 added are refused by the schema at the older opsets.
INFERD_CPU_KERNEL("ScatterND", 11, kMaxOpset, make_scatter_nd);

}  // namespace inferd
