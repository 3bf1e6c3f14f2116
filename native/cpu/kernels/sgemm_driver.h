// The blocked SGEMM around one ISA's micro-kernel, in the Goto/BLIS structure:
//
//   for each NC-wide panel of op(B) and C                        (jc)
//     for each KC-deep slice of K                                (pc)  pack op(B)[pc:+KC, jc:+NC]
//       for each MC-tall block of op(A) and C                    (ic)  pack op(A)[ic:+MC, pc:+KC]
//         for each MR-tall micro-panel of packed A               (ir)
//           for each NR-wide micro-panel of packed B             (jr)  micro-kernel: MR×NR tile of C
//
// Packing copies each block once into the order the micro-kernel reads it (unit stride, aligned,
// zero-padded to whole tiles), whatever the caller's transposes and strides, so one micro-kernel
// serves every case. An MR×KC micro-panel of packed A (the broadcast operand) stays in L1 while the
// micro-kernel streams the KC×NC block of packed B (the vector operand) from L2; this order measured
// 10-15% faster at 1024³–2048³ than holding a B sliver in L1 and sweeping A from L2.
// A PackedB holds op(B) already in this form. An Isa whose kernel can read op(A) in place (direct_a
// below) skips A's packing when op(A) is neither transposed nor scaled by alpha.
//
// Not a normal header: each sgemm_<isa>.cc includes it after its own includes and after switching
// the compiler's target to its ISA, inside an anonymous namespace, so that every function here is
// compiled for that ISA and stays private to that file (no inline function compiled for AVX-512
// can then be picked by the linker for a caller on an older CPU). It therefore includes nothing but
// activation_functors.h, which is made to be included the same way: the including file provides
// <algorithm>, <cstdint>, sgemm_kernels.h and elementwise_math.h.
//
// An Isa provides MR, NR, KC, MC, NC, epilogue (apply_epilogue below, or its own with the same
// signature and results) and
//   template <int R> static void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
//                                     float beta, int64_t cols);
// computing rows [0, R) and columns [0, cols) (cols ≤ NR) of c = a·b + beta·c from a packed A
// micro-panel (k-major, MR floats per k) and a packed B micro-panel (k-major, NR floats per k).

#if defined(__SSE__)
#define INFERD_SGEMM_SSE_TRANSPOSE 1
#endif

template <class T> T ceil_div_(T a, T b) { return (a + b - 1) / b; }

// ---- the epilogue --------------------------------------------------------------------------------

struct act_none_ {
  float operator()(float x) const { return x; }
};
// The activations, shared with the activation ops: op_relu … op_hard_swish.
#include "cpu/kernels/activation_functors.h"

template <class Act>
void epilogue_with(const SgemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows,
                   int64_t cols, const Act& act) {
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict__ y = c + r * ldc;
    if (e.bias) {
      const float s = e.bias_scale;
      const float* row = e.bias + (i0 + r) * e.bias_row_step;
      if (e.bias_col_step == 1) {
        const float* __restrict__ b = row + j0;
        for (int64_t j = 0; j < cols; ++j) y[j] += s * b[j];
      } else {
        const float b = s * row[0];
        for (int64_t j = 0; j < cols; ++j) y[j] += b;
      }
    }
    if (e.residual) {
      const float* __restrict__ res = e.residual + (i0 + r) * e.residual_ld + j0;
      for (int64_t j = 0; j < cols; ++j) y[j] += res[j];
    }
    for (int64_t j = 0; j < cols; ++j) y[j] = act(y[j]);
  }
}

[[maybe_unused]] void apply_epilogue(const SgemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0,
                                     int64_t rows, int64_t cols) {
  switch (e.activation) {
    case SgemmActivation::none:
      if (e.bias || e.residual) epilogue_with(e, c, ldc, i0, j0, rows, cols, act_none_{});
      break;
    case SgemmActivation::relu: epilogue_with(e, c, ldc, i0, j0, rows, cols, op_relu{}); break;
    case SgemmActivation::leaky_relu:
      epilogue_with(e, c, ldc, i0, j0, rows, cols, op_leaky_relu{e.activation_alpha});
      break;
    case SgemmActivation::sigmoid: epilogue_with(e, c, ldc, i0, j0, rows, cols, op_sigmoid{}); break;
    case SgemmActivation::tanh: epilogue_with(e, c, ldc, i0, j0, rows, cols, op_tanh{}); break;
    case SgemmActivation::gelu: epilogue_with(e, c, ldc, i0, j0, rows, cols, op_gelu{}); break;
    case SgemmActivation::gelu_tanh: epilogue_with(e, c, ldc, i0, j0, rows, cols, op_gelu_tanh{}); break;
    case SgemmActivation::clip:
      epilogue_with(e, c, ldc, i0, j0, rows, cols, op_clip<float>{e.activation_alpha, e.activation_beta});
      break;
    case SgemmActivation::hard_sigmoid:
      epilogue_with(e, c, ldc, i0, j0, rows, cols, op_hard_sigmoid{e.activation_alpha, e.activation_beta});
      break;
    case SgemmActivation::hard_swish: epilogue_with(e, c, ldc, i0, j0, rows, cols, op_hard_swish{}); break;
  }
}

// ---- GEMV ------------------------------------------------------------------------------------------

// Σ_k x[k·incx]·w[k], vectorised through independent partial sums (strict IEEE order forbids the
// compiler from reassociating a single running sum).
float dot_(int64_t K, const float* x, int64_t incx, const float* w) {
  if (incx != 1) {
    float sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += x[k * incx] * w[k];
    return sum;
  }
  constexpr int kLanes = 32;
  float lanes[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += x[k + l] * w[k + l];
  float sum = 0;
  for (; k < K; ++k) sum += x[k] * w[k];
  for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  return sum;
}

void gemv_(int64_t j0, int64_t j1, int64_t K, float alpha, const float* x, int64_t incx, const float* w,
           int64_t ldw, bool w_trans, float beta, float* y, int64_t incy) {
  constexpr int64_t kChunk = 256;  // outputs per chunk: a stack accumulator that stays in L1
  for (int64_t c0 = j0; c0 < j1; c0 += kChunk) {
    const int64_t len = std::min(kChunk, j1 - c0);
    alignas(64) float acc[kChunk];
    if (!w_trans) {
      // Rows of W are contiguous: accumulate x[k] · row k into the chunk (an axpy per k), two rows
      // at a time to halve the accumulator traffic.
      for (int64_t j = 0; j < len; ++j) acc[j] = 0;
      int64_t k = 0;
      for (; k + 2 <= K; k += 2) {
        const float x0 = x[k * incx], x1 = x[(k + 1) * incx];
        const float* __restrict__ r0 = w + k * ldw + c0;
        const float* __restrict__ r1 = r0 + ldw;
        for (int64_t j = 0; j < len; ++j) acc[j] += x0 * r0[j] + x1 * r1[j];
      }
      for (; k < K; ++k) {
        const float xk = x[k * incx];
        const float* __restrict__ r0 = w + k * ldw + c0;
        for (int64_t j = 0; j < len; ++j) acc[j] += xk * r0[j];
      }
    } else {
      for (int64_t j = 0; j < len; ++j) acc[j] = dot_(K, x, incx, w + (c0 + j) * ldw);
    }
    float* out = y + c0 * incy;
    if (beta == 0) {
      for (int64_t j = 0; j < len; ++j) out[j * incy] = alpha * acc[j];
    } else {
      for (int64_t j = 0; j < len; ++j) out[j * incy] = alpha * acc[j] + beta * out[j * incy];
    }
  }
}

// ---- packing and the blocked loops -----------------------------------------------------------------

// Whether an Isa's kernel can also read op(A) unpacked: it then has `static constexpr bool direct_a
// = true` and tile_direct<R>(kc, a, lda, b, c, ldc, beta, cols, b_cold), row i of op(A) at a[i·lda];
// b_cold is true for the first row block that reads a block of B (B may still be in L3).
template <class I, class = void> struct has_direct_a : std::false_type {};
template <class I> struct has_direct_a<I, std::void_t<decltype(I::direct_a)>> : std::bool_constant<I::direct_a> {};

template <class Isa> struct Driver {
  static constexpr int MR = Isa::MR, NR = Isa::NR;
  static constexpr int64_t KC = Isa::KC, MC = Isa::MC, NC = Isa::NC;
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks hold whole register tiles");

  // op(A)[0:mc, 0:kc] (A points at the block) → MR-row micro-panels, each k-major (the MR values of
  // one k adjacent), scaled by alpha so that the micro-kernel need not; rows past mc are zero.
  static void pack_a(bool trans, int64_t mc, int64_t kc, const float* A, int64_t lda, float alpha, float* out) {
    for (int64_t ir = 0; ir < mc; ir += MR, out += MR * kc) {
      const int64_t rows = std::min<int64_t>(MR, mc - ir);
      if (trans) {
        for (int64_t k = 0; k < kc; ++k) {
          const float* src = A + k * lda + ir;
          float* dst = out + k * MR;
          for (int64_t i = 0; i < rows; ++i) dst[i] = alpha * src[i];
          for (int64_t i = rows; i < MR; ++i) dst[i] = 0.0f;
        }
        continue;
      }
      int64_t i = 0;
#if INFERD_SGEMM_SSE_TRANSPOSE
      // Four rows × four k at a time through an SSE transpose: the rows are read with unit stride
      // and each k's four values stored together, where a scalar copy spends a store per element.
      const __m128 va = _mm_set1_ps(alpha);
      for (; i + 4 <= rows; i += 4) {
        const float* s0 = A + (ir + i) * lda;
        const float* s1 = s0 + lda;
        const float* s2 = s1 + lda;
        const float* s3 = s2 + lda;
        float* dst = out + i;
        int64_t k = 0;
        for (; k + 4 <= kc; k += 4) {
          // Ask for each row's lines a little ahead: four streams 4 KiB or more apart are more than
          // the hardware prefetcher picks up at once (measured 2-3% of a 1024³ product).
          if ((k & 15) == 0) {
            __builtin_prefetch(s0 + k + 64);
            __builtin_prefetch(s1 + k + 64);
            __builtin_prefetch(s2 + k + 64);
            __builtin_prefetch(s3 + k + 64);
          }
          __m128 r0 = _mm_mul_ps(va, _mm_loadu_ps(s0 + k)), r1 = _mm_mul_ps(va, _mm_loadu_ps(s1 + k));
          __m128 r2 = _mm_mul_ps(va, _mm_loadu_ps(s2 + k)), r3 = _mm_mul_ps(va, _mm_loadu_ps(s3 + k));
          _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
          _mm_storeu_ps(dst + (k + 0) * MR, r0);
          _mm_storeu_ps(dst + (k + 1) * MR, r1);
          _mm_storeu_ps(dst + (k + 2) * MR, r2);
          _mm_storeu_ps(dst + (k + 3) * MR, r3);
        }
        for (; k < kc; ++k) {
          dst[k * MR + 0] = alpha * s0[k];
          dst[k * MR + 1] = alpha * s1[k];
          dst[k * MR + 2] = alpha * s2[k];
          dst[k * MR + 3] = alpha * s3[k];
        }
      }
#endif
      for (; i < rows; ++i) {
        const float* src = A + (ir + i) * lda;
        for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = alpha * src[k];
      }
      for (i = rows; i < MR; ++i)
        for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = 0.0f;
    }
  }

  // op(B)[0:kc, 0:nc] (B points at the block) → NR-column micro-panels, each k-major (the NR values
  // of one k adjacent); columns past nc are zero.
  static void pack_b(bool trans, int64_t kc, int64_t nc, const float* B, int64_t ldb, float* out) {
    if (!trans) {
      for (int64_t jr = 0; jr < nc; jr += NR, out += NR * kc) {
        const int64_t cols = std::min<int64_t>(NR, nc - jr);
        if (cols == NR) {
          for (int64_t k = 0; k < kc; ++k) {
            const float* __restrict__ src = B + k * ldb + jr;
            float* __restrict__ dst = out + k * NR;
            for (int j = 0; j < NR; ++j) dst[j] = src[j];
          }
        } else {
          for (int64_t k = 0; k < kc; ++k) {
            const float* src = B + k * ldb + jr;
            float* dst = out + k * NR;
            for (int64_t j = 0; j < cols; ++j) dst[j] = src[j];
            for (int64_t j = cols; j < NR; ++j) dst[j] = 0.0f;
          }
        }
      }
      return;
    }
    for (int64_t jr = 0; jr < nc; jr += NR, out += NR * kc) {
      const int64_t cols = std::min<int64_t>(NR, nc - jr);
      {
        int64_t j = 0;
#if INFERD_SGEMM_SSE_TRANSPOSE
        for (; j + 4 <= cols; j += 4) {
          const float* s0 = B + (jr + j) * ldb;
          const float* s1 = s0 + ldb;
          const float* s2 = s1 + ldb;
          const float* s3 = s2 + ldb;
          float* dst = out + j;
          int64_t k = 0;
          for (; k + 4 <= kc; k += 4) {
            __m128 r0 = _mm_loadu_ps(s0 + k), r1 = _mm_loadu_ps(s1 + k);
            __m128 r2 = _mm_loadu_ps(s2 + k), r3 = _mm_loadu_ps(s3 + k);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(dst + (k + 0) * NR, r0);
            _mm_storeu_ps(dst + (k + 1) * NR, r1);
            _mm_storeu_ps(dst + (k + 2) * NR, r2);
            _mm_storeu_ps(dst + (k + 3) * NR, r3);
          }
          for (; k < kc; ++k) {
            dst[k * NR + 0] = s0[k];
            dst[k * NR + 1] = s1[k];
            dst[k * NR + 2] = s2[k];
            dst[k * NR + 3] = s3[k];
          }
        }
#endif
        for (; j < cols; ++j) {
          const float* src = B + (jr + j) * ldb;
          for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = src[k];
        }
        for (j = cols; j < NR; ++j)
          for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = 0.0f;
      }
    }
  }

  // The micro-kernel for `rows` rows (1 … MR): a chain of compile-time row counts, so that a short
  // edge (a batch of a few rows) runs a kernel with only the accumulators it needs.
  template <int R>
  static void tile_rows(int64_t rows, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                        float beta, int64_t cols) {
    if constexpr (R > 1) {
      if (rows < R) {
        tile_rows<R - 1>(rows, kc, a, b, c, ldc, beta, cols);
        return;
      }
    }
    Isa::template tile<R>(kc, a, b, c, ldc, beta, cols);
  }

  // Likewise for an Isa whose kernel can read op(A) unpacked (rows lda apart).
  template <int R>
  static void tile_rows_direct(int64_t rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                               int64_t ldc, float beta, int64_t cols, bool b_cold) {
    if constexpr (R > 1) {
      if (rows < R) {
        tile_rows_direct<R - 1>(rows, kc, a, lda, b, c, ldc, beta, cols, b_cold);
        return;
      }
    }
    Isa::template tile_direct<R>(kc, a, lda, b, c, ldc, beta, cols, b_cold);
  }

  static void gemm(const SgemmProblem& p, int64_t m_begin, int64_t m_end, int64_t n_begin, int64_t n_end) {
    const int64_t k_block = std::min(p.K, KC);
    float* a_pack = sgemm_scratch(0, ceil_div_(std::min(m_end - m_begin, MC), int64_t{MR}) * MR * k_block);
    float* b_pack = p.packed_b ? nullptr
                               : sgemm_scratch(1, ceil_div_(std::min(n_end - n_begin, NC), int64_t{NR}) * NR * k_block);
    // op(A) read in place where the kernel can and nothing needs packing's help: no transpose, no
    // alpha to fold in.
    [[maybe_unused]] const bool direct_a = !p.trans_a && p.alpha == 1.0f;
    for (int64_t jc = n_begin; jc < n_end;) {
      // Panels end at multiples of NC, where a prepacked B's panels end.
      const int64_t jc_end = std::min(n_end, (jc / NC + 1) * NC), nc = jc_end - jc;
      for (int64_t pc = 0; pc < p.K; pc += KC) {
        const int64_t kc = std::min(KC, p.K - pc);
        const float* b_block = b_pack;
        if (p.packed_b) b_block = p.packed_b->block(pc, jc);
        else pack_b(p.trans_b, kc, nc, p.trans_b ? p.B + jc * p.ldb + pc : p.B + pc * p.ldb + jc, p.ldb, b_pack);
        // The first slice of K applies the caller's beta; later slices add to what it wrote; the
        // last one completes each tile, which then gets its epilogue while still in L1.
        const float beta = pc == 0 ? p.beta : 1.0f;
        const SgemmEpilogue* epilogue = pc + kc == p.K ? p.epilogue : nullptr;
        for (int64_t ic = m_begin; ic < m_end; ic += MC) {
          const int64_t mc = std::min(MC, m_end - ic);
          if constexpr (has_direct_a<Isa>::value) {
            if (direct_a) {
              for (int64_t ir = 0; ir < mc; ir += MR) {
                const int64_t rows = std::min<int64_t>(MR, mc - ir);
                const float* a = p.A + (ic + ir) * p.lda + pc;
                for (int64_t jr = 0; jr < nc; jr += NR) {
                  const int64_t cols = std::min<int64_t>(NR, nc - jr);
                  float* c = p.C + (ic + ir) * p.ldc + jc + jr;
                  tile_rows_direct<MR>(rows, kc, a, p.lda, b_block + jr * kc, c, p.ldc, beta, cols, ir == 0);
                  if (epilogue) Isa::epilogue(*epilogue, c, p.ldc, ic + ir, jc + jr, rows, cols);
                }
              }
              continue;
            }
          }
          pack_a(p.trans_a, mc, kc, p.trans_a ? p.A + pc * p.lda + ic : p.A + ic * p.lda + pc, p.lda, p.alpha,
                 a_pack);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t rows = std::min<int64_t>(MR, mc - ir);
            for (int64_t jr = 0; jr < nc; jr += NR) {
              const int64_t cols = std::min<int64_t>(NR, nc - jr);
              const float* b = b_block + jr * kc;
              float* c = p.C + (ic + ir) * p.ldc + jc + jr;
              tile_rows<MR>(rows, kc, a_pack + ir * kc, b, c, p.ldc, beta, cols);
              if (epilogue) Isa::epilogue(*epilogue, c, p.ldc, ic + ir, jc + jr, rows, cols);
            }
          }
        }
      }
      jc = jc_end;
    }
  }

  static const SgemmKernels& table(const char* name) {
    static const SgemmKernels kernels{name, MR, NR, KC, MC, NC, gemm, pack_b, gemv_, Isa::epilogue};
    return kernels;
  }
};
