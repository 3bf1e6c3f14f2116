#include "cuda/ops/activation.cuh"

#include <cfloat>

namespace inferd::gpu {
namespace {

struct op_relu { float a, b; __device__ float operator()(float x) const { return x < 0.0f ? 0.0f : x; } };
struct op_sigmoid { float a, b; __device__ float operator()(float x) const { return 1.0f / (1.0f + expf(-x)); } };
struct op_tanh { float a, b; __device__ float operator()(float x) const { return tanhf(x); } };
struct op_exp { float a, b; __device__ float operator()(float x) const { return expf(x); } };
struct op_log { float a, b; __device__ float operator()(float x) const { return logf(x); } };
struct op_sqrt { float a, b; __device__ float operator()(float x) const { return sqrtf(x); } };
struct op_neg { float a, b; __device__ float operator()(float x) const { return -x; } };
struct op_abs { float a, b; __device__ float operator()(float x) const { return fabsf(x); } };
struct op_erf { float a, b; __device__ float operator()(float x) const { return erff(x); } };
struct op_reciprocal { float a, b; __device__ float operator()(float x) const { return 1.0f / x; } };
struct op_softplus { float a, b; __device__ float operator()(float x) const { return x > 20.0f ? x : log1pf(expf(x)); } };
struct op_leaky_relu { float a, b; __device__ float operator()(float x) const { return x < 0.0f ? a * x : x; } };
struct op_clip { float a, b; __device__ float operator()(float x) const { return fminf(fmaxf(x, a), b); } };
struct op_gelu {
  float a, b;
  __device__ float operator()(float x) const { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752440f)); }
};
struct op_gelu_tanh {
  float a, b;
  __device__ float operator()(float x) const {
    return 0.5f * x * (1.0f + tanhf(0.79788456080286535588f * (x + 0.044715f * x * x * x)));
  }
};

template <class Op> __global__ void unary(const float* x, float* y, int64_t n, Op op) {
  INFERD_GRID_STRIDE(i, n) y[i] = op(x[i]);
}

// The op's two float parameters (alpha, beta), fixed at load.
template <class Op> class UnaryKernel final : public CudaKernel {
 public:
  UnaryKernel(const KernelInit& init, float a, float b) : CudaKernel(init), label_(init.node.label()), op_{a, b} {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    require_f32(x, label_, "X");
    Op op = op_;
    if constexpr (std::is_same_v<Op, op_clip>) {
      // Clip 11+: min and max are optional inputs, read on the host (they are constants in practice).
      for (size_t i = 1; i <= 2; ++i) {
        if (!ctx.has_input(i)) continue;
        const Tensor* bound = ctx.host_input(i);
        if (!bound || bound->dtype != DType::f32 || bound->size() != 1)
          fail(ErrorKind::unsupported, label_, ": on CUDA, Clip's ", i == 1 ? "min" : "max",
               " must be a float scalar known before the run");
        (i == 1 ? op.a : op.b) = *bound->data_as<float>();
      }
    }
    const int64_t n = x.size();
    if (n > 0) unary<<<grid_for(n), kBlock, 0, ctx.stream>>>(x.data_as<float>(), ctx.output(0).data_as<float>(), n, op);
  }

 private:
  std::string label_;
  Op op_;
};

template <class Op> std::unique_ptr<Kernel> make_unary(const KernelInit& init) {
  return std::make_unique<UnaryKernel<Op>>(init, 0.0f, 0.0f);
}
std::unique_ptr<Kernel> make_leaky_relu(const KernelInit& init) {
  return std::make_unique<UnaryKernel<op_leaky_relu>>(init, init.attributes().get_float("alpha", 0.01f), 0.0f);
}
std::unique_ptr<Kernel> make_clip_attributes(const KernelInit& init) {
  return std::make_unique<UnaryKernel<op_clip>>(init, init.attributes().get_float("min", -FLT_MAX),
                                                init.attributes().get_float("max", FLT_MAX));
}
std::unique_ptr<Kernel> make_clip(const KernelInit& init) {
  return std::make_unique<UnaryKernel<op_clip>>(init, -FLT_MAX, FLT_MAX);
}
std::unique_ptr<Kernel> make_gelu(const KernelInit& init) {
  const std::string approximate = init.attributes().get_string("approximate", "none");
  if (approximate == "tanh") return std::make_unique<UnaryKernel<op_gelu_tanh>>(init, 0.0f, 0.0f);
  if (approximate != "none")
    fail(ErrorKind::invalid_model, init.node.label(), ": attribute approximate is '", approximate,
         "', expected 'none' or 'tanh'");
  return std::make_unique<UnaryKernel<op_gelu>>(init, 0.0f, 0.0f);
}

}  // namespace

INFERD_CUDA_KERNEL("Relu", 6, kMaxOpset, make_unary<op_relu>);
INFERD_CUDA_KERNEL("Sigmoid", 6, kMaxOpset, make_unary<op_sigmoid>);
INFERD_CUDA_KERNEL("Tanh", 6, kMaxOpset, make_unary<op_tanh>);
INFERD_CUDA_KERNEL("Exp", 6, kMaxOpset, make_unary<op_exp>);
INFERD_CUDA_KERNEL("Log", 6, kMaxOpset, make_unary<op_log>);
INFERD_CUDA_KERNEL("Sqrt", 6, kMaxOpset, make_unary<op_sqrt>);
INFERD_CUDA_KERNEL("Neg", 6, kMaxOpset, make_unary<op_neg>);
INFERD_CUDA_KERNEL("Abs", 6, kMaxOpset, make_unary<op_abs>);
INFERD_CUDA_KERNEL("Erf", 9, kMaxOpset, make_unary<op_erf>);
INFERD_CUDA_KERNEL("Reciprocal", 6, kMaxOpset, make_unary<op_reciprocal>);
INFERD_CUDA_KERNEL("Softplus", 1, kMaxOpset, make_unary<op_softplus>);
INFERD_CUDA_KERNEL("LeakyRelu", 6, kMaxOpset, make_leaky_relu);
INFERD_CUDA_KERNEL("Clip", 6, 10, make_clip_attributes);
INFERD_CUDA_KERNEL("Clip", 11, kMaxOpset, make_clip);
INFERD_CUDA_KERNEL("Gelu", 20, kMaxOpset, make_gelu);
INFERD_CUDA_INTERNAL_KERNEL("Gelu", make_gelu);

}  // namespace inferd::gpu
