// CPU kernel of Concat. Seen as [outer, axis dim, inner], each input contributes one contiguous block
// to every outer row of the output: Concat is outer * inputs memcpys.
#include <algorithm>
#include <cstring>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

// Enough bytes per parallel chunk to outweigh waking a thread.
constexpr int64_t kBytesPerTask = 64 * 1024;

class ConcatKernel final : public Kernel {
 public:
  ConcatKernel(const Node& node, int64_t axis) : label_(node.label()), axis_(axis) {}

  void run(const KernelContext& ctx) const override {
    Tensor& out = ctx.output(0);
    const int rank = out.rank();
    if (axis_ < -rank || axis_ >= rank)
      fail(ErrorKind::runtime, label_, ": attribute 'axis' ", axis_, " is out of range for rank ", rank);
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    const size_t element = dtype_size(out.dtype);
    const int64_t outer = dims_product(out.shape, 0, axis);
    const size_t out_row = static_cast<size_t>(dims_product(out.shape, axis, rank)) * element;

    // Checked before any copy: the blocks must tile each output row exactly.
    size_t row_bytes = 0;
    for (size_t k = 0; k < ctx.input_count; ++k) {
      if (!ctx.has_input(k)) fail(ErrorKind::runtime, label_, ": input ", k, " is missing");
      const Tensor& in = ctx.input(k);
      if (in.rank() != rank || in.dtype != out.dtype || dims_product(in.shape, 0, axis) != outer)
        fail(ErrorKind::runtime, label_, ": input ", k, " ", shape_to_string(in.shape), " does not fit output ",
             shape_to_string(out.shape));
      row_bytes += static_cast<size_t>(dims_product(in.shape, axis, rank)) * element;
    }
    if (row_bytes != out_row)
      fail(ErrorKind::runtime, label_, ": inputs fill ", row_bytes, " bytes of each ", out_row, "-byte output row");
    if (out_row == 0 || outer == 0) return;

    char* dst = static_cast<char*>(out.data);
    size_t offset = 0;  // where input k's block starts within an output row
    for (size_t k = 0; k < ctx.input_count; ++k) {
      const Tensor& in = ctx.input(k);
      const size_t block = static_cast<size_t>(dims_product(in.shape, axis, rank)) * element;
      if (block == 0) continue;
      const char* src = static_cast<const char*>(in.data);
      const int64_t grain = std::max<int64_t>(1, kBytesPerTask / static_cast<int64_t>(block));
      ctx.threads->parallel_for(outer, grain, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o)
          std::memcpy(dst + static_cast<size_t>(o) * out_row + offset, src + static_cast<size_t>(o) * block, block);
      });
      offset += block;
    }
  }

 private:
  std::string label_;
  int64_t axis_;
};

// Before opset 4, axis was optional and defaulted to 1.
std::unique_ptr<Kernel> make_concat_v1(const KernelInit& init) {
  return std::make_unique<ConcatKernel>(init.node, init.attributes().get_int("axis", 1));
}

std::unique_ptr<Kernel> make_concat_v4(const KernelInit& init) {
  return std::make_unique<ConcatKernel>(init.node, init.attributes().require_int("axis"));
}

}  // namespace

INFERD_CPU_KERNEL("Concat", 1, 3, make_concat_v1);
INFERD_CPU_KERNEL("Concat", 4, kMaxOpset, make_concat_v4);

}  // namespace inferd
