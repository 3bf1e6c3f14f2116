// CPU kernels of the internal ops the load-time optimizer emits (core/optimizer/fused_ops.h), and of
// Dropout at inference.
//
// FusedGemm and FusedMatMul are one kernel: rows of op(A) times op(B) through the packed SGEMM (a
// constant B packed once at load, as the Gemm and MatMul kernels do), with bias + activation as
// sgemm's epilogue: applied to each tile of the result right after its product, while in cache.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "core/optimizer/fused_ops.h"
#include "cpu/kernels/packed_weights.h"
#include "cpu/kernels/sgemm.h"
#include "cpu/ops/fused_epilogue.h"

namespace inferd {
namespace {

// ---- the fused product ----------------------------------------------------------------------------

class FusedProductKernel final : public Kernel {
 public:
  // gemm: FusedGemm (transA, transB, alpha, beta, C broadcast to [M, N]); else FusedMatMul.
  FusedProductKernel(const KernelInit& init, bool gemm)
      : label_(init.node.label()),
        gemm_(gemm),
        trans_a_(gemm && init.attributes().get_int("transA", 0) != 0),
        trans_b_(gemm && init.attributes().get_int("transB", 0) != 0),
        alpha_(gemm ? init.attributes().get_float("alpha", 1.0f) : 1.0f),
        beta_(gemm ? init.attributes().get_float("beta", 1.0f) : 1.0f),
        activation_(read_activation(init.node)),
        packed_b_(pack_constant_b(init, trans_b_)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& y = ctx.output(0);
    if (y.dtype != DType::f32 || a.dtype != DType::f32)
      fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(y.dtype));
    const int64_t K = trans_b_ ? b.shape[1] : b.shape[0], N = trans_b_ ? b.shape[0] : b.shape[1];
    const int64_t M = gemm_ ? y.shape[0] : (K == 0 ? y.size() / std::max<int64_t>(N, 1) : a.size() / K);
    if (M == 0 || N == 0) return;
    SgemmEpilogue epilogue = activation_epilogue(activation_);
    // beta == 0 drops C altogether, as BLAS does: its values (even NaN) never reach Y.
    if (ctx.has_input(2) && !(gemm_ && beta_ == 0)) {
      const Tensor& c = ctx.input(2);
      const int64_t rows = c.rank() == 2 ? c.shape[0] : 1, cols = c.rank() >= 1 ? c.shape.back() : 1;
      epilogue.bias = c.data_as<float>();
      epilogue.bias_row_step = rows == 1 ? 0 : cols;
      epilogue.bias_col_step = cols == 1 ? 0 : 1;
      epilogue.bias_scale = beta_;
    }
    const float* A = a.data_as<float>();
    const int64_t lda = trans_a_ ? M : K;
    float* Y = y.data_as<float>();
    // The bias and activation are applied by sgemm to each tile as it completes, while it is in
    // cache.
    if (packed_b_ && use_packed(M, ctx) && packed_b_->rows() == K && packed_b_->cols() == N)
      sgemm_packed(trans_a_, M, alpha_, A, lda, *packed_b_, 0.0f, Y, N, ctx.threads, &epilogue);
    else
      sgemm(trans_a_, trans_b_, M, N, K, alpha_, A, lda, b.data_as<float>(), b.shape[1], 0.0f, Y, N, ctx.threads,
            &epilogue);
  }

 private:
  std::string label_;
  bool gemm_, trans_a_, trans_b_;
  float alpha_, beta_;
  ActivationSpec activation_;
  std::unique_ptr<PackedB> packed_b_;
};

std::unique_ptr<Kernel> make_fused_gemm(const KernelInit& init) {
  return std::make_unique<FusedProductKernel>(init, true);
}
std::unique_ptr<Kernel> make_fused_matmul(const KernelInit& init) {
  return std::make_unique<FusedProductKernel>(init, false);
}

// ---- ai.onnx kernels under com.inferd for older opsets ---------------------------------------------

// The kernel the ai.onnx op has at `opset`, made for this node.
std::unique_ptr<Kernel> make_onnx_kernel(const KernelInit& init, int opset) {
  const KernelDef* def = KernelRegistry::instance().find("cpu", "", init.node.op_type, opset);
  if (!def)
    fail(ErrorKind::unsupported, init.node.label(), ": needs the ai.onnx ", init.node.op_type, " kernel (opset ",
         opset, "), which this build does not have");
  return def->make(KernelInit{init.node, opset, init.constant_inputs, init.subgraphs});
}

std::unique_ptr<Kernel> make_gelu(const KernelInit& init) { return make_onnx_kernel(init, 20); }
std::unique_ptr<Kernel> make_layer_norm(const KernelInit& init) { return make_onnx_kernel(init, 17); }
std::unique_ptr<Kernel> make_hard_swish(const KernelInit& init) { return make_onnx_kernel(init, 14); }

// ---- Dropout ---------------------------------------------------------------------------------------

// At inference Dropout copies its input and keeps every element: the mask is all true (all ones
// of data's type before opset 10). Training mode (opset 12's training_mode input true, with a
// nonzero ratio) would draw random masks, which this engine does not do.
class DropoutKernel final : public Kernel {
 public:
  explicit DropoutKernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    if (ctx.has_input(2) && *ctx.input(2).data_as<bool>()) {
      float ratio = 0.5f;
      if (ctx.has_input(1)) {
        const Tensor& r = ctx.input(1);
        switch (r.dtype) {
          case DType::f32: ratio = *r.data_as<float>(); break;
          case DType::f64: ratio = static_cast<float>(*r.data_as<double>()); break;
          case DType::f16: ratio = half_to_float(*r.data_as<uint16_t>()); break;
          default: ratio = bf16_to_float(*r.data_as<uint16_t>()); break;
        }
      }
      if (ratio != 0)
        fail(ErrorKind::unsupported, label_, ": training mode (random masks, ratio ", ratio, ") is not supported");
    }
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    if (y.data != x.data && x.nbytes() > 0) std::memcpy(y.data, x.data, x.nbytes());
    if (ctx.output_count > 1 && ctx.outputs[1]) fill_ones(ctx.output(1));
  }

 private:
  static void fill_ones(Tensor& mask) {
    switch (mask.dtype) {
      case DType::boolean: std::fill_n(mask.data_as<bool>(), mask.size(), true); break;
      case DType::f32: std::fill_n(mask.data_as<float>(), mask.size(), 1.0f); break;
      case DType::f64: std::fill_n(mask.data_as<double>(), mask.size(), 1.0); break;
      case DType::f16: std::fill_n(mask.data_as<uint16_t>(), mask.size(), float_to_half(1.0f)); break;
      case DType::bf16: std::fill_n(mask.data_as<uint16_t>(), mask.size(), float_to_bf16(1.0f)); break;
      default: break;
    }
  }

  std::string label_;
};

std::unique_ptr<Kernel> make_dropout(const KernelInit& init) { return std::make_unique<DropoutKernel>(init); }

#define INFERD_INTERNAL_KERNEL(op_type, factory)                                       \
  static const ::inferd::KernelRegistrar INFERD_CONCAT(kernel_registrar_, __LINE__)( \
      ::inferd::KernelDef{"cpu", kInternalDomain, op_type, 1, kMaxOpset, factory})

}  // namespace

INFERD_INTERNAL_KERNEL("FusedGemm", make_fused_gemm);
INFERD_INTERNAL_KERNEL("FusedMatMul", make_fused_matmul);
INFERD_INTERNAL_KERNEL("Gelu", make_gelu);
INFERD_INTERNAL_KERNEL("LayerNormalization", make_layer_norm);
INFERD_INTERNAL_KERNEL("HardSwish", make_hard_swish);

INFERD_CPU_KERNEL("Dropout", 1, 9, make_dropout);
INFERD_CPU_KERNEL("Dropout", 10, 11, make_dropout);
INFERD_CPU_KERNEL("Dropout", 12, kMaxOpset, make_dropout);

}  // namespace inferd
