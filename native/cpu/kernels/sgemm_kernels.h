// The seam between sgemm's ISA-independent front end (sgemm.cc: argument handling, threads,
// PackedB) and the per-ISA code (sgemm_avx512.cc, sgemm_avx2.cc, sgemm_portable.cc, each the
// blocked loops of sgemm_driver.h around its own micro-kernel). One table per ISA; sgemm.cc picks
// one at first use from the CPU's features.
#pragma once

#include <cstdint>

#include "cpu/kernels/sgemm.h"

namespace inferd {

// A product as sgemm was given it; op(B) is either raw (packed block by block as it is used) or
// prepacked (packed_b set; B, ldb and trans_b then unused). epilogue is null or not empty.
struct SgemmProblem {
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
  const SgemmEpilogue* epilogue;
};

struct SgemmKernels {
  const char* name;
  int mr, nr;           // the register tile
  int64_t kc, mc, nc;   // the cache blocks (multiples of the tile)

  // The blocked product for rows [m0, m1) and columns [n0, n1) of C, on the calling thread (n0 a
  // multiple of nr, as prepacked panels need), epilogue included.
  void (*gemm)(const SgemmProblem& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
  // op(B)[0:kc, 0:nc] (B pointing at the block) into nr-wide micro-panels, each k-major, columns
  // past nc zero: the layout gemm reads (and PackedB holds).
  void (*pack_b)(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* out);
  // y[j·incy] = alpha · Σ_k x[k·incx]·W(k, j) + beta · y[j·incy] for j in [j0, j1), where W(k, j) is
  // w[k·ldw + j] (w_trans false) or w[j·ldw + k] (w_trans true).
  void (*gemv)(int64_t j0, int64_t j1, int64_t K, float alpha, const float* x, int64_t incx, const float* w,
               int64_t ldw, bool w_trans, float beta, float* y, int64_t incy);
  // The epilogue on rows [i0, i0+rows) × columns [j0, j0+cols) of C (c points at C[i0, j0]).
  void (*epilogue)(const SgemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows,
                   int64_t cols);
};

// The tables, each defined in its ISA's file. Only call into one the CPU supports.
const SgemmKernels& sgemm_kernels_portable();
const SgemmKernels& sgemm_kernels_avx2();    // the portable table where the compiler cannot target AVX2
const SgemmKernels& sgemm_kernels_avx512();  // likewise

// Packing memory of the calling thread (slot 0: A, 1: B), at least `floats` floats, 64-byte
// aligned; grown when a larger block is needed and then reused, so that after a thread's first
// product at a given size sgemm allocates nothing.
float* sgemm_scratch(int slot, int64_t floats);

}  // namespace inferd
