// Gemm and MatMul on the CPU: float through the blocked sgemm, the other types through a plain loop.
#include <algorithm>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/packed_weights.h"
#include "cpu/kernels/sgemm.h"

namespace inferd {
namespace {

// C[M×N] = alpha·op(A)·op(B) + beta·C on densely packed matrices, for element types without a
// blocked kernel; beta == 0 writes C without reading it. Row by row, so the inner loop runs along
// contiguous rows of B and C whenever B is not transposed.
template <typename T>
void gemm_loop(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, const T* B,
               T beta, T* C) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * N;
    for (int64_t j = 0; j < N; ++j) c[j] = beta == T(0) ? T(0) : beta * c[j];
    for (int64_t k = 0; k < K; ++k) {
      const T a = alpha * (trans_a ? A[k * M + i] : A[i * K + k]);
      if (!trans_b) {
        const T* b = B + k * N;
        for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
      } else {
        for (int64_t j = 0; j < N; ++j) c[j] += a * B[j * K + k];
      }
    }
  }
}

// Writes C broadcast to [M, N] into y (the schema has checked that it broadcasts).
template <typename T> void broadcast_c(const Tensor& c, int64_t M, int64_t N, T* y) {
  const int64_t rows = c.rank() == 2 ? c.shape[0] : 1;
  const int64_t cols = c.rank() >= 1 ? c.shape.back() : 1;
  const T* src = c.data_as<T>();
  for (int64_t i = 0; i < M; ++i) {
    const T* in = src + (rows == 1 ? 0 : i * cols);
    T* out = y + i * N;
    if (cols == 1) std::fill(out, out + N, in[0]);
    else std::copy(in, in + N, out);
  }
}

class GemmKernel final : public Kernel {
 public:
  explicit GemmKernel(const KernelInit& init)
      : label_(init.node.label()),
        trans_a_(init.attributes().get_int("transA", 0) != 0),
        trans_b_(init.attributes().get_int("transB", 0) != 0),
        alpha_(init.attributes().get_float("alpha", 1.0f)),
        beta_(init.attributes().get_float("beta", 1.0f)),
        packed_b_(pack_constant_b(init, trans_b_)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& y = ctx.output(0);
    const int64_t M = y.shape[0], N = y.shape[1], K = trans_a_ ? a.shape[0] : a.shape[1];
    // beta == 0 drops C altogether, as BLAS does: its values (even NaN) never reach Y.
    const Tensor* c = ctx.has_input(2) && beta_ != 0 ? &ctx.input(2) : nullptr;
    switch (y.dtype) {
      case DType::f32: {
        float* out = y.data_as<float>();
        // C (broadcast to [M, N]) joins in the epilogue, as a bias scaled by beta: no pass to
        // broadcast it into Y first.
        SgemmEpilogue bias;
        if (c) {
          const int64_t rows = c->rank() == 2 ? c->shape[0] : 1, cols = c->rank() >= 1 ? c->shape.back() : 1;
          bias.bias = c->data_as<float>();
          bias.bias_row_step = rows == 1 ? 0 : cols;
          bias.bias_col_step = cols == 1 ? 0 : 1;
          bias.bias_scale = beta_;
        }
        const SgemmEpilogue* epilogue = c ? &bias : nullptr;
        if (packed_b_ && use_packed(M, ctx) && packed_b_->rows() == K && packed_b_->cols() == N)
          sgemm_packed(trans_a_, M, alpha_, a.data_as<float>(), trans_a_ ? M : K, *packed_b_, 0.0f, out, N,
                       ctx.threads, epilogue);
        else
          sgemm(trans_a_, trans_b_, M, N, K, alpha_, a.data_as<float>(), trans_a_ ? M : K, b.data_as<float>(),
                trans_b_ ? K : N, 0.0f, out, N, ctx.threads, epilogue);
        break;
      }
      case DType::f64: {
        double* out = y.data_as<double>();
        if (c) broadcast_c<double>(*c, M, N, out);
        gemm_loop<double>(trans_a_, trans_b_, M, N, K, alpha_, a.data_as<double>(), b.data_as<double>(),
                          c ? beta_ : 0.0, out);
        break;
      }
      default:
        fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(y.dtype));
    }
  }

 private:
  std::string label_;
  bool trans_a_, trans_b_;
  float alpha_, beta_;
  std::unique_ptr<PackedB> packed_b_;
};

// The batch structure of numpy.matmul: `count` products of [M×K]·[K×N], product i reading A and B at
// the element offsets offsets(i) gives and writing Y at i·M·N.
struct MatMulGeometry {
  int64_t M = 1, N = 1, K = 1, count = 1;
  int rank = 0;  // batch dimensions of Y
  int64_t dims[kMaxRank] = {}, a_step[kMaxRank] = {}, b_step[kMaxRank] = {};
  bool b_has_batch = false;

  MatMulGeometry(const Shape& a, const Shape& b, const Shape& y) {
    const int ra = static_cast<int>(a.size()), rb = static_cast<int>(b.size());
    M = ra == 1 ? 1 : a[ra - 2];
    K = a[ra - 1];
    N = rb == 1 ? 1 : b[rb - 1];
    rank = static_cast<int>(y.size()) - (ra > 1) - (rb > 1);
    const int a_batch = std::max(ra - 2, 0), b_batch = std::max(rb - 2, 0);
    // Walk the batch dimensions from the innermost, aligning A's and B's to Y's on the right; a
    // dimension an operand lacks or has as 1 repeats that operand (step 0).
    int64_t a_size = M * K, b_size = K * N;
    for (int d = rank - 1, da = a_batch - 1, db = b_batch - 1; d >= 0; --d, --da, --db) {
      dims[d] = y[d];
      const int64_t na = da >= 0 ? a[da] : 1, nb = db >= 0 ? b[db] : 1;
      a_step[d] = na == 1 ? 0 : a_size;
      b_step[d] = nb == 1 ? 0 : b_size;
      a_size *= na;
      b_size *= nb;
      count *= dims[d];
      // B's batch dims of size 1 (e.g. [1, K, N]) repeat one matrix: as good as none.
      b_has_batch = b_has_batch || b_step[d] != 0;
    }
  }

  void offsets(int64_t index, int64_t* a_offset, int64_t* b_offset) const {
    *a_offset = *b_offset = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t i = index % dims[d];
      index /= dims[d];
      *a_offset += i * a_step[d];
      *b_offset += i * b_step[d];
    }
  }
};

// Products smaller than this are spread over threads whole, however few there are: splitting one
// costs each thread a share of its packing and a barrier, more than such a product takes.
constexpr double kSmallProductFlops = 1 << 20;
// The least work worth a task of whole products (a chunk of the batch).
constexpr double kMinTaskFlops = 1 << 18;

class MatMulKernel final : public Kernel {
 public:
  explicit MatMulKernel(const KernelInit& init) : label_(init.node.label()), packed_b_(pack_constant_b(init, false)) {}

  void run(const KernelContext& ctx) const override {
    switch (ctx.output(0).dtype) {
      case DType::f32: run_float(ctx); break;
      case DType::f64: run_loop<double>(ctx); break;
      case DType::i32: run_loop<int32_t>(ctx); break;
      case DType::i64: run_loop<int64_t>(ctx); break;
      default:
        fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(ctx.output(0).dtype));
    }
  }

 private:
  void run_float(const KernelContext& ctx) const {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& y = ctx.output(0);
    const MatMulGeometry g(a.shape, b.shape, y.shape);
    const float* A = a.data_as<float>();
    const float* B = b.data_as<float>();
    float* Y = y.data_as<float>();
    if (!g.b_has_batch) {
      // Y's batches then follow A's one to one: the batches of A are the consecutive rows of one
      // tall matrix, and a single [count·M × K]·[K × N] product serves them all.
      const int64_t rows = g.count * g.M;
      if (packed_b_ && use_packed(rows, ctx) && packed_b_->rows() == g.K && packed_b_->cols() == g.N)
        sgemm_packed(false, rows, 1.0f, A, g.K, *packed_b_, 0.0f, Y, g.N, ctx.threads);
      else
        sgemm(false, false, rows, g.N, g.K, 1.0f, A, g.K, B, g.N, 0.0f, Y, g.N, ctx.threads);
      return;
    }
    auto product = [&](int64_t i, ThreadPool* pool) {
      int64_t a_offset, b_offset;
      g.offsets(i, &a_offset, &b_offset);
      sgemm(false, false, g.M, g.N, g.K, 1.0f, A + a_offset, g.K, B + b_offset, g.N, 0.0f, Y + i * g.M * g.N, g.N,
            pool);
    };
    // Attention's products ([B, H, S, d] × [B, H, d, S]) are many and small: each whole product runs
    // on one thread (its packing buffers are that thread's, reused), as many per thread as balance
    // allows. Products left over when they do not divide among the threads are split inside sgemm
    // instead, when large enough, so that no thread idles through a whole product.
    ThreadPool* pool = ctx.threads;
    const int64_t threads = pool->size();
    const double flops = 2.0 * static_cast<double>(g.M) * static_cast<double>(g.N) * static_cast<double>(g.K);
    int64_t whole = 0;  // products [0, whole) run one per task, the rest split over the pool
    if (threads > 1)
      whole = flops < kSmallProductFlops || g.count >= 4 * threads ? g.count : g.count / threads * threads;
    if (whole > 0) {
      const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskFlops / std::max(flops, 1.0)));
      pool->parallel_for(whole, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) product(i, nullptr);
      });
    }
    for (int64_t i = whole; i < g.count; ++i) product(i, pool);
  }

  template <typename T> void run_loop(const KernelContext& ctx) const {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    Tensor& y = ctx.output(0);
    const MatMulGeometry g(a.shape, b.shape, y.shape);
    for (int64_t i = 0; i < g.count; ++i) {
      int64_t a_offset, b_offset;
      g.offsets(i, &a_offset, &b_offset);
      gemm_loop<T>(false, false, g.M, g.N, g.K, T(1), a.data_as<T>() + a_offset, b.data_as<T>() + b_offset, T(0),
                   y.data_as<T>() + i * g.M * g.N);
    }
  }

  std::string label_;
  std::unique_ptr<PackedB> packed_b_;  // B as a constant 2-D float matrix, prepacked
};

std::unique_ptr<Kernel> make_gemm(const KernelInit& init) { return std::make_unique<GemmKernel>(init); }
std::unique_ptr<Kernel> make_matmul(const KernelInit& init) { return std::make_unique<MatMulKernel>(init); }

}  // namespace

// One factory serves both ranges: an absent C (allowed from opset 11) is simply not added.
INFERD_CPU_KERNEL("Gemm", 1, 10, make_gemm);
INFERD_CPU_KERNEL("Gemm", 11, kMaxOpset, make_gemm);
INFERD_CPU_KERNEL("MatMul", 1, kMaxOpset, make_matmul);

}  // namespace inferd
