// The blocked SGEMM of sgemm.h, in the Goto/BLIS structure:
//
//   for each NC-wide panel of op(B) and C                        (jc)
//     for each KC-deep slice of K                                (pc)  pack op(B)[pc:+KC, jc:+NC]
//       for each MC-tall block of op(A) and C                    (ic)  pack op(A)[ic:+MC, pc:+KC]
//         for each NR-wide micro-panel of packed B               (jr)
//           for each MR-tall micro-panel of packed A             (ir)  micro-kernel: MR×NR tile of C
//
// Packing copies each block once into the order the micro-kernel reads it (unit stride, aligned,
// zero-padded to whole tiles), whatever the caller's transposes and strides, so one micro-kernel
// serves every case. The sizes keep a KC×NR sliver of packed B in L1 while the micro-kernel sweeps
// the MC×KC block of packed A held in L2. A PackedB holds op(B) already in this form (packed once for
// a model's weights), and the loops then read its panels instead of packing.
#include "cpu/kernels/sgemm.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#include "core/thread_pool.h"

namespace inferd {
namespace {

// The register tile follows the widest vector unit the build targets: two vectors of C per row,
// with enough rows that the FMA units always have independent accumulators to work on.
#if defined(__AVX512F__)
constexpr int MR = 8, NR = 32;  // 16 zmm accumulators of 32 registers
constexpr const char* kKernelName = "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int MR = 6, NR = 16;  // 12 ymm accumulators + 2 for B + 1 broadcast, of 16 registers
constexpr const char* kKernelName = "avx2";
#else
constexpr int MR = 4, NR = 16;
constexpr const char* kKernelName = "portable";
#endif

constexpr int64_t KC = 256;   // a KC×NR sliver of packed B: 32 KiB at NR = 32 (L1d is 32–48 KiB)
constexpr int64_t MC = 192;   // a packed A block, MC×KC: 192 KiB (L2)
constexpr int64_t NC = 2048;  // a packed B panel, KC×NC: 2 MiB (L2/L3)
static_assert(MC % MR == 0 && NC % NR == 0, "blocks hold whole register tiles");

// Below this much work a problem runs on the calling thread: waking the pool costs more than it saves.
constexpr double kMinParallelFlops = 1 << 20;
constexpr double kMinTaskFlops = 1 << 18;  // the least work worth a GEMV task

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Packing memory, one pair per thread, grown to the largest block the thread has needed and then
// reused: after a thread's first call at a given size, sgemm allocates nothing.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }

  float* reserve(int64_t floats) {
    const size_t needed = static_cast<size_t>(floats);
    if (needed > capacity_) {
      const size_t bytes = (needed * sizeof(float) + 63) / 64 * 64;
      void* p = std::aligned_alloc(64, bytes);
      if (!p) throw std::bad_alloc();
      std::free(data_);
      data_ = static_cast<float*>(p);
      capacity_ = bytes / sizeof(float);
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local PackBuffer a_pack_buffer;
thread_local PackBuffer b_pack_buffer;

// op(A)[0:mc, 0:kc] (A points at the block) → MR-row micro-panels, each k-major (the MR values of one
// k adjacent), scaled by alpha so that the micro-kernel need not; rows past mc are zero.
void pack_a(bool trans, int64_t mc, int64_t kc, const float* A, int64_t lda, float alpha, float* out) {
  for (int64_t ir = 0; ir < mc; ir += MR, out += MR * kc) {
    const int64_t rows = std::min<int64_t>(MR, mc - ir);
    if (!trans) {
      for (int64_t i = 0; i < rows; ++i) {
        const float* src = A + (ir + i) * lda;
        for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = alpha * src[k];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = A + k * lda + ir;
        for (int64_t i = 0; i < rows; ++i) out[k * MR + i] = alpha * src[i];
      }
    }
    for (int64_t i = rows; i < MR; ++i)
      for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = 0.0f;
  }
}

// op(B)[0:kc, 0:nc] (B points at the block) → NR-column micro-panels, each k-major (the NR values of
// one k adjacent); columns past nc are zero.
void pack_b(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* out) {
  for (int64_t jr = 0; jr < nc; jr += NR, out += NR * kc) {
    const int64_t cols = std::min<int64_t>(NR, nc - jr);
    if (!trans) {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = B + k * ldb + jr;
        float* dst = out + k * NR;
        for (int64_t j = 0; j < cols; ++j) dst[j] = src[j];
        for (int64_t j = cols; j < NR; ++j) dst[j] = 0.0f;
      }
    } else {
      for (int64_t j = 0; j < cols; ++j) {
        const float* src = B + (jr + j) * ldb;
        for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = src[k];
      }
      for (int64_t j = cols; j < NR; ++j)
        for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = 0.0f;
    }
  }
}

// A micro-kernel computes one whole MR×NR tile from a packed A micro-panel `a` and a packed B
// micro-panel `b`, both kc deep:  c[i·ldc + j] = Σ_k a[k·MR + i]·b[k·NR + j] + beta·c[i·ldc + j],
// where beta == 0 means the old c is not read.
using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta);

// The reference micro-kernel: plain loops, which the compiler vectorises along j. The unrolling is
// spelled out because, left to itself, GCC vectorises across k with shuffles (5x slower with SSE2).
void micro_kernel_portable(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta) {
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const float ai = a[i];
#pragma GCC unroll 32
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
  }
  if (beta == 0) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j];
  } else {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j] + beta * c[i * ldc + j];
  }
}

#if defined(__AVX512F__)
void micro_kernel_simd(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta) {
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  const __m512 vbeta = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    if (beta != 0) {
      acc[i][0] = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row), acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row + 16), acc[i][1]);
    }
    _mm512_storeu_ps(row, acc[i][0]);
    _mm512_storeu_ps(row + 16, acc[i][1]);
  }
}
#elif defined(__AVX2__) && defined(__FMA__)
void micro_kernel_simd(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta) {
  __m256 acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  const __m256 vbeta = _mm256_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    if (beta != 0) {
      acc[i][0] = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(row), acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(row + 8), acc[i][1]);
    }
    _mm256_storeu_ps(row, acc[i][0]);
    _mm256_storeu_ps(row + 8, acc[i][1]);
  }
}
#else
constexpr MicroKernel micro_kernel_simd = micro_kernel_portable;
#endif

// A tile cut by the matrix edge: the micro-kernel fills a full tile on the stack, then only the
// rows × cols that exist are merged into C.
template <MicroKernel kernel>
void edge_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta, int64_t rows,
               int64_t cols) {
  alignas(64) float tile[MR * NR];
  kernel(kc, a, b, tile, NR, 0.0f);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * ldc + j] = beta == 0 ? tile[i * NR + j] : tile[i * NR + j] + beta * c[i * ldc + j];
}

// A product as sgemm was given it; op(B) is either raw (packed block by block as it is used) or
// prepacked once (packed_b set; B, ldb and trans_b then unused).
struct Problem {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  const PackedB* packed_b;
  float beta;
  float* C;
  int64_t ldc;
};

// The five loops of the header comment, on the calling thread, for rows [m_begin, m_end) and columns
// [n_begin, n_end) of C (n_begin a multiple of NR, as prepacked panels need).
template <MicroKernel kernel>
void gemm_blocked(const Problem& p, int64_t m_begin, int64_t m_end, int64_t n_begin, int64_t n_end) {
  const int64_t k_block = std::min(p.K, KC);
  float* a_pack = a_pack_buffer.reserve(ceil_div(std::min(m_end - m_begin, MC), MR) * MR * k_block);
  float* b_pack =
      p.packed_b ? nullptr : b_pack_buffer.reserve(ceil_div(std::min(n_end - n_begin, NC), NR) * NR * k_block);
  for (int64_t jc = n_begin; jc < n_end;) {
    // Panels end at multiples of NC, where a prepacked B's panels end.
    const int64_t jc_end = std::min(n_end, (jc / NC + 1) * NC), nc = jc_end - jc;
    for (int64_t pc = 0; pc < p.K; pc += KC) {
      const int64_t kc = std::min(KC, p.K - pc);
      const float* b_block = b_pack;
      if (p.packed_b) b_block = p.packed_b->block(pc, jc);
      else pack_b(p.trans_b, kc, nc, p.trans_b ? p.B + jc * p.ldb + pc : p.B + pc * p.ldb + jc, p.ldb, b_pack);
      // The first slice of K applies the caller's beta; later slices add to what it wrote.
      const float beta = pc == 0 ? p.beta : 1.0f;
      for (int64_t ic = m_begin; ic < m_end; ic += MC) {
        const int64_t mc = std::min(MC, m_end - ic);
        pack_a(p.trans_a, mc, kc, p.trans_a ? p.A + pc * p.lda + ic : p.A + ic * p.lda + pc, p.lda, p.alpha, a_pack);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t cols = std::min<int64_t>(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t rows = std::min<int64_t>(MR, mc - ir);
            const float* a = a_pack + ir * kc;
            const float* b = b_block + jr * kc;
            float* c = p.C + (ic + ir) * p.ldc + jc + jr;
            if (rows == MR && cols == NR) kernel(kc, a, b, c, p.ldc, beta);
            else edge_tile<kernel>(kc, a, b, c, p.ldc, beta, rows, cols);
          }
        }
      }
    }
    jc = jc_end;
  }
}

// Splits C into strips, one blocked GEMM each. Column strips (whole NR tiles) are preferred: each
// task then packs its own part of op(B) and only op(A), the smaller operand of a wide problem, is
// packed by every task. Row strips serve tall, narrow problems. One strip per thread: the work is
// uniform, and every extra strip re-packs the shared operand (at 512³, eight strips on two threads
// ran at 230 GFLOP/s against 290 for two).
template <MicroKernel kernel> void gemm_parallel(const Problem& p, ThreadPool* pool) {
  const int threads = pool ? pool->size() : 1;
  const double flops = 2.0 * static_cast<double>(p.M) * static_cast<double>(p.N) * static_cast<double>(p.K);
  if (threads == 1 || flops < kMinParallelFlops) {
    gemm_blocked<kernel>(p, 0, p.M, 0, p.N);
    return;
  }
  const int64_t n_tiles = ceil_div(p.N, NR), m_tiles = ceil_div(p.M, MR);
  if (n_tiles >= m_tiles || n_tiles >= 4 * threads) {
    pool->parallel_for(n_tiles, ceil_div(n_tiles, threads), [&](int64_t t0, int64_t t1) {
      gemm_blocked<kernel>(p, 0, p.M, t0 * NR, std::min(p.N, t1 * NR));
    });
  } else {
    pool->parallel_for(m_tiles, ceil_div(m_tiles, threads), [&](int64_t t0, int64_t t1) {
      gemm_blocked<kernel>(p, t0 * MR, std::min(p.M, t1 * MR), 0, p.N);
    });
  }
}

// Σ_k x[k·incx]·w[k], vectorised through independent partial sums (strict IEEE order forbids the
// compiler from reassociating a single running sum).
float dot(int64_t K, const float* x, int64_t incx, const float* w) {
  if (incx != 1) {
    float sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += x[k * incx] * w[k];
    return sum;
  }
  constexpr int kLanes = 16;
  float lanes[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += x[k + l] * w[k + l];
  float sum = 0;
  for (; k < K; ++k) sum += x[k] * w[k];
  for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  return sum;
}

// y[j·incy] = alpha · Σ_k x[k·incx]·W(k, j) + beta · y[j·incy] for j < n, where W(k, j) is
// w[k·ldw + j] (w_trans false) or w[j·ldw + k] (w_trans true). sgemm's M == 1 and N == 1 cases: the
// blocked path would pad them to whole register tiles and pack an operand it reads only once.
void gemv(int64_t n, int64_t K, float alpha, const float* x, int64_t incx, const float* w, int64_t ldw,
          bool w_trans, float beta, float* y, int64_t incy, ThreadPool* pool) {
  constexpr int64_t kChunk = 256;  // outputs per chunk: a stack accumulator that stays in L1
  auto run_chunks = [&](int64_t c0, int64_t c1) {
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      const int64_t j0 = chunk * kChunk, len = std::min(kChunk, n - j0);
      float acc[kChunk];
      if (!w_trans) {
        // Rows of W are contiguous: accumulate x[k] · row k into the chunk (an axpy per k).
        for (int64_t j = 0; j < len; ++j) acc[j] = 0;
        for (int64_t k = 0; k < K; ++k) {
          const float xk = x[k * incx];
          const float* row = w + k * ldw + j0;
          for (int64_t j = 0; j < len; ++j) acc[j] += xk * row[j];
        }
      } else {
        for (int64_t j = 0; j < len; ++j) acc[j] = dot(K, x, incx, w + (j0 + j) * ldw);
      }
      float* out = y + j0 * incy;
      if (beta == 0) {
        for (int64_t j = 0; j < len; ++j) out[j * incy] = alpha * acc[j];
      } else {
        for (int64_t j = 0; j < len; ++j) out[j * incy] = alpha * acc[j] + beta * out[j * incy];
      }
    }
  };
  const int64_t chunks = ceil_div(n, kChunk);
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(K);
  if (!pool || pool->size() == 1 || flops < kMinParallelFlops) {
    run_chunks(0, chunks);
    return;
  }
  const int64_t grain =
      std::max<int64_t>(1, static_cast<int64_t>(kMinTaskFlops / (2.0 * kChunk * static_cast<double>(K))));
  pool->parallel_for(chunks, grain, run_chunks);
}

// C = beta · C, for an empty product (K == 0) or alpha == 0 (as BLAS: A and B are then not read).
void scale(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    if (beta == 0) {
      for (int64_t j = 0; j < N; ++j) row[j] = 0;
    } else {
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

template <MicroKernel kernel>
void sgemm_with(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0) {
    scale(M, N, beta, C, ldc);
  } else if (M == 1) {
    // One row of C: op(A) is a vector of K, op(B) the matrix.
    gemv(N, K, alpha, A, trans_a ? lda : 1, B, ldb, trans_b, beta, C, 1, pool);
  } else if (N == 1) {
    // One column of C, computed as its transpose: Cᵀ = op(B)ᵀ · op(A)ᵀ.
    gemv(M, K, alpha, B, trans_b ? 1 : ldb, A, lda, !trans_a, beta, C, ldc, pool);
  } else {
    gemm_parallel<kernel>(Problem{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, nullptr, beta, C, ldc}, pool);
  }
}

}  // namespace

PackedB::PackedB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb) : K_(K), N_(N) {
  if (K <= 0 || N <= 0) return;
  // Every panel but the last is NC wide; each is padded to whole NR micro-panels.
  const int64_t floats = ceil_div(N, NR) * NR * K;
  data_ = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(ceil_div(floats * 4, 64) * 64)));
  if (!data_) throw std::bad_alloc();
  for (int64_t jc = 0; jc < N; jc += NC)
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t nc = std::min(NC, N - jc), kc = std::min(KC, K - pc);
      pack_b(trans_b, kc, nc, trans_b ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, data_ + offset(pc, jc));
    }
}

PackedB::~PackedB() { std::free(data_); }

size_t PackedB::bytes() const {
  return K_ > 0 && N_ > 0 ? static_cast<size_t>(ceil_div(N_, NR) * NR * K_) * sizeof(float) : 0;
}

const float* PackedB::block(int64_t pc, int64_t jc) const { return data_ + offset(pc, jc); }

int64_t PackedB::offset(int64_t pc, int64_t jc) const {
  // Panel j0 holds columns [j0, j0 + NC) as KC-deep slices one after another; within a slice the
  // micro-panel of column jc starts (jc − j0)·kc floats in.
  const int64_t j0 = jc / NC * NC;
  const int64_t panel_width = ceil_div(std::min(NC, N_ - j0), NR) * NR;
  const int64_t kc = std::min(KC, K_ - pc);
  return j0 * K_ + panel_width * pc + (jc - j0) * kc;
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool) {
  sgemm_with<micro_kernel_simd>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pool);
}

void sgemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, ThreadPool* pool) {
  sgemm_with<micro_kernel_portable>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pool);
}

void sgemm_packed(bool trans_a, int64_t M, float alpha, const float* A, int64_t lda, const PackedB& B, float beta,
                  float* C, int64_t ldc, ThreadPool* pool) {
  const int64_t N = B.cols(), K = B.rows();
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0) {
    scale(M, N, beta, C, ldc);
    return;
  }
  gemm_parallel<micro_kernel_simd>(Problem{trans_a, false, M, N, K, alpha, A, lda, nullptr, 0, &B, beta, C, ldc},
                                   pool);
}

const char* sgemm_kernel_name() { return kKernelName; }
int sgemm_tile_rows() { return MR; }
int sgemm_tile_cols() { return NR; }

}  // namespace inferd
