// Single-precision matrix multiplication, the engine's hottest loop (Gemm, MatMul, and later Conv by
// im2col). All matrices are row-major with explicit row strides:
//
//   C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C
//
// op(A) = A when trans_a is false (A stored M×K, element (i,k) at A[i·lda + k]) and Aᵀ when true
// (A stored K×M, element (i,k) at A[k·lda + i]); likewise op(B) with ldb. C's rows are ldc apart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inferd {

class ThreadPool;

// The cache-blocked SGEMM. beta == 0 writes C without reading it, so uninitialised memory (even NaN)
// in C never reaches the result; alpha == 0 or K == 0 leaves beta·C without reading A or B (as BLAS
// does). M == 1 and N == 1 take a GEMV path. `pool` may be null (compute on the calling thread); the pool must not
// be one whose parallel_for is already running this call (its dispatch is not re-entrant), so a
// kernel that parallelises over batches passes null to the sgemm calls inside its tasks.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool);

// The same blocked algorithm with the portable micro-kernel in place of the ISA-specific one: lets
// tests check the fast micro-kernel and its plain-loop reference on one machine.
void sgemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, ThreadPool* pool);

// op(B) [K×N] packed once into the panels sgemm would otherwise pack on every call: for a B that
// multiplies many times (a model's weights), so that small products do not spend their time packing.
// Holds a copy; immutable after construction, so any number of threads may use it at once.
class PackedB {
 public:
  PackedB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb);
  ~PackedB();
  PackedB(const PackedB&) = delete;
  PackedB& operator=(const PackedB&) = delete;

  int64_t rows() const { return K_; }
  int64_t cols() const { return N_; }
  size_t bytes() const;  // memory held, padding included
  // The KC-deep slice starting at row pc of the panel holding column jc (both as sgemm.cc blocks them).
  const float* block(int64_t pc, int64_t jc) const;

 private:
  int64_t offset(int64_t pc, int64_t jc) const;
  int64_t K_, N_;
  float* data_ = nullptr;
};

// sgemm with a prepacked op(B): C[M×N] = alpha · op(A) · B + beta · C, K and N taken from B.
void sgemm_packed(bool trans_a, int64_t M, float alpha, const float* A, int64_t lda, const PackedB& B, float beta,
                  float* C, int64_t ldc, ThreadPool* pool);

// Which micro-kernel sgemm uses in this build ("avx512", "avx2", "portable") and its register tile.
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
