// CPU kernels of the internal ops the load-time optimizer emits (core/optimizer/fused_ops.h), and of
// Dropout at inference.
//
// FusedGemm and FusedMatMul are one kernel: rows of op(A) times op(B) through the packed SGEMM (a
// constant B packed once at load, as the Gemm and MatMul kernels do), with bias + residual +
// activation as sgemm's epilogue: applied to each tile of the result right after its product, while
// in cache. A residual that broadcasts (see fused_ops.h) takes a slower path of its own.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/optimizer/fused_ops.h"
#include "core/shape_util.h"
#include "cpu/kernels/broadcast.h"
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
    // The product's rows: op(A)'s for FusedGemm, every row of A's leading dims for FusedMatMul.
    const int64_t M = gemm_ ? (trans_a_ ? a.shape[1] : a.shape[0]) : dims_product(a.shape, 0, a.rank() - 1);
    if (y.size() == 0) return;
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
    const Tensor* residual = ctx.has_input(3) ? &ctx.input(3) : nullptr;
    if (!residual) {
      product(ctx, M, N, K, epilogue, y.data_as<float>());
    } else if (residual->size() == y.size() && y.size() == M * N) {
      // The residual has the product's shape (the elements agree and neither broadcast into Y's): it
      // joins the epilogue, row i of the product reading row i of the residual.
      epilogue.residual = residual->data_as<float>();
      epilogue.residual_ld = N;
      product(ctx, M, N, K, epilogue, y.data_as<float>());
    } else {
      add_broadcast_residual(ctx, M, N, K, epilogue, *residual, y);
    }
  }

 private:
  // Y [M×N] = act(alpha · op(A) · op(B) + bias + residual) as the epilogue says.
  void product(const KernelContext& ctx, int64_t M, int64_t N, int64_t K, const SgemmEpilogue& epilogue,
               float* Y) const {
    if (M == 0 || N == 0) return;
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    const float* A = a.data_as<float>();
    const int64_t lda = trans_a_ ? M : K;
    if (packed_b_ && use_packed(M, ctx) && packed_b_->rows() == K && packed_b_->cols() == N)
      sgemm_packed(trans_a_, M, alpha_, A, lda, *packed_b_, 0.0f, Y, N, ctx.threads, &epilogue);
    else
      sgemm(trans_a_, trans_b_, M, N, K, alpha_, A, lda, b.data_as<float>(), b.shape[1], 0.0f, Y, N, ctx.threads,
            &epilogue);
  }

  // A residual whose shape differs from the product's: Y = act(P ⊕ R) with numpy broadcasting, where
  // P = product + bias, computed first (into Y when Y has the product's shape, else into scratch),
  // then the residual added through numpy broadcasting, then the activation. Scratch is per thread
  // and reused.
  void add_broadcast_residual(const KernelContext& ctx, int64_t M, int64_t N, int64_t K, SgemmEpilogue epilogue,
                              const Tensor& residual, Tensor& y) const {
    // Per thread and reused, as the scratch below, so that a steady state allocates nothing.
    thread_local Shape product_shape;
    if (gemm_) {
      product_shape.assign({M, N});
    } else {
      const Shape& a = ctx.input(0).shape;
      product_shape.assign(a.begin(), a.end() - 1);  // numpy.matmul: A's shape with K replaced by N
      product_shape.push_back(N);
    }
    SgemmEpilogue finish;
    finish.activation = epilogue.activation;
    finish.activation_alpha = epilogue.activation_alpha;
    finish.activation_beta = epilogue.activation_beta;
    epilogue.activation = SgemmActivation::none;
    float* Y = y.data_as<float>();
    float* P = Y;
    if (product_shape != y.shape) {
      thread_local std::vector<float> scratch;
      if (scratch.size() < static_cast<size_t>(M * N)) scratch.resize(static_cast<size_t>(M * N));
      P = scratch.data();
    }
    product(ctx, M, N, K, epilogue, P);
    // The add is the Add kernel's own broadcast walk: contiguous runs of Y, each operand read
    // contiguously or repeated, split over the threads.
    const auto add = [](float p, float r) { return p + r; };
    const float* R = residual.data_as<float>();
    bool planned;
    if (P == Y) {
      cpu::nary_walk<1> walk;
      planned = cpu::plan_broadcast(residual.shape, y.shape, &walk);
      if (planned) cpu::accumulate_map(R, Y, walk, add, *ctx.threads);
    } else {
      cpu::broadcast_walk walk;
      planned = cpu::plan_broadcast(product_shape, residual.shape, y.shape, &walk);
      if (planned) cpu::binary_map(static_cast<const float*>(P), R, Y, walk, add, *ctx.threads);
    }
    // The shape function has checked that the residual broadcasts; this guards a kernel reached
    // some other way.
    if (!planned)
      fail(ErrorKind::invalid_argument, label_, ": residual of shape ", shape_to_string(residual.shape),
           " does not broadcast to the output's ", shape_to_string(y.shape));
    const int64_t inner = y.rank() == 0 ? 1 : y.shape.back();
    sgemm_epilogue(finish, Y, inner, 0, 0, y.size() / inner, inner);
  }

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
