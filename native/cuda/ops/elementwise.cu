#include "cuda/ops/elementwise.cuh"

namespace inferd::gpu {
namespace {

struct op_add { template <class T> __device__ T operator()(T a, T b) const { return a + b; } };
struct op_sub { template <class T> __device__ T operator()(T a, T b) const { return a - b; } };
struct op_mul { template <class T> __device__ T operator()(T a, T b) const { return a * b; } };
struct op_div {
  template <class T> __device__ T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return b == 0 ? T(0) : a / b;  // the CPU kernel fails; no trap here
    else return a / b;
  }
};
struct op_pow { __device__ float operator()(float a, float b) const { return powf(a, b); } };

// Flat: same shape, or b (when b_scalar) a single value.
template <class T, class Op>
__global__ void binary_flat(const T* a, const T* b, T* c, int64_t n, bool a_scalar, bool b_scalar, Op op) {
  INFERD_GRID_STRIDE(i, n) c[i] = op(a[a_scalar ? 0 : i], b[b_scalar ? 0 : i]);
}

template <class T, class Op>
__global__ void binary_broadcast(const T* a, const T* b, T* c, int64_t n, Indexer ix, Strides sa, Strides sb, Op op) {
  INFERD_GRID_STRIDE(i, n) c[i] = op(a[ix.offset(i, sa.s)], b[ix.offset(i, sb.s)]);
}

template <class T, class Op>
void launch_binary(const Tensor& a, const Tensor& b, Tensor& c, cudaStream_t stream, Op op) {
  const int64_t n = c.size();
  if (n == 0) return;
  const bool a_scalar = a.size() == 1, b_scalar = b.size() == 1;
  if ((a.shape == c.shape || a_scalar) && (b.shape == c.shape || b_scalar)) {
    binary_flat<T><<<grid_for(n), kBlock, 0, stream>>>(a.data_as<T>(), b.data_as<T>(), c.data_as<T>(), n, a_scalar,
                                                       b_scalar, op);
    return;
  }
  binary_broadcast<T><<<grid_for(n), kBlock, 0, stream>>>(a.data_as<T>(), b.data_as<T>(), c.data_as<T>(), n,
                                                          indexer_of(c.shape), broadcast_strides_of(a.shape, c.shape),
                                                          broadcast_strides_of(b.shape, c.shape), op);
}

template <class Op> class ArithKernel final : public CudaKernel {
 public:
  explicit ArithKernel(const KernelInit& init) : CudaKernel(init), label_(init.node.label()) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor &a = ctx.input(0), &b = ctx.input(1);
    Tensor& c = ctx.output(0);
    if (a.dtype != b.dtype) fail(ErrorKind::invalid_model, label_, ": operand types differ");
    dispatch_arith(a.dtype, label_, [&](auto zero) {
      using T = decltype(zero);
      launch_binary<T>(a, b, c, ctx.stream, Op{});
    });
  }

 private:
  std::string label_;
};

class PowKernel final : public CudaKernel {
 public:
  explicit PowKernel(const KernelInit& init) : CudaKernel(init), label_(init.node.label()) {}
  void run_on(const CudaContext& ctx) const override {
    require_f32(ctx.input(0), label_, "X");
    require_f32(ctx.input(1), label_, "Y");
    launch_binary<float>(ctx.input(0), ctx.input(1), ctx.output(0), ctx.stream, op_pow{});
  }

 private:
  std::string label_;
};

template <class Op> std::unique_ptr<Kernel> make_arith(const KernelInit& init) {
  return std::make_unique<ArithKernel<Op>>(init);
}
std::unique_ptr<Kernel> make_pow(const KernelInit& init) { return std::make_unique<PowKernel>(init); }

}  // namespace

// Opsets before 7 broadcast by attribute (`broadcast`, `axis`): those run on the CPU kernel.
INFERD_CUDA_KERNEL("Add", 7, kMaxOpset, make_arith<op_add>);
INFERD_CUDA_KERNEL("Sub", 7, kMaxOpset, make_arith<op_sub>);
INFERD_CUDA_KERNEL("Mul", 7, kMaxOpset, make_arith<op_mul>);
INFERD_CUDA_KERNEL("Div", 7, kMaxOpset, make_arith<op_div>);
INFERD_CUDA_KERNEL("Pow", 7, kMaxOpset, make_pow);

}  // namespace inferd::gpu
