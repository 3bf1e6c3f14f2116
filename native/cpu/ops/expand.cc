// CPU kernels of Expand and Tile. Both follow from the input's and the planned output's shapes alone,
// so neither reads its second input. They move elements without computing on them, so each type is
// handled as the unsigned integer of its size.
//
// Expand is broadcast machinery already written (cpu/kernels/broadcast.h) with a functor that passes
// its first operand through. Tile sees the output as rows along its last repeated axis: each row is
// one input row written, then doubled in place until it is repeated enough times.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"

namespace inferd {
namespace {

using namespace cpu;

constexpr int64_t kBytesPerTask = 64 * 1024;

// Calls fn(T{}) with T the unsigned integer as wide as `dtype`'s elements.
template <class F> void visit_width(DType dtype, const std::string& who, F&& f) {
  switch (dtype_size(dtype)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    case 8: f(uint64_t{}); break;
    default: fail(ErrorKind::unsupported, who, ": the CPU kernel does not support type ", dtype_name(dtype));
  }
}

// ---- Expand --------------------------------------------------------------------------------------

struct op_first {
  template <class T> T operator()(T a, T) const { return a; }
};

class ExpandKernel final : public Kernel {
 public:
  explicit ExpandKernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    broadcast_walk walk;
    if (y.dtype != x.dtype || !plan_broadcast(x.shape, x.shape, y.shape, &walk))
      fail(ErrorKind::runtime, label_, ": input ", shape_to_string(x.shape), " does not broadcast to the planned output ",
           shape_to_string(y.shape));
    if (y.size() == 0) return;
    visit_width(x.dtype, label_, [&](auto tag) {
      using T = decltype(tag);
      binary_map(x.data_as<T>(), x.data_as<T>(), y.data_as<T>(), walk, op_first{}, *ctx.threads);
    });
  }

 private:
  std::string label_;
};

std::unique_ptr<Kernel> make_expand(const KernelInit& init) { return std::make_unique<ExpandKernel>(init); }

// ---- Tile ----------------------------------------------------------------------------------------

class TileKernel final : public Kernel {
 public:
  explicit TileKernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    if (rank > kMaxRank)
      fail(ErrorKind::unsupported, label_, ": input of rank ", rank, " exceeds the supported rank ", kMaxRank);
    if (y.dtype != x.dtype || y.rank() != rank)
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(y.shape), " does not tile input ",
           shape_to_string(x.shape));
    int64_t repeats[kMaxRank];
    for (int d = 0; d < rank; ++d) {
      const int64_t in = x.shape[static_cast<size_t>(d)], out = y.shape[static_cast<size_t>(d)];
      if (in == 0 ? out != 0 : out % in != 0)
        fail(ErrorKind::runtime, label_, ": output ", shape_to_string(y.shape), " does not tile input ",
             shape_to_string(x.shape));
      repeats[d] = in == 0 ? 1 : out / in;
    }
    if (y.size() == 0) return;
    const size_t elem = dtype_size(x.dtype);
    // Trailing axes repeated once are whole blocks of contiguous bytes, in the input as in the output.
    size_t block = elem;
    int last = rank - 1;
    while (last >= 0 && repeats[last] == 1) block *= static_cast<size_t>(x.shape[static_cast<size_t>(last--)]);
    const char* src = static_cast<const char*>(x.data);
    char* dst = static_cast<char*>(y.data);
    if (last < 0) {
      std::memcpy(dst, src, block);
      return;
    }
    int64_t in_stride[kMaxRank];  // in bytes
    in_stride[last] = static_cast<int64_t>(block);
    for (int d = last - 1; d >= 0; --d) in_stride[d] = in_stride[d + 1] * x.shape[static_cast<size_t>(d + 1)];
    const size_t in_row = static_cast<size_t>(x.shape[static_cast<size_t>(last)]) * block;
    const size_t out_row = in_row * static_cast<size_t>(repeats[last]);
    int64_t rows = 1;
    for (int d = 0; d < last; ++d) rows *= y.shape[static_cast<size_t>(d)];
    const int64_t grain = std::max<int64_t>(1, kBytesPerTask / static_cast<int64_t>(out_row));
    ctx.threads->parallel_for(rows, grain, [&](int64_t first, int64_t end) {
      int64_t index[kMaxRank] = {};  // output coordinates of the row
      for (int64_t r = first, d = last - 1; d >= 0; --d) {
        index[d] = r % y.shape[static_cast<size_t>(d)];
        r /= y.shape[static_cast<size_t>(d)];
      }
      for (int64_t row = first; row < end; ++row) {
        int64_t offset = 0;
        for (int d = 0; d < last; ++d) offset += index[d] % x.shape[static_cast<size_t>(d)] * in_stride[d];
        char* to = dst + static_cast<size_t>(row) * out_row;
        std::memcpy(to, src + offset, in_row);
        for (size_t done = in_row; done < out_row; done *= 2) std::memcpy(to + done, to, std::min(done, out_row - done));
        for (int d = last - 1; d >= 0; --d) {
          if (++index[d] < y.shape[static_cast<size_t>(d)]) break;
          index[d] = 0;
        }
      }
    });
  }

 private:
  std::string label_;
};

std::unique_ptr<Kernel> make_tile(const KernelInit& init) { return std::make_unique<TileKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("Expand", 8, kMaxOpset, make_expand);
// Tile-1 and Tile-6 differ in how the repeats are given; the kernel reads them off the shapes.
INFERD_CPU_KERNEL("Tile", 1, kMaxOpset, make_tile);

}  // namespace inferd
