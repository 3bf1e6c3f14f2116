#include "cuda/ops/slice.cuh"

#include <algorithm>

namespace inferd::gpu {
namespace {

template <class T> __global__ void strided_copy(const T* x, T* y, int64_t n, int64_t base, Indexer out, Strides steps) {
  INFERD_GRID_STRIDE(i, n) y[i] = x[base + out.offset(i, steps.s)];
}

class SliceKernel final : public CudaKernel {
 public:
  SliceKernel(const KernelInit& init, bool from_inputs)
      : CudaKernel(init), node_(init.node), label_(init.node.label()), from_inputs_(from_inputs) {
    if (!from_inputs) {
      starts_ = init.attributes().require_ints("starts");
      ends_ = init.attributes().require_ints("ends");
      axes_ = init.attributes().get_ints("axes", {});
    }
  }

  void run_on(const CudaContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    int64_t starts[kMaxRank], axes[kMaxRank], steps[kMaxRank];
    size_t count = 0, axis_count = 0, step_count = 0;
    if (from_inputs_) {
      count = host_ints(ctx, 1, node_, "starts", starts, kMaxRank);
      if (ctx.has_input(3)) axis_count = host_ints(ctx, 3, node_, "axes", axes, kMaxRank);
      if (ctx.has_input(4)) step_count = host_ints(ctx, 4, node_, "steps", steps, kMaxRank);
    } else {
      count = std::min(starts_.size(), static_cast<size_t>(kMaxRank));
      std::copy_n(starts_.begin(), count, starts);
      axis_count = std::min(axes_.size(), static_cast<size_t>(kMaxRank));
      std::copy_n(axes_.begin(), axis_count, axes);
    }
    int64_t begin[kMaxRank], step[kMaxRank];
    for (int d = 0; d < rank; ++d) begin[d] = 0, step[d] = 1;
    for (size_t k = 0; k < count; ++k) {
      const int axis = normalize_axis(axis_count ? axes[k] : static_cast<int64_t>(k), rank, label_);
      const int64_t dim = x.shape[axis];
      const int64_t s = step_count ? steps[k] : 1;
      int64_t b = starts[k] < 0 ? starts[k] + dim : starts[k];
      b = s > 0 ? std::clamp<int64_t>(b, 0, dim) : std::clamp<int64_t>(b, 0, dim - 1);
      begin[axis] = b;
      step[axis] = s;
    }
    int64_t strides[kMaxRank];
    row_major_strides(x.shape, strides);
    int64_t base = 0;
    Strides walk;
    for (int d = 0; d < rank; ++d) {
      base += begin[d] * strides[d];
      walk.s[d] = step[d] * strides[d];
    }
    const int64_t n = y.size();
    if (n == 0) return;
    dispatch_by_size(x.dtype, label_, [&](auto zero) {
      using T = decltype(zero);
      strided_copy<<<grid_for(n), kBlock, 0, ctx.stream>>>(x.data_as<T>(), y.data_as<T>(), n, base,
                                                           indexer_of(y.shape), walk);
    });
  }

 private:
  const Node& node_;
  std::string label_;
  bool from_inputs_;
  std::vector<int64_t> starts_, ends_, axes_;
};

std::unique_ptr<Kernel> make_slice_1(const KernelInit& init) { return std::make_unique<SliceKernel>(init, false); }
std::unique_ptr<Kernel> make_slice_10(const KernelInit& init) { return std::make_unique<SliceKernel>(init, true); }

}  // namespace

INFERD_CUDA_KERNEL("Slice", 1, 9, make_slice_1);
INFERD_CUDA_KERNEL("Slice", 10, kMaxOpset, make_slice_10);

}  // namespace inferd::gpu
