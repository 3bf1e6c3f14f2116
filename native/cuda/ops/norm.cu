#include "cuda/ops/norm.cuh"

namespace inferd::gpu {
namespace {

// Two passes over the row (mean, then the variance around it): as exact as the CPU kernel's, and the
// row is small enough to stay in L1/L2 between them.
__global__ void layer_norm_rows(const float* x, const float* scale, int64_t scale_n, const float* bias, int64_t bias_n,
                                float* y, float* mean_out, float* inv_out, int64_t n, float epsilon) {
  const float* row = x + blockIdx.x * n;
  float* out = y + blockIdx.x * n;
  float s = 0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) s += row[i];
  const float mean = block_reduce(s, sum_op{}) / static_cast<float>(n);
  float v = 0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) {
    const float d = row[i] - mean;
    v += d * d;
  }
  const float inv = rsqrtf(block_reduce(v, sum_op{}) / static_cast<float>(n) + epsilon);
  for (int64_t i = threadIdx.x; i < n; i += kBlock) {
    float r = (row[i] - mean) * inv * scale[scale_n == 1 ? 0 : i];
    if (bias) r += bias[bias_n == 1 ? 0 : i];
    out[i] = r;
  }
  if (threadIdx.x == 0) {
    if (mean_out) mean_out[blockIdx.x] = mean;
    if (inv_out) inv_out[blockIdx.x] = inv;
  }
}

class LayerNormKernel final : public CudaKernel {
 public:
  explicit LayerNormKernel(const KernelInit& init)
      : CudaKernel(init), label_(init.node.label()), axis_(init.attributes().get_int("axis", -1)),
        epsilon_(init.attributes().get_float("epsilon", 1e-5f)) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor &x = ctx.input(0), &scale = ctx.input(1);
    require_f32(x, label_, "X");
    require_f32(scale, label_, "Scale");
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (bias) require_f32(*bias, label_, "B");
    const int axis = normalize_axis(axis_, x.rank(), label_);
    const int64_t rows = dims_product(x.shape, 0, axis), n = dims_product(x.shape, axis, x.rank());
    // Scale and B cover the normalized dims; the CPU kernel also broadcasts partial shapes, which
    // the CUDA one leaves to it.
    if ((scale.size() != n && scale.size() != 1) || (bias && bias->size() != n && bias->size() != 1))
      fail(ErrorKind::unsupported, label_, ": on CUDA, Scale and B must have ", n, " elements or 1");
    auto stat = [&](size_t i) -> float* {
      if (ctx.output_count <= i || !ctx.outputs[i]) return nullptr;
      require_f32(ctx.output(i), label_, i == 1 ? "Mean" : "InvStdDev");
      return ctx.output(i).data_as<float>();
    };
    if (rows == 0 || n == 0) return;
    if (rows > INT32_MAX) fail(ErrorKind::unsupported, label_, ": on CUDA, at most 2^31 - 1 rows");
    layer_norm_rows<<<static_cast<unsigned>(rows), kBlock, 0, ctx.stream>>>(
        x.data_as<float>(), scale.data_as<float>(), scale.size(), bias ? bias->data_as<float>() : nullptr,
        bias ? bias->size() : 0, ctx.output(0).data_as<float>(), stat(1), stat(2), n, epsilon_);
  }

 private:
  std::string label_;
  int64_t axis_;
  float epsilon_;
};

__global__ void batch_norm(const float* x, const float* scale, const float* bias, const float* mean, const float* var,
                           float* y, int64_t n, int64_t channels, int64_t spatial, float epsilon) {
  INFERD_GRID_STRIDE(i, n) {
    const int64_t c = (i / spatial) % channels;
    y[i] = (x[i] - mean[c]) * rsqrtf(var[c] + epsilon) * scale[c] + bias[c];
  }
}

class BatchNormKernel final : public CudaKernel {
 public:
  explicit BatchNormKernel(const KernelInit& init)
      : CudaKernel(init), label_(init.node.label()), epsilon_(init.attributes().get_float("epsilon", 1e-5f)) {
    if (init.opset >= 14 && init.attributes().get_int("training_mode", 0) != 0)
      fail(ErrorKind::unsupported, label_, ": training_mode has no CUDA kernel");
  }
  void run_on(const CudaContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    require_f32(x, label_, "X");
    for (size_t i = 1; i < 5; ++i) require_f32(ctx.input(i), label_, "a statistics input");
    const int64_t channels = x.rank() > 1 ? x.shape[1] : 1;
    const int64_t spatial = x.rank() > 2 ? dims_product(x.shape, 2, x.rank()) : 1;
    for (size_t i = 1; i < 5; ++i)
      if (ctx.input(i).size() != channels)
        fail(ErrorKind::invalid_model, label_, ": input ", i, " has ", ctx.input(i).size(), " elements, expected ", channels);
    const int64_t n = x.size();
    if (n == 0) return;
    batch_norm<<<grid_for(n), kBlock, 0, ctx.stream>>>(x.data_as<float>(), ctx.input(1).data_as<float>(),
                                                       ctx.input(2).data_as<float>(), ctx.input(3).data_as<float>(),
                                                       ctx.input(4).data_as<float>(), ctx.output(0).data_as<float>(), n,
                                                       channels, spatial, epsilon_);
  }

 private:
  std::string label_;
  float epsilon_;
};

std::unique_ptr<Kernel> make_layer_norm(const KernelInit& init) { return std::make_unique<LayerNormKernel>(init); }
std::unique_ptr<Kernel> make_batch_norm(const KernelInit& init) { return std::make_unique<BatchNormKernel>(init); }

}  // namespace

INFERD_CUDA_KERNEL("LayerNormalization", 17, kMaxOpset, make_layer_norm);
INFERD_CUDA_INTERNAL_KERNEL("LayerNormalization", make_layer_norm);
INFERD_CUDA_KERNEL("BatchNormalization", 9, kMaxOpset, make_batch_norm);

}  // namespace inferd::gpu
