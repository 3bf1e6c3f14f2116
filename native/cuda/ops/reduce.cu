#include "cuda/ops/reduce.cuh"

#include <cfloat>

namespace inferd::gpu {
namespace {

enum class Reduction { sum, mean, max, min };

template <Reduction R> struct reducer {
  static __device__ __forceinline__ float init() {
    return R == Reduction::max ? -FLT_MAX : R == Reduction::min ? FLT_MAX : 0.0f;
  }
  __device__ __forceinline__ float operator()(float a, float b) const {
    return R == Reduction::max ? fmaxf(a, b) : R == Reduction::min ? fminf(a, b) : a + b;
  }
};

template <Reduction R> __global__ void reduce_rows(const float* x, float* y, int64_t n) {
  const float* row = x + blockIdx.x * n;
  reducer<R> op;
  float acc = reducer<R>::init();
  for (int64_t i = threadIdx.x; i < n; i += kBlock) acc = op(acc, row[i]);
  acc = block_reduce(acc, op);
  if (threadIdx.x == 0) y[blockIdx.x] = R == Reduction::mean ? acc / static_cast<float>(n) : acc;
}

template <Reduction R>
__global__ void reduce_strided(const float* x, float* y, int64_t outputs, Indexer kept, Strides kept_strides,
                               Indexer reduced, Strides reduced_strides, int64_t n) {
  reducer<R> op;
  INFERD_GRID_STRIDE(o, outputs) {
    const float* base = x + kept.offset(o, kept_strides.s);
    float acc = reducer<R>::init();
    for (int64_t r = 0; r < n; ++r) acc = op(acc, base[reduced.offset(r, reduced_strides.s)]);
    y[o] = R == Reduction::mean ? acc / static_cast<float>(n) : acc;
  }
}

template <Reduction R> class ReduceKernel final : public CudaKernel {
 public:
  ReduceKernel(const KernelInit& init, bool axes_from_input)
      : CudaKernel(init), node_(init.node), label_(init.node.label()), axes_from_input_(axes_from_input),
        axes_attribute_(init.attributes().get_ints("axes", {})),
        noop_with_empty_axes_(init.attributes().get_int("noop_with_empty_axes", 0) != 0) {}

  void run_on(const CudaContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    require_f32(x, label_, "data");
    const int rank = x.rank();
    int64_t axes[kMaxRank];
    size_t axis_count = 0;
    if (axes_from_input_) {
      if (ctx.has_input(1)) axis_count = host_ints(ctx, 1, node_, "axes", axes, kMaxRank);
    } else {
      if (axes_attribute_.size() > static_cast<size_t>(kMaxRank))
        fail(ErrorKind::invalid_model, label_, ": too many axes");
      axis_count = axes_attribute_.size();
      for (size_t i = 0; i < axis_count; ++i) axes[i] = axes_attribute_[i];
    }
    bool reduced[kMaxRank] = {};
    if (axis_count == 0) {
      if (noop_with_empty_axes_ && axes_from_input_) {
        if (x.nbytes() > 0)
          INFERD_CUDA_CHECK(cudaMemcpyAsync(y.data, x.data, x.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream));
        return;
      }
      for (int d = 0; d < rank; ++d) reduced[d] = true;
    }
    for (size_t i = 0; i < axis_count; ++i) reduced[normalize_axis(axes[i], rank, label_, "axis")] = true;

    Indexer kept, red;
    Strides kept_strides, red_strides;
    int64_t strides[kMaxRank];
    row_major_strides(x.shape, strides);
    bool trailing = true, seen_reduced = false;
    for (int d = 0; d < rank; ++d) {
      if (reduced[d]) {
        seen_reduced = true;
        red.dims[red.rank] = x.shape[d];
        red_strides.s[red.rank++] = strides[d];
      } else {
        if (seen_reduced && x.shape[d] != 1) trailing = false;
        kept.dims[kept.rank] = x.shape[d];
        kept_strides.s[kept.rank++] = strides[d];
      }
    }
    const int64_t outputs = y.size(), n = outputs == 0 ? 0 : x.size() / outputs;
    if (outputs == 0) return;
    if (n == 0) {  // an empty reduction: the identity (0 for sums; the CPU decides max/min of nothing)
      fail(ErrorKind::unsupported, label_, ": on CUDA, reducing an empty set of elements");
    }
    if (trailing && outputs <= INT32_MAX)
      reduce_rows<R><<<static_cast<unsigned>(outputs), kBlock, 0, ctx.stream>>>(x.data_as<float>(), y.data_as<float>(), n);
    else
      reduce_strided<R><<<grid_for(outputs), kBlock, 0, ctx.stream>>>(x.data_as<float>(), y.data_as<float>(), outputs,
                                                                      kept, kept_strides, red, red_strides, n);
  }

 private:
  const Node& node_;
  std::string label_;
  bool axes_from_input_;
  std::vector<int64_t> axes_attribute_;
  bool noop_with_empty_axes_;
};

template <Reduction R> std::unique_ptr<Kernel> make_attribute(const KernelInit& init) {
  return std::make_unique<ReduceKernel<R>>(init, false);
}
template <Reduction R> std::unique_ptr<Kernel> make_input(const KernelInit& init) {
  return std::make_unique<ReduceKernel<R>>(init, true);
}

}  // namespace

INFERD_CUDA_KERNEL("ReduceSum", 1, 12, make_attribute<Reduction::sum>);
INFERD_CUDA_KERNEL("ReduceSum", 13, kMaxOpset, make_input<Reduction::sum>);
INFERD_CUDA_KERNEL("ReduceMean", 1, 17, make_attribute<Reduction::mean>);
INFERD_CUDA_KERNEL("ReduceMean", 18, kMaxOpset, make_input<Reduction::mean>);
INFERD_CUDA_KERNEL("ReduceMax", 1, 17, make_attribute<Reduction::max>);
INFERD_CUDA_KERNEL("ReduceMax", 18, kMaxOpset, make_input<Reduction::max>);
INFERD_CUDA_KERNEL("ReduceMin", 1, 17, make_attribute<Reduction::min>);
INFERD_CUDA_KERNEL("ReduceMin", 18, kMaxOpset, make_input<Reduction::min>);

}  // namespace inferd::gpu
