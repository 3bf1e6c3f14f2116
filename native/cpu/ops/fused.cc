// CPU kernels of the internal ops the load-time optimizer emits (core/optimizer/fused_ops.h), and of
// Dropout at inference.
//
// FusedGemm and FusedMatMul are one kernel: rows of op(A) times op(B) through the packed SGEMM (a
// constant B packed once at load, as the Gemm and MatMul kernels do), then bias + activation applied
// in one pass over the result. When B's packed panels are small enough to stay in cache, rows are
// taken a block at a time and each block gets its bias and activation right after its product,
// while it is still in cache; a large B would be streamed again for every block, so there the
// product runs whole and the pass follows.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "core/optimizer/fused_ops.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/elementwise_math.h"
#include "cpu/kernels/packed_weights.h"
#include "cpu/kernels/sgemm.h"

namespace inferd {
namespace {

using namespace cpu;

// ---- activations -------------------------------------------------------------------------------------
// The functions activation.cc's kernels compute (its functors are private to that file), on float.

struct act_none {
  float operator()(float x) const { return x; }
};
struct act_relu {
  float operator()(float x) const { return x < 0.0f ? 0.0f : x; }
};
struct act_leaky_relu {
  float alpha;
  float operator()(float x) const { return x < 0.0f ? alpha * x : x; }
};
struct act_sigmoid {
  float operator()(float x) const { return math::sigmoid(x); }
};
struct act_tanh {
  float operator()(float x) const { return math::tanh(x); }
};
struct act_gelu {
  float operator()(float x) const { return 0.5f * x * (1.0f + math::erf(x * 0.70710678118654752440f)); }
};
struct act_gelu_tanh {
  float operator()(float x) const {
    return 0.5f * x * (1.0f + math::tanh(0.79788456080286535588f * (x + 0.044715f * x * x * x)));
  }
};
struct act_clip {
  float lo, hi;
  float operator()(float x) const {
    const float y = x < lo ? lo : x;
    return y > hi ? hi : y;
  }
};

// Calls f(functor) with the functor of `spec`.
template <class F> void visit_activation(const ActivationSpec& spec, F&& f) {
  switch (spec.kind) {
    case FusedActivation::none: f(act_none{}); break;
    case FusedActivation::relu: f(act_relu{}); break;
    case FusedActivation::leaky_relu: f(act_leaky_relu{spec.alpha}); break;
    case FusedActivation::sigmoid: f(act_sigmoid{}); break;
    case FusedActivation::tanh: f(act_tanh{}); break;
    case FusedActivation::gelu: f(act_gelu{}); break;
    case FusedActivation::gelu_tanh: f(act_gelu_tanh{}); break;
    case FusedActivation::clip: f(act_clip{spec.alpha, spec.beta}); break;
  }
}

// ---- the fused product ----------------------------------------------------------------------------

// What is added before the activation: scale · C[i·row_step + j·col_step] (steps 0 where C is
// broadcast), or nothing when data is null.
struct Addend {
  const float* data = nullptr;
  int64_t row_step = 0, col_step = 0;
  float scale = 1.0f;
};

// Y[M×N] (rows N apart) = act(alpha · op(A) · op(B) + addend).
struct Product {
  bool trans_a = false, trans_b = false;
  int64_t M = 0, N = 0, K = 0;
  float alpha = 1.0f;
  const float* A = nullptr;
  int64_t lda = 0;
  const float* B = nullptr;
  int64_t ldb = 0;
  const PackedB* packed_b = nullptr;  // op(B) prepacked, when B is a constant of the right shape
  Addend addend;
  float* Y = nullptr;
};

// Rows [r0, r1) of Y: y = act(y + addend).
template <class Act> void finish_rows(const Product& p, int64_t r0, int64_t r1, const Act& act) {
  const Addend& c = p.addend;
  for (int64_t i = r0; i < r1; ++i) {
    float* __restrict__ y = p.Y + i * p.N;
    const int64_t n = p.N;
    if (!c.data) {
      for (int64_t j = 0; j < n; ++j) y[j] = act(y[j]);
    } else if (c.col_step == 1) {
      const float* __restrict__ row = c.data + i * c.row_step;
      const float s = c.scale;
      for (int64_t j = 0; j < n; ++j) y[j] = act(y[j] + s * row[j]);
    } else {
      const float b = c.scale * c.data[i * c.row_step];
      for (int64_t j = 0; j < n; ++j) y[j] = act(y[j] + b);
    }
  }
}

// The product of rows [r0, r1) of op(A) into rows [r0, r1) of Y, on `pool` (null: this thread).
void multiply_rows(const Product& p, int64_t r0, int64_t r1, ThreadPool* pool) {
  const float* a = p.trans_a ? p.A + r0 : p.A + r0 * p.lda;
  const int64_t rows = r1 - r0;
  // One row is faster straight from B (sgemm's GEMV path) than through the packed panels.
  if (p.packed_b && rows > 1)
    sgemm_packed(p.trans_a, rows, p.alpha, a, p.lda, *p.packed_b, 0.0f, p.Y + r0 * p.N, p.N, pool);
  else
    sgemm(p.trans_a, p.trans_b, rows, p.N, p.K, p.alpha, a, p.lda, p.B, p.ldb, 0.0f, p.Y + r0 * p.N, p.N, pool);
}

// Packed B panels up to this size are re-read from cache by each row block (L2 is 1–2 MiB a core).
constexpr size_t kBlockedMaxPackedBytes = size_t{1} << 20;
// A row block's share of Y, small enough to still be in L2 when its activation pass runs.
constexpr int64_t kBlockBytes = int64_t{256} << 10;

template <class Act> void compute(const Product& p, const Act& act, ThreadPool& pool) {
  if (p.M == 0 || p.N == 0) return;
  const int64_t tile = sgemm_tile_rows();
  const int threads = pool.size();
  if (p.packed_b && p.packed_b->bytes() <= kBlockedMaxPackedBytes && p.M >= 2 * tile) {
    int64_t rows = std::max<int64_t>(tile, kBlockBytes / (p.N * static_cast<int64_t>(sizeof(float))) / tile * tile);
    // Enough blocks to keep every thread busy.
    const int64_t per_thread = (p.M + threads - 1) / threads;
    rows = std::min(rows, std::max(tile, (per_thread + tile - 1) / tile * tile));
    const int64_t blocks = (p.M + rows - 1) / rows;
    pool.parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t r0 = b * rows, r1 = std::min(p.M, r0 + rows);
        multiply_rows(p, r0, r1, nullptr);
        finish_rows(p, r0, r1, act);
      }
    });
    return;
  }
  multiply_rows(p, 0, p.M, &pool);
  if constexpr (std::is_same_v<Act, act_none>)
    if (!p.addend.data) return;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / p.N);
  pool.parallel_for(p.M, grain, [&](int64_t r0, int64_t r1) { finish_rows(p, r0, r1, act); });
}

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
    Product p;
    p.trans_a = trans_a_;
    p.trans_b = trans_b_;
    p.alpha = alpha_;
    p.K = trans_b_ ? b.shape[1] : b.shape[0];
    p.N = trans_b_ ? b.shape[0] : b.shape[1];
    p.M = gemm_ ? y.shape[0] : (p.K == 0 ? y.size() / std::max<int64_t>(p.N, 1) : a.size() / p.K);
    p.A = a.data_as<float>();
    p.lda = trans_a_ ? p.M : p.K;
    p.B = b.data_as<float>();
    p.ldb = b.shape[1];
    if (packed_b_ && packed_b_->rows() == p.K && packed_b_->cols() == p.N) p.packed_b = packed_b_.get();
    p.Y = y.data_as<float>();
    // beta == 0 drops C altogether, as BLAS does: its values (even NaN) never reach Y.
    if (ctx.has_input(2) && !(gemm_ && beta_ == 0)) {
      const Tensor& c = ctx.input(2);
      const int64_t rows = c.rank() == 2 ? c.shape[0] : 1, cols = c.rank() >= 1 ? c.shape.back() : 1;
      p.addend.data = c.data_as<float>();
      p.addend.row_step = rows == 1 ? 0 : cols;
      p.addend.col_step = cols == 1 ? 0 : 1;
      p.addend.scale = beta_;
    }
    visit_activation(activation_, [&](auto act) { compute(p, act, *ctx.threads); });
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
  return def->make(KernelInit{init.node, opset, init.constant_inputs});
}

std::unique_ptr<Kernel> make_gelu(const KernelInit& init) { return make_onnx_kernel(init, 20); }
std::unique_ptr<Kernel> make_layer_norm(const KernelInit& init) { return make_onnx_kernel(init, 17); }

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

INFERD_CPU_KERNEL("Dropout", 1, 9, make_dropout);
INFERD_CPU_KERNEL("Dropout", 10, 11, make_dropout);
INFERD_CPU_KERNEL("Dropout", 12, kMaxOpset, make_dropout);

}  // namespace inferd
