#include "cuda/ops/gather_scatter.cuh"

namespace inferd::gpu {
namespace {

// data viewed as [outer, axis_dim, inner], indices flattened to [count]: out is [outer, count, inner].
template <class T, class I>
__global__ void gather(const T* data, const I* indices, T* out, int64_t n, int64_t axis_dim, int64_t count,
                       int64_t inner) {
  INFERD_GRID_STRIDE(i, n) {
    const int64_t in = i % inner, rest = i / inner;
    const int64_t j = rest % count, o = rest / count;
    int64_t index = static_cast<int64_t>(indices[j]);
    if (index < 0) index += axis_dim;
    out[i] = (index >= 0 && index < axis_dim) ? data[(o * axis_dim + index) * inner + in] : T{};
  }
}

class GatherKernel final : public CudaKernel {
 public:
  explicit GatherKernel(const KernelInit& init)
      : CudaKernel(init), label_(init.node.label()), axis_(init.attributes().get_int("axis", 0)) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor &data = ctx.input(0), &indices = ctx.input(1);
    Tensor& out = ctx.output(0);
    const int axis = normalize_axis(axis_, data.rank(), label_);
    const int64_t outer = dims_product(data.shape, 0, axis), axis_dim = data.shape[axis];
    const int64_t inner = dims_product(data.shape, axis + 1, data.rank()), count = indices.size();
    const int64_t n = out.size();
    if (n == 0) return;
    (void)outer;
    dispatch_by_size(data.dtype, label_, [&](auto zero) {
      using T = decltype(zero);
      if (indices.dtype == DType::i64)
        gather<<<grid_for(n), kBlock, 0, ctx.stream>>>(data.data_as<T>(), indices.data_as<int64_t>(), out.data_as<T>(),
                                                       n, axis_dim, count, inner);
      else if (indices.dtype == DType::i32)
        gather<<<grid_for(n), kBlock, 0, ctx.stream>>>(data.data_as<T>(), indices.data_as<int32_t>(), out.data_as<T>(),
                                                       n, axis_dim, count, inner);
      else
        fail(ErrorKind::invalid_model, label_, ": indices must be int32 or int64, got ", dtype_name(indices.dtype));
    });
  }

 private:
  std::string label_;
  int64_t axis_;
};

std::unique_ptr<Kernel> make_gather(const KernelInit& init) { return std::make_unique<GatherKernel>(init); }

}  // namespace

INFERD_CUDA_KERNEL("Gather", 1, kMaxOpset, make_gather);

}  // namespace inferd::gpu
