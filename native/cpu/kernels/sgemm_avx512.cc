// sgemm's AVX-512 kernels: a 12×32 register tile (24 zmm accumulators: two vectors of C per row,
// enough rows that the two FMA ports always have independent work, and the 8 registers left hold
// op(B)'s two vectors and the broadcast of op(A)). Compiled for AVX-512 by a target pragma, whatever
// the build's -march, and only called where the CPU has it (sgemm.cc checks, once).
#include <algorithm>
#include <cstdint>

#include "cpu/kernels/elementwise_math.h"
#include "cpu/kernels/sgemm_kernels.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
// prefer-vector-width=512: GCC otherwise vectorises the epilogue's loops (GELU's erf, tanh, sigmoid)
// with 256-bit registers; full width measured 10% faster on BERT's GELU product.
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,prefer-vector-width=512")
#endif

namespace inferd {
namespace {

#include "cpu/kernels/sgemm_driver.h"

// ---- the epilogue, 16 columns at a time ------------------------------------------------------------
//
// The driver's portable epilogue (three loops per row, vectorised by the compiler) cost a third of
// the time of BERT's GELU product and a sixth of a bias-only one: per-tile loop overhead and GCC's
// erf spilling. Here one pass per row keeps each 16 columns in a register from load to store, and
// the activations are cpu::math's (elementwise_math.h) formulas, the same polynomials, on vectors.
#include "cpu/kernels/avx512_math.h"

struct vact_none_ {
  __m512 operator()(__m512 x) const { return x; }
};
struct vact_relu_ {  // x < 0 ? 0 : x (NaN kept, which max would not)
  __m512 operator()(__m512 x) const {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), x, _mm512_setzero_ps());
  }
};
struct vact_leaky_relu_ {
  float alpha;
  __m512 operator()(__m512 x) const {
    return _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), x, _mm512_set1_ps(alpha));
  }
};
struct vact_sigmoid_ {
  __m512 operator()(__m512 x) const {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, avx512_math::exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
  }
};
struct vact_tanh_ {
  __m512 operator()(__m512 x) const { return avx512_math::tanh(x); }
};
struct vact_gelu_ {
  __m512 operator()(__m512 x) const {
    const __m512 e = avx512_math::erf(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752440f)));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
  }
};
struct vact_gelu_tanh_ {
  __m512 operator()(__m512 x) const {
    const __m512 inner = _mm512_mul_ps(
        _mm512_set1_ps(0.79788456080286535588f),
        _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x), _mm512_mul_ps(x, x), x));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x),
                         _mm512_add_ps(_mm512_set1_ps(1.0f), avx512_math::tanh(inner)));
  }
};
struct vact_clip_ {
  float lo, hi;
  __m512 operator()(__m512 x) const {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, vlo, _CMP_LT_OQ), x, vlo);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(y, vhi, _CMP_GT_OQ), y, vhi);
  }
};

// max(0, min(1, y)), NaN kept (ordered compares are false for it), as op_hard_sigmoid does.
inline __m512 unit_clamp(__m512 y) {
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ), y, _mm512_setzero_ps());
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(y, _mm512_set1_ps(1.0f), _CMP_GT_OQ), y, _mm512_set1_ps(1.0f));
}
struct vact_hard_sigmoid_ {
  float alpha, beta;
  __m512 operator()(__m512 x) const {
    return unit_clamp(_mm512_fmadd_ps(_mm512_set1_ps(alpha), x, _mm512_set1_ps(beta)));
  }
};
struct vact_hard_swish_ {
  __m512 operator()(__m512 x) const {
    return _mm512_mul_ps(x, unit_clamp(_mm512_fmadd_ps(x, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f))));
  }
};

template <class Act>
void epilogue_avx512_with(const SgemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows,
                          int64_t cols, const Act& act) {
  const __m512 scale = _mm512_set1_ps(e.bias_scale);
  for (int64_t r = 0; r < rows; ++r) {
    float* y = c + r * ldc;
    const float* bias = e.bias ? e.bias + (i0 + r) * e.bias_row_step : nullptr;
    const float* residual = e.residual ? e.residual + (i0 + r) * e.residual_ld + j0 : nullptr;
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 m = cols - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (cols - j)) - 1);
      __m512 v = _mm512_maskz_loadu_ps(m, y + j);
      if (bias)
        v = _mm512_fmadd_ps(scale, e.bias_col_step == 1 ? _mm512_maskz_loadu_ps(m, bias + j0 + j) : _mm512_set1_ps(bias[0]),
                            v);
      if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + j));
      _mm512_mask_storeu_ps(y + j, m, act(v));
    }
  }
}

void epilogue_avx512(const SgemmEpilogue& e, float* c, int64_t ldc, int64_t i0, int64_t j0, int64_t rows,
                     int64_t cols) {
  switch (e.activation) {
    case SgemmActivation::none:
      if (e.bias || e.residual) epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_none_{});
      break;
    case SgemmActivation::relu: epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_relu_{}); break;
    case SgemmActivation::leaky_relu:
      epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_leaky_relu_{e.activation_alpha});
      break;
    case SgemmActivation::sigmoid: epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_sigmoid_{}); break;
    case SgemmActivation::tanh: epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_tanh_{}); break;
    case SgemmActivation::gelu: epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_gelu_{}); break;
    case SgemmActivation::gelu_tanh: epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_gelu_tanh_{}); break;
    case SgemmActivation::clip:
      epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_clip_{e.activation_alpha, e.activation_beta});
      break;
    case SgemmActivation::hard_sigmoid:
      epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_hard_sigmoid_{e.activation_alpha, e.activation_beta});
      break;
    case SgemmActivation::hard_swish: epilogue_avx512_with(e, c, ldc, i0, j0, rows, cols, vact_hard_swish_{}); break;
  }
}

struct Avx512 {
  static constexpr int MR = 12, NR = 32;
  // An MR×KC micro-panel of packed A (12 KiB) and a KC×NR micro-panel of packed B (32 KiB) share L1d
  // (48 KiB) while the micro-kernel streams the KC×NC block of packed B, 1 MiB, from L2 (2 MiB).
  static constexpr int64_t KC = 256, MC = 384, NC = 1024;
  static constexpr auto epilogue = &epilogue_avx512;

  // Where the micro-kernel reads op(A): at(i, dk) is row i, dk columns (values of k) ahead.
  // A packed micro-panel: MR values per k.
  struct PackedA {
    const float* a;
    float at(int i, int64_t dk) const { return a[dk * MR + i]; }
    void advance(int64_t dk) { a += dk * MR; }
  };
  // op(A) in place, rows lda apart: four row pointers three rows apart, so that every row is a
  // pointer plus 0, 1 or 2 lda (x86 addressing's scale 4 or 8 on lda): the compiler otherwise keeps
  // an offset per row and spills most of them.
  struct DirectA {
    const float* rows[4];
    int64_t lda;
    float at(int i, int64_t dk) const { return rows[i / 3][(i % 3) * lda + dk]; }
    void advance(int64_t dk) {
      for (const float*& r : rows) r += dk;
    }
  };

  // One k of the tile (dk ahead of a): two vectors of op(B) times R broadcasts of op(A).
  template <int R, class A>
  static inline __attribute__((always_inline)) void step(__m512 (&acc0)[R], __m512 (&acc1)[R], const A& a, int64_t dk,
                                                         const float* b) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(a.at(i, dk));
      acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
    }
  }

  // Packed B streams from L2 (this loop order keeps A's micro-panel in L1 instead), two lines per k,
  // and L1's own prefetcher only fetches the next line: asking 16 k (2 KiB) ahead hides L2's latency.
  // The micro-panels of a block are contiguous, so near a tile's end this fetches the next tile's
  // start. Measured +5-8% at 1024³–2048³ with B pre-packed, +2-4% packing B per call.
  static inline __attribute__((always_inline)) void prefetch_b(const float* b) {
    _mm_prefetch(reinterpret_cast<const char*>(b + 16 * NR), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 16 * NR + 16), _MM_HINT_T0);
  }

  // The finished tile into C: c = acc + beta·c (beta == 0: c not read), the first `cols` columns.
  template <int R>
  static inline __attribute__((always_inline)) void store(__m512 (&acc0)[R], __m512 (&acc1)[R], float* c, int64_t ldc,
                                                          float beta, int64_t cols) {
    const __m512 vbeta = _mm512_set1_ps(beta);
    if (cols == NR) {
#pragma GCC unroll 16
      for (int i = 0; i < R; ++i) {
        float* row = c + i * ldc;
        if (beta != 0) {
          acc0[i] = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row), acc0[i]);
          acc1[i] = _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row + 16), acc1[i]);
        }
        _mm512_storeu_ps(row, acc0[i]);
        _mm512_storeu_ps(row + 16, acc1[i]);
      }
      return;
    }
    // A tile cut by the right edge of C: masked loads and stores touch only the columns that exist.
    const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
    const __mmask16 m1 = cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      float* row = c + i * ldc;
      if (beta != 0) {
        acc0[i] = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m0, row), acc0[i]);
        acc1[i] = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m1, row + 16), acc1[i]);
      }
      _mm512_mask_storeu_ps(row, m0, acc0[i]);
      _mm512_mask_storeu_ps(row + 16, m1, acc1[i]);
    }
  }

  template <int R>
  static void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta, int64_t cols) {
    tile_from<R>(kc, PackedA{a}, b, c, ldc, beta, cols);
  }

  // The same tile reading op(A) where it lies, row-major with rows lda apart (a at row 0, column pc),
  // instead of from a packed micro-panel, as ONNX Runtime's MLAS does: packing A took ~6% of
  // BERT-h256 b1 (every product re-packs its activations; only the weights are packed at load).
  static constexpr bool direct_a = true;
  template <int R>
  // b_cold: this tile is in the first row block to read this block of packed B, which may still be
  // in L3; the later row blocks find it in L2, and asking L2 for the next micro-panel again only
  // costs them load slots (skipping it there measured 3-5% off BERT-h256's products at b1 and b8).
  static void tile_direct(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, float beta,
                          int64_t cols, bool b_cold) {
    const DirectA rows{{a, a + 3 * lda, a + 6 * lda, a + 9 * lda}, lda};
    if (b_cold) tile_from<R, true>(kc, rows, b, c, ldc, beta, cols);
    else tile_from<R, false>(kc, rows, b, c, ldc, beta, cols);
  }

  // kPrefetchNext: ask L2 for the next micro-panel of B while computing this one.
  template <int R, bool kPrefetchNext = true, class A>
  static inline __attribute__((always_inline)) void tile_from(int64_t kc, A a, const float* b, float* c, int64_t ldc,
                                                              float beta, int64_t cols) {
    __m512 acc0[R], acc1[R];
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
    if constexpr (R <= 2) {
      // One or two rows (a batch of one through prepacked weights) have too few accumulators to
      // cover the FMA latency: four interleaved sets over k, added at the end.
      __m512 p0[3][R], p1[3][R];
#pragma GCC unroll 4
      for (int s = 0; s < 3; ++s)
        for (int i = 0; i < R; ++i) p0[s][i] = p1[s][i] = _mm512_setzero_ps();
      int64_t k = 0;
      for (; k + 4 <= kc; k += 4, a.advance(4), b += 4 * NR) {
        step<R>(acc0, acc1, a, 0, b);
        step<R>(p0[0], p1[0], a, 1, b + NR);
        step<R>(p0[1], p1[1], a, 2, b + 2 * NR);
        step<R>(p0[2], p1[2], a, 3, b + 3 * NR);
      }
      for (; k < kc; ++k, a.advance(1), b += NR) step<R>(acc0, acc1, a, 0, b);
#pragma GCC unroll 4
      for (int i = 0; i < R; ++i) {
        acc0[i] = _mm512_add_ps(_mm512_add_ps(acc0[i], p0[0][i]), _mm512_add_ps(p0[1][i], p0[2][i]));
        acc1[i] = _mm512_add_ps(_mm512_add_ps(acc1[i], p1[0][i]), _mm512_add_ps(p1[1][i], p1[2][i]));
      }
      store<R>(acc0, acc1, c, ldc, beta, cols);
      return;
    }
    // C's rows are far apart (often a multiple of 4 KiB, so they compete for one L1 set): fetch them
    // near the end of the products, late enough that streaming B through L1 does not evict them.
    // Two loops rather than a test in one: a branch in the loop costs the register allocator its
    // grip on the 26 live vectors (a spill per k measured 30% slower).
    const int64_t prefetch_at = kc > 32 ? kc - 32 : 0;
    // Meanwhile ask L2 for the next micro-panel of B (packing places it right after this one): a
    // model's weights come from L3 on the first row block, and the hardware prefetcher alone left
    // that pass waiting on them (BERT-base-sized products at 128 rows ran 10-15% faster with this).
    const int64_t next = NR * kc;
    int64_t k = 0;
#pragma GCC unroll 4
    for (; k < prefetch_at; ++k, a.advance(1), b += NR) {
      prefetch_b(b);
      if constexpr (kPrefetchNext) {
        _mm_prefetch(reinterpret_cast<const char*>(b + next), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(b + next + 16), _MM_HINT_T1);
      }
      step<R>(acc0, acc1, a, 0, b);
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (; k < kc; ++k, a.advance(1), b += NR) {
      prefetch_b(b);
      step<R>(acc0, acc1, a, 0, b);
    }
    store<R>(acc0, acc1, c, ldc, beta, cols);
  }
};

}  // namespace

const SgemmKernels& sgemm_kernels_avx512_impl() { return Driver<Avx512>::table("avx512"); }

}  // namespace inferd

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace inferd {
const SgemmKernels& sgemm_kernels_avx512() { return sgemm_kernels_avx512_impl(); }
}  // namespace inferd

#else  // no x86 target attributes: the portable kernels stand in.
namespace inferd {
const SgemmKernels& sgemm_kernels_avx512() { return sgemm_kernels_portable(); }
}  // namespace inferd
#endif
