// Gemm, MatMul and the optimizer's FusedGemm / FusedMatMul on the GPU: cuBLAS when the machine has
// it (FP32, or TF32 when opted in), inferd's tiled kernel otherwise; bias, residual and activation
// are one pass after cuBLAS, and the tiled kernel's epilogue.
#include "cuda/blas.h"
#include "cuda/cuda_check.h"
#include "cuda/ops/gemm.cuh"

namespace inferd::gpu {
namespace {

// The fused products' residual (fused_ops.h) as read at linear index i of the [M, N] result: the
// same shape (dense), or broadcast into it through strides.
struct DeviceResidual {
  const float* data = nullptr;  // null: no residual
  bool dense = true;
  Indexer dims;                 // the result's shape, when not dense
  Strides strides;              // the residual's strides broadcast to it
  __device__ __forceinline__ float at(int64_t i) const { return dense ? data[i] : data[dims.offset(i, strides.s)]; }
};

// y = act(alpha * acc + beta * c[m, n] + residual) at (m, n) of a [M, N] result (one per batch).
struct BiasActivationEpilogue {
  float* y;
  int64_t batch_stride;
  int N;
  float alpha, beta;
  const float* c;  // may be null
  int64_t c_row, c_col;
  DeviceActivation act;
  DeviceResidual residual;
  __device__ __forceinline__ void operator()(int z, int m, int n, float acc) const {
    float v = alpha * acc;
    if (c) v += beta * c[m * c_row + n * c_col];
    const int64_t i = z * batch_stride + int64_t{m} * N + n;
    if (residual.data) v += residual.at(i);
    y[i] = act(v);
  }
};

// y[i] = act(y[i] + beta * c + residual) over one [M, N] result starting at linear index `first`.
__global__ void bias_activation(float* y, int64_t M, int64_t N, const float* c, int64_t c_row, int64_t c_col,
                                float beta, DeviceResidual residual, int64_t first, DeviceActivation act) {
  INFERD_GRID_STRIDE(i, M * N) {
    float v = y[i];
    if (c) {
      const int64_t m = i / N, n = i - m * N;
      v += beta * c[m * c_row + n * c_col];
    }
    if (residual.data) v += residual.at(first + i);
    y[i] = act(v);
  }
}

// y = act(p ⊕ r), p and r read through strides broadcast to y's shape: a residual that enlarges the
// product's result.
__global__ void broadcast_add_activation(float* y, int64_t n, Indexer dims, const float* p, Strides p_strides,
                                         const float* r, Strides r_strides, DeviceActivation act) {
  INFERD_GRID_STRIDE(i, n) y[i] = act(p[dims.offset(i, p_strides.s)] + r[dims.offset(i, r_strides.s)]);
}

// C's strides as broadcast to [M, N] (C may be [M, N], [N], [M, 1], [1] or a scalar).
void bias_strides(const Tensor* c, int64_t M, int64_t N, const std::string& label, int64_t* row, int64_t* col) {
  *row = *col = 0;
  if (!c) return;
  int64_t s[kMaxRank] = {};
  if (c->rank() > 2 || !broadcast_strides(c->shape, Shape{M, N}, s))
    fail(ErrorKind::invalid_model, label, ": C of shape ", shape_to_string(c->shape), " does not broadcast to [", M,
         ", ", N, "]");
  *row = s[0];
  *col = s[1];
}

// act(alpha * op(A) op(B) + beta * C + residual) for one [M, K] × [K, N] product (batches share B
// when b_stride is 0). A missing C is an omitted bias.
void gemm_bias_activation(const CudaContext& ctx, bool trans_a, bool trans_b, int M, int N, int K, int batches,
                          float alpha, const float* a, int64_t a_stride, const float* b, int64_t b_stride,
                          float beta, const Tensor* c, const DeviceActivation& act, float* y,
                          const std::string& label, const DeviceResidual& residual = {}) {
  int64_t c_row = 0, c_col = 0;
  bias_strides(c, M, N, label, &c_row, &c_col);
  const float* c_data = c ? c->data_as<float>() : nullptr;
  if (int64_t{M} * N == 0) return;
  if (ctx.blas && ctx.blas->sgemm(trans_a, trans_b, M, N, K, alpha, a, a_stride, b, b_stride, 0.0f, y,
                                  int64_t{M} * N, batches)) {
    if (c_data || residual.data || act.kind != FusedActivation::none)
      for (int z = 0; z < batches; ++z)
        bias_activation<<<grid_for(int64_t{M} * N), kBlock, 0, ctx.stream>>>(
            y + z * int64_t{M} * N, M, N, c_data, c_row, c_col, beta, residual, z * int64_t{M} * N, act);
    return;
  }
  Indexer flat;
  flat.rank = 1;
  flat.dims[0] = batches;
  StridedOperand la{a, trans_a ? 1 : K, trans_a ? M : 1, flat, {}};
  la.batch_strides.s[0] = a_stride;
  StridedOperand lb{b, trans_b ? 1 : N, trans_b ? K : 1, flat, {}};
  lb.batch_strides.s[0] = b_stride;
  launch_tiled_sgemm(M, N, K, batches, la, lb,
                     BiasActivationEpilogue{y, int64_t{M} * N, N, alpha, beta, c_data, c_row, c_col, act, residual},
                     ctx.stream);
}

// A fused product with its residual (input 3 of FusedGemm / FusedMatMul): Y = act(P ⊕ R), P the
// product plus bias, of shape `product` (see fused_ops.h). The residual joins the product's epilogue
// when Y has the product's shape; a residual that enlarges it gets P in temporary device memory
// (stream-ordered, so freed once the stream has used it) and a broadcasting pass. `gemm` computes P
// (plus the residual given) with the activation given into the pointer given.
template <class Gemm>
void product_with_residual(const CudaContext& ctx, const Shape& product, const DeviceActivation& act,
                           const std::string& label, Gemm gemm) {
  Tensor& y = ctx.output(0);
  if (!ctx.has_input(3)) {
    gemm(act, DeviceResidual{}, y.data_as<float>());
    return;
  }
  const Tensor& r = ctx.input(3);
  require_f32(r, label, "residual");
  if (y.size() == 0) return;
  int64_t r_strides[kMaxRank] = {};
  if (!broadcast_strides(r.shape, y.shape, r_strides))
    fail(ErrorKind::invalid_model, label, ": residual of shape ", shape_to_string(r.shape), " does not broadcast to ",
         shape_to_string(y.shape));
  if (y.size() == shape_size(product)) {
    DeviceResidual residual;
    residual.data = r.data_as<float>();
    residual.dense = r.size() == y.size();
    residual.dims = indexer_of(y.shape);
    for (int d = 0; d < y.rank(); ++d) residual.strides.s[d] = r_strides[d];
    gemm(act, residual, y.data_as<float>());
    return;
  }
  void* p = nullptr;
  INFERD_CUDA_CHECK(cudaMallocAsync(&p, static_cast<size_t>(shape_size(product)) * sizeof(float), ctx.stream));
  gemm(DeviceActivation{}, DeviceResidual{}, static_cast<float*>(p));
  Strides ps = broadcast_strides_of(product, y.shape), rs;
  for (int d = 0; d < y.rank(); ++d) rs.s[d] = r_strides[d];
  broadcast_add_activation<<<grid_for(y.size()), kBlock, 0, ctx.stream>>>(
      y.data_as<float>(), y.size(), indexer_of(y.shape), static_cast<const float*>(p), ps, r.data_as<float>(), rs, act);
  INFERD_CUDA_CHECK(cudaFreeAsync(p, ctx.stream));
}

void check_int_range(int64_t v, const std::string& label, const char* what) {
  if (v > INT32_MAX) fail(ErrorKind::unsupported, label, ": on CUDA, ", what, " ", v, " exceeds 2^31 - 1");
}

class GemmKernel final : public CudaKernel {
 public:
  GemmKernel(const KernelInit& init, ActivationSpec act) : CudaKernel(init), label_(init.node.label()),
        act_(device_activation(act)) {
    const Attributes& a = init.attributes();
    trans_a_ = a.get_int("transA", 0) != 0;
    trans_b_ = a.get_int("transB", 0) != 0;
    alpha_ = a.get_float("alpha", 1.0f);
    beta_ = a.get_float("beta", 1.0f);
  }
  void run_on(const CudaContext& ctx) const override {
    const Tensor &A = ctx.input(0), &B = ctx.input(1);
    require_f32(A, label_, "A");
    require_f32(B, label_, "B");
    const Tensor* C = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (C) require_f32(*C, label_, "C");
    const int64_t M = trans_a_ ? A.shape[1] : A.shape[0], K = trans_a_ ? A.shape[0] : A.shape[1];
    const int64_t N = trans_b_ ? B.shape[0] : B.shape[1];
    check_int_range(M * N, label_, "M×N");
    check_int_range(K, label_, "K");
    product_with_residual(ctx, Shape{M, N}, act_, label_,
                          [&](const DeviceActivation& act, const DeviceResidual& residual, float* y) {
                            gemm_bias_activation(ctx, trans_a_, trans_b_, static_cast<int>(M), static_cast<int>(N),
                                                 static_cast<int>(K), 1, alpha_, A.data_as<float>(), 0,
                                                 B.data_as<float>(), 0, beta_, C, act, y, label_, residual);
                          });
  }

 private:
  std::string label_;
  DeviceActivation act_;
  bool trans_a_ = false, trans_b_ = false;
  float alpha_ = 1, beta_ = 1;
};

// numpy.matmul: batch dims broadcast; a 1-D A is a row, a 1-D B a column.
class MatMulKernel final : public CudaKernel {
 public:
  explicit MatMulKernel(const KernelInit& init) : CudaKernel(init), label_(init.node.label()) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor &A = ctx.input(0), &B = ctx.input(1);
    require_f32(A, label_, "A");
    require_f32(B, label_, "B");
    Shape a = A.shape, b = B.shape;
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
    const Shape a_batch(a.begin(), a.end() - 2), b_batch(b.begin(), b.end() - 2);
    Shape batch;
    if (!broadcast_shapes(a_batch, b_batch, &batch) || batch.size() > static_cast<size_t>(kMaxRank))
      fail(ErrorKind::invalid_model, label_, ": batch dims of ", shape_to_string(A.shape), " and ",
           shape_to_string(B.shape), " do not broadcast");
    const int64_t batches = shape_size(batch), a_batches = shape_size(a_batch), b_batches = shape_size(b_batch);
    float* y = ctx.output(0).data_as<float>();
    const DeviceActivation none{};
    check_int_range(K, label_, "K");
    check_int_range(N, label_, "N");
    if (b_batches == 1 && a_batches == batches) {
      // B shared by every batch: one [batches·M, K] × [K, N] product.
      check_int_range(batches * M, label_, "rows");
      gemm_bias_activation(ctx, false, false, static_cast<int>(batches * M), static_cast<int>(N), static_cast<int>(K),
                           1, 1.0f, A.data_as<float>(), 0, B.data_as<float>(), 0, 0.0f, nullptr, none, y, label_);
      return;
    }
    check_int_range(M, label_, "M");
    if (batches <= 65535 && (a_batches == batches || a_batches == 1) && b_batches == batches) {
      gemm_bias_activation(ctx, false, false, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K),
                           static_cast<int>(batches), 1.0f, A.data_as<float>(), a_batches == 1 ? 0 : M * K,
                           B.data_as<float>(), K * N, 0.0f, nullptr, none, y, label_);
      return;
    }
    if (batches > 65535) fail(ErrorKind::unsupported, label_, ": on CUDA, at most 65535 broadcast batches");
    // General broadcast of batch dims: per-batch offsets from the batch shape.
    StridedOperand la{A.data_as<float>(), K, 1, indexer_of(batch), broadcast_strides_of(a_batch, batch)};
    StridedOperand lb{B.data_as<float>(), N, 1, indexer_of(batch), broadcast_strides_of(b_batch, batch)};
    for (int d = 0; d < la.batch_dims.rank; ++d) {
      la.batch_strides.s[d] *= M * K;
      lb.batch_strides.s[d] *= K * N;
    }
    launch_tiled_sgemm(static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), static_cast<int>(batches), la,
                       lb, BiasActivationEpilogue{y, M * N, static_cast<int>(N), 1.0f, 0.0f, nullptr, 0, 0, none},
                       ctx.stream);
  }

 private:
  std::string label_;
};

// FusedMatMul(A, B, bias?, residual?): A [..., K] × B [K, N], plus bias [N] or [1], plus the
// residual, then the activation.
class FusedMatMulKernel final : public CudaKernel {
 public:
  explicit FusedMatMulKernel(const KernelInit& init)
      : CudaKernel(init), label_(init.node.label()), act_(device_activation(read_activation(init.node))) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor &A = ctx.input(0), &B = ctx.input(1);
    require_f32(A, label_, "A");
    require_f32(B, label_, "B");
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (B.rank() != 2) fail(ErrorKind::invalid_model, label_, ": B must be 2-D, got ", shape_to_string(B.shape));
    const int64_t K = B.shape[0], N = B.shape[1];
    // A's rows (all its leading dims): the product's shape is A's with K replaced by N.
    Shape product(A.shape.begin(), A.shape.end() - 1);
    const int64_t M = shape_size(product);
    product.push_back(N);
    check_int_range(M * N, label_, "M×N");
    check_int_range(K, label_, "K");
    product_with_residual(ctx, product, act_, label_,
                          [&](const DeviceActivation& act, const DeviceResidual& residual, float* y) {
                            gemm_bias_activation(ctx, false, false, static_cast<int>(M), static_cast<int>(N),
                                                 static_cast<int>(K), 1, 1.0f, A.data_as<float>(), 0,
                                                 B.data_as<float>(), 0, 1.0f, bias, act, y, label_, residual);
                          });
  }

 private:
  std::string label_;
  DeviceActivation act_;
};

std::unique_ptr<Kernel> make_gemm(const KernelInit& init) { return std::make_unique<GemmKernel>(init, ActivationSpec{}); }
std::unique_ptr<Kernel> make_fused_gemm(const KernelInit& init) {
  return std::make_unique<GemmKernel>(init, read_activation(init.node));
}
std::unique_ptr<Kernel> make_matmul(const KernelInit& init) { return std::make_unique<MatMulKernel>(init); }
std::unique_ptr<Kernel> make_fused_matmul(const KernelInit& init) { return std::make_unique<FusedMatMulKernel>(init); }

}  // namespace

INFERD_CUDA_KERNEL("Gemm", 7, 10, make_gemm);
INFERD_CUDA_KERNEL("Gemm", 11, kMaxOpset, make_gemm);
INFERD_CUDA_KERNEL("MatMul", 1, kMaxOpset, make_matmul);
INFERD_CUDA_INTERNAL_KERNEL("FusedGemm", make_fused_gemm);
INFERD_CUDA_INTERNAL_KERNEL("FusedMatMul", make_fused_matmul);

}  // namespace inferd::gpu
