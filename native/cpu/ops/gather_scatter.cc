// CPU kernels of the gather/scatter family. Gather sees data as [outer, axis dim, inner] and copies,
// for every outer row and every index, the contiguous inner block the index selects.
#include <algorithm>
#include <cstring>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"

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

}  // namespace

INFERD_CPU_KERNEL("Gather", 1, kMaxOpset, make_gather);

}  // namespace inferd
