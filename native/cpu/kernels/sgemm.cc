// sgemm's front end: argument handling, the GEMV paths, the split of a product over threads, and
// PackedB. The blocked loops and micro-kernels live in one file per ISA (sgemm_driver.h,
// sgemm_<isa>.cc); the table of the widest ISA the CPU supports is chosen here, once.
#include "cpu/kernels/sgemm.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "core/thread_pool.h"
#include "cpu/kernels/sgemm_kernels.h"

namespace inferd {
namespace {

// Below this much work a problem runs on the calling thread: waking the pool costs more than it saves.
constexpr double kMinParallelFlops = 1 << 19;
constexpr double kMinTaskFlops = 1 << 17;  // the least work worth a GEMV task

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

const SgemmKernels& kernels_for(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::avx512: return sgemm_kernels_avx512();
    case CpuIsa::avx2: return sgemm_kernels_avx2();
    default: return sgemm_kernels_portable();
  }
}

const SgemmKernels& chosen_kernels() {
  static const SgemmKernels& kernels = kernels_for(preferred_cpu_isa());
  return kernels;
}

// Packing memory, one per slot and thread, grown to the largest block the thread has needed.
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

thread_local PackBuffer pack_buffers[2];

// How the threads share a product: a grid of row strips × column strips, one rectangle per thread,
// each running the whole blocked product on its rectangle (packing its own blocks: no barrier, no
// shared buffer). The grid minimises the per-thread time of a simple model: its multiply-adds, plus
// the operands it packs (its rows of op(A) in every case; its columns of op(B) unless prepacked).
struct Grid {
  int rows = 1, cols = 1;        // threads along M and along N
  int64_t row_step = 0, col_step = 0;  // rows and columns of C per thread (whole tiles, or rows in kRowStep steps)
};

Grid choose_grid(const SgemmKernels& k, const SgemmProblem& p, int threads) {
  const int64_t m_tiles = ceil_div(p.M, k.mr), n_tiles = ceil_div(p.N, k.nr);
  // Packing an element costs about as much time as this many flops of the micro-kernel.
  constexpr double kPackFlops = 32;
  constexpr int64_t kRowStep = 4;  // the grain of an even row split (AVX-512's 12-row tile is 3 of them)
  Grid best;
  double best_cost = -1;
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm) continue;
    const int tn = threads / tm;
    if (tm > m_tiles || tn > n_tiles) continue;
    // Row strips of whole register tiles, or split evenly (in steps of kRowStep rows) when that takes
    // at least half a tile off the longest strip: the kernels have a tile for every row count, and
    // 128 rows on two threads run faster as 64 + 64 than as 72 + 56 (BERT-h256 b1: -4 to -7% at 2
    // threads; the row split also keeps each thread on the rows it wrote in the previous product
    // and in the row-parallel ops between). A strip's extra partial tile costs more than the few
    // rows it saves on large M (1024 rows as 512 + 512 measured 1-2% slower than 516 + 508).
    const int64_t whole_rows = ceil_div(m_tiles, int64_t{tm}) * k.mr;
    const int64_t even_rows = ceil_div(ceil_div(p.M, int64_t{tm}), kRowStep) * kRowStep;
    const int64_t rows = whole_rows - even_rows >= k.mr / 2 ? even_rows : whole_rows;
    const int64_t cols = ceil_div(n_tiles, tn) * k.nr;
    if ((tm - 1) * rows >= p.M) continue;  // a thread would get no rows
    const double cost = 2.0 * static_cast<double>(rows) * static_cast<double>(cols) +
                        kPackFlops * static_cast<double>(rows) +
                        (p.packed_b ? 0.0 : kPackFlops * static_cast<double>(cols));
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = Grid{tm, tn, rows, cols};
    }
  }
  return best;
}

void gemm_parallel(const SgemmKernels& k, const SgemmProblem& p, ThreadPool* pool) {
  const int threads = pool ? pool->size() : 1;
  const double flops = 2.0 * static_cast<double>(p.M) * static_cast<double>(p.N) * static_cast<double>(p.K);
  const Grid grid = threads > 1 && flops >= kMinParallelFlops ? choose_grid(k, p, threads) : Grid{};
  if (grid.rows * grid.cols <= 1) {
    k.gemm(p, 0, p.M, 0, p.N);
    return;
  }
  pool->parallel_for(grid.rows * grid.cols, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t m0 = (t / grid.cols) * grid.row_step, n0 = (t % grid.cols) * grid.col_step;
      if (m0 < p.M && n0 < p.N) k.gemm(p, m0, std::min(p.M, m0 + grid.row_step), n0, std::min(p.N, n0 + grid.col_step));
    }
  });
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

// sgemm's M == 1 and N == 1 cases, `n` outputs (of C's row or column): the blocked path would pad
// them to whole register tiles and pack an operand it reads only once. The epilogue follows each
// chunk of outputs on the thread that computed it.
void gemv_parallel(const SgemmKernels& k, int64_t n, int64_t K, float alpha, const float* x, int64_t incx,
                   const float* w, int64_t ldw, bool w_trans, float beta, float* y, int64_t incy, bool column,
                   const SgemmEpilogue* epilogue, ThreadPool* pool) {
  auto run = [&](int64_t j0, int64_t j1) {
    k.gemv(j0, j1, K, alpha, x, incx, w, ldw, w_trans, beta, y, incy);
    if (!epilogue) return;
    if (column) k.epilogue(*epilogue, y + j0 * incy, incy, j0, 0, j1 - j0, 1);
    else k.epilogue(*epilogue, y + j0, 0, 0, j0, 1, j1 - j0);
  };
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(K);
  if (!pool || pool->size() == 1 || flops < kMinParallelFlops) {
    run(0, n);
    return;
  }
  // One contiguous range of outputs per thread (whole cache lines of y, so no two threads write one),
  // the same every call: a thread then reads the same part of the matrix each time, which can stay
  // in its own L2 from one call to the next.
  const int64_t least = std::max<int64_t>(16, static_cast<int64_t>(kMinTaskFlops / (2.0 * static_cast<double>(K))));
  const int64_t chunk = ceil_div(std::max(least, ceil_div(n, pool->size())), 16) * 16;
  pool->parallel_for(ceil_div(n, chunk), 1, [&](int64_t c0, int64_t c1) { run(c0 * chunk, std::min(n, c1 * chunk)); });
}

void run_sgemm(const SgemmKernels& k, const SgemmProblem& p, ThreadPool* pool) {
  if (p.M <= 0 || p.N <= 0) return;
  const SgemmEpilogue* epilogue = p.epilogue && !p.epilogue->empty() ? p.epilogue : nullptr;
  if (p.K <= 0 || p.alpha == 0) {
    scale(p.M, p.N, p.beta, p.C, p.ldc);
    if (epilogue) k.epilogue(*epilogue, p.C, p.ldc, 0, 0, p.M, p.N);
  } else if (p.M == 1 && !p.packed_b) {
    // One row of C: op(A) is a vector of K, op(B) the matrix.
    gemv_parallel(k, p.N, p.K, p.alpha, p.A, p.trans_a ? p.lda : 1, p.B, p.ldb, p.trans_b, p.beta, p.C, 1, false,
                  epilogue, pool);
  } else if (p.N == 1 && !p.packed_b) {
    // One column of C, computed as its transpose: Cᵀ = op(B)ᵀ · op(A)ᵀ.
    gemv_parallel(k, p.M, p.K, p.alpha, p.B, p.trans_b ? 1 : p.ldb, p.A, p.lda, !p.trans_a, p.beta, p.C, p.ldc, true,
                  epilogue, pool);
  } else {
    SgemmProblem q = p;
    q.epilogue = epilogue;
    gemm_parallel(k, q, pool);
  }
}

}  // namespace

float* sgemm_scratch(int slot, int64_t floats) { return pack_buffers[slot].reserve(floats); }

PackedB::PackedB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb)
    : PackedB(trans_b, K, N, B, ldb, preferred_cpu_isa()) {}

PackedB::PackedB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb, CpuIsa isa)
    : K_(K), N_(N), kernels_(&kernels_for(isa)) {
  if (K <= 0 || N <= 0) return;
  const int64_t NR = kernels_->nr, KC = kernels_->kc, NC = kernels_->nc;
  // Every panel but the last is NC wide; each is padded to whole NR micro-panels.
  const int64_t floats = ceil_div(N, NR) * NR * K;
  data_ = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(ceil_div(floats * 4, 64) * 64)));
  if (!data_) throw std::bad_alloc();
  for (int64_t jc = 0; jc < N; jc += NC)
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t nc = std::min(NC, N - jc), kc = std::min(KC, K - pc);
      kernels_->pack_b(trans_b, kc, nc, trans_b ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, data_ + offset(pc, jc));
    }
}

PackedB::~PackedB() { std::free(data_); }

size_t PackedB::bytes() const {
  return K_ > 0 && N_ > 0 ? static_cast<size_t>(ceil_div(N_, kernels_->nr) * kernels_->nr * K_) * sizeof(float) : 0;
}

const float* PackedB::block(int64_t pc, int64_t jc) const { return data_ + offset(pc, jc); }

int64_t PackedB::offset(int64_t pc, int64_t jc) const {
  // Panel j0 holds columns [j0, j0 + NC) as KC-deep slices one after another; within a slice the
  // micro-panel of column jc starts (jc − j0)·kc floats in.
  const int64_t NR = kernels_->nr, KC = kernels_->kc, NC = kernels_->nc;
  const int64_t j0 = jc / NC * NC;
  const int64_t panel_width = ceil_div(std::min(NC, N_ - j0), NR) * NR;
  const int64_t kc = std::min(KC, K_ - pc);
  return j0 * K_ + panel_width * pc + (jc - j0) * kc;
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool) {
  sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pool, nullptr);
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool,
           const SgemmEpilogue* epilogue) {
  run_sgemm(chosen_kernels(),
            SgemmProblem{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, nullptr, beta, C, ldc, epilogue}, pool);
}

void sgemm_isa(CpuIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
               ThreadPool* pool, const SgemmEpilogue* epilogue) {
  run_sgemm(kernels_for(isa),
            SgemmProblem{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, nullptr, beta, C, ldc, epilogue}, pool);
}

void sgemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, ThreadPool* pool) {
  sgemm_isa(CpuIsa::portable, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pool);
}

void sgemm_packed(bool trans_a, int64_t M, float alpha, const float* A, int64_t lda, const PackedB& B, float beta,
                  float* C, int64_t ldc, ThreadPool* pool, const SgemmEpilogue* epilogue) {
  run_sgemm(B.kernels(),
            SgemmProblem{trans_a, false, M, B.cols(), B.rows(), alpha, A, lda, nullptr, 0, &B, beta, C, ldc, epilogue},
            pool);
}

void sgemm_epilogue(const SgemmEpilogue& epilogue, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows,
                    int64_t cols) {
  if (rows > 0 && cols > 0 && !epilogue.empty()) chosen_kernels().epilogue(epilogue, c, ldc, i0, j0, rows, cols);
}

const char* sgemm_kernel_name() { return chosen_kernels().name; }
int sgemm_tile_rows() { return chosen_kernels().mr; }
int sgemm_tile_cols() { return chosen_kernels().nr; }

}  // namespace inferd
