#include "cuda/ops/softmax.cuh"

#include <cfloat>

namespace inferd::gpu {
namespace {

template <bool Log> __global__ void softmax_rows(const float* x, float* y, int64_t n) {
  const float* row = x + blockIdx.x * n;
  float* out = y + blockIdx.x * n;
  float m = -FLT_MAX;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) m = fmaxf(m, row[i]);
  m = block_reduce(m, max_op{});
  float s = 0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) s += expf(row[i] - m);
  s = block_reduce(s, sum_op{});
  if (Log) {
    const float log_s = logf(s);
    for (int64_t i = threadIdx.x; i < n; i += kBlock) out[i] = row[i] - m - log_s;
  } else {
    const float inv = 1.0f / s;
    for (int64_t i = threadIdx.x; i < n; i += kBlock) out[i] = expf(row[i] - m) * inv;
  }
}

template <bool Log> __global__ void softmax_strided(const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  INFERD_GRID_STRIDE(t, outer * inner) {
    const int64_t o = t / inner, i = t - o * inner;
    const float* row = x + o * n * inner + i;
    float* out = y + o * n * inner + i;
    float m = -FLT_MAX;
    for (int64_t k = 0; k < n; ++k) m = fmaxf(m, row[k * inner]);
    float s = 0;
    for (int64_t k = 0; k < n; ++k) s += expf(row[k * inner] - m);
    if (Log) {
      const float log_s = logf(s);
      for (int64_t k = 0; k < n; ++k) out[k * inner] = row[k * inner] - m - log_s;
    } else {
      for (int64_t k = 0; k < n; ++k) out[k * inner] = expf(row[k * inner] - m) / s;
    }
  }
}

// Opset 13 normalizes along `axis` alone (default -1); before 13 the input is coerced to 2-D at
// `axis` (default 1) and each row of the flattened tail is normalized.
template <bool Log> class SoftmaxKernel final : public CudaKernel {
 public:
  SoftmaxKernel(const KernelInit& init, bool coerce_2d)
      : CudaKernel(init), label_(init.node.label()), coerce_2d_(coerce_2d),
        axis_(init.attributes().get_int("axis", coerce_2d ? 1 : -1)) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    require_f32(x, label_, "input");
    const int rank = x.rank();
    const int axis = normalize_axis(axis_, rank, label_);
    const int64_t outer = dims_product(x.shape, 0, axis);
    const int64_t n = coerce_2d_ ? dims_product(x.shape, axis, rank) : (rank == 0 ? 1 : x.shape[axis]);
    const int64_t inner = coerce_2d_ || rank == 0 ? 1 : dims_product(x.shape, axis + 1, rank);
    if (outer * n * inner == 0) return;
    float* y = ctx.output(0).data_as<float>();
    if (inner == 1 && outer <= INT32_MAX)
      softmax_rows<Log><<<static_cast<unsigned>(outer), kBlock, 0, ctx.stream>>>(x.data_as<float>(), y, n);
    else
      softmax_strided<Log><<<grid_for(outer * inner), kBlock, 0, ctx.stream>>>(x.data_as<float>(), y, outer, n, inner);
  }

 private:
  std::string label_;
  bool coerce_2d_;
  int64_t axis_;
};

template <bool Log> std::unique_ptr<Kernel> make_softmax_1(const KernelInit& init) {
  return std::make_unique<SoftmaxKernel<Log>>(init, true);
}
template <bool Log> std::unique_ptr<Kernel> make_softmax_13(const KernelInit& init) {
  return std::make_unique<SoftmaxKernel<Log>>(init, false);
}

}  // namespace

INFERD_CUDA_KERNEL("Softmax", 1, 12, make_softmax_1<false>);
INFERD_CUDA_KERNEL("Softmax", 13, kMaxOpset, make_softmax_13<false>);
INFERD_CUDA_KERNEL("LogSoftmax", 1, 12, make_softmax_1<true>);
INFERD_CUDA_KERNEL("LogSoftmax", 13, kMaxOpset, make_softmax_13<true>);

}  // namespace inferd::gpu
