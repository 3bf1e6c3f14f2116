// Single-precision matrix multiplication, the engine's hottest loop (Gemm, MatMul, and Conv by
// im2col). All matrices are row-major with explicit row strides:
//
//   C[M×N] = act(alpha · op(A)[M×K] · op(B)[K×N] + beta · C + bias + residual)
//
// op(A) = A when trans_a is false (A stored M×K, element (i,k) at A[i·lda + k]) and Aᵀ when true
// (A stored K×M, element (i,k) at A[k·lda + i]); likewise op(B) with ldb. C's rows are ldc apart.
// The bias, residual and activation (the epilogue) are optional and applied to each tile of C
// right after its last product, while it is still in cache.
//
// The micro-kernels are chosen once, at first use, for the widest ISA the CPU has (AVX-512,
// AVX2+FMA, else portable C++; see cpu_features.h), whatever the build's -march.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/kernels/cpu_features.h"

namespace inferd {

class ThreadPool;
struct SgemmKernels;

// The activations an epilogue can apply (those the optimizer fuses into FusedGemm/FusedMatMul/FusedConv).
enum class SgemmActivation { none, relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh, clip, hard_sigmoid, hard_swish };

// What is added to and applied on each element of the product, after beta · C:
//   C[i,j] = act(… + bias_scale · bias[i·bias_row_step + j·bias_col_step] + residual[i·residual_ld + j])
// A per-column bias (Gemm's C of shape [N]) has steps (0, 1); a per-row one (0 … [M,1]) (1, 0); a
// full [M,N] matrix (N, 1); a scalar (0, 0). Null pointers mean no term.
struct SgemmEpilogue {
  const float* bias = nullptr;
  int64_t bias_row_step = 0, bias_col_step = 1;
  float bias_scale = 1.0f;
  const float* residual = nullptr;
  int64_t residual_ld = 0;
  SgemmActivation activation = SgemmActivation::none;
  float activation_alpha = 0;  // leaky_relu: the slope below 0; clip: the lower bound; hard_sigmoid: α
  float activation_beta = 0;   // clip: the upper bound; hard_sigmoid: β

  bool empty() const { return !bias && !residual && activation == SgemmActivation::none; }
};

// The cache-blocked SGEMM. beta == 0 writes C without reading it, so uninitialised memory (even NaN)
// in C never reaches the result; alpha == 0 or K == 0 leaves beta·C (plus the epilogue) without
// reading A or B (as BLAS does). M == 1 and N == 1 take a GEMV path. `pool` may be null (compute on
// the calling thread); the pool must not be one whose parallel_for is already running this call (its
// dispatch is not re-entrant), so a kernel that parallelises over batches passes null to the sgemm
// calls inside its tasks. `epilogue` may be null. (Two overloads rather than a default argument, so
// that the plain form's address stays that of a function of the classic BLAS shape.)
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool);
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool,
           const SgemmEpilogue* epilogue);

// The epilogue alone, on rows [i0, i0+rows) × columns [j0, j0+cols) of a finished C (c points at
// C[i0, j0]; bias and residual are indexed from C[0, 0] as above), with the chosen ISA's kernels:
// for kernels that compute their own blocks of a product (Conv's direct and depthwise loops) and
// apply sgemm's bias, residual and activation to each block while it is in cache, and for callers
// that add a term the epilogue cannot express (a broadcast residual) before the activation.
void sgemm_epilogue(const SgemmEpilogue& epilogue, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows,
                    int64_t cols);

// sgemm with the kernels of a given ISA, which the CPU must support (cpu_isa_supported): lets tests
// check every fast kernel against the portable one, and benchmarks compare them.
void sgemm_isa(CpuIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
               ThreadPool* pool, const SgemmEpilogue* epilogue = nullptr);

// The same blocked algorithm with the portable micro-kernel: sgemm_isa(CpuIsa::portable, …).
void sgemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, ThreadPool* pool);

// op(B) [K×N] packed once into the panels sgemm would otherwise pack on every call: for a B that
// multiplies many times (a model's weights), so that small products do not spend their time packing.
// The layout is the one of the ISA's kernels (by default the ones sgemm uses). Holds a copy;
// immutable after construction, so any number of threads may use it at once.
class PackedB {
 public:
  PackedB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb);
  PackedB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb, CpuIsa isa);
  ~PackedB();
  PackedB(const PackedB&) = delete;
  PackedB& operator=(const PackedB&) = delete;

  int64_t rows() const { return K_; }
  int64_t cols() const { return N_; }
  size_t bytes() const;  // memory held, padding included
  const SgemmKernels& kernels() const { return *kernels_; }
  // The KC-deep slice starting at row pc of the micro-panel holding column jc (both as the kernels
  // block them: pc a multiple of KC, jc of NR).
  const float* block(int64_t pc, int64_t jc) const;

 private:
  int64_t offset(int64_t pc, int64_t jc) const;
  int64_t K_, N_;
  const SgemmKernels* kernels_;
  float* data_ = nullptr;
};

// sgemm with a prepacked op(B): C[M×N] = act(alpha · op(A) · B + beta · C + …), K and N taken from B.
void sgemm_packed(bool trans_a, int64_t M, float alpha, const float* A, int64_t lda, const PackedB& B, float beta,
                  float* C, int64_t ldc, ThreadPool* pool, const SgemmEpilogue* epilogue = nullptr);

// Which micro-kernel sgemm uses on this CPU ("avx512", "avx2", "portable") and its register tile.
const char* sgemm_kernel_name();
int sgemm_tile_rows();
int sgemm_tile_cols();

// The textbook triple loop, accumulating in double: the reference sgemm is tested against.
inline void sgemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                            const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                            int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        sum += static_cast<double>(a) * b;
      }
      float& c = C[i * ldc + j];
      c = static_cast<float>(alpha * sum + (beta == 0 ? 0.0 : static_cast<double>(beta) * c));
    }
}

}  // namespace inferd
