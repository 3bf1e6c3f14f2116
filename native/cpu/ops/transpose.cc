// CPU kernel of Transpose. Every transpose is first reduced to its essentials (see simplify): most
// real ones (NCHW <-> NHWC, attention's [B, S, H, D] -> [B, H, S, D], matrix transposes) become a
// batched 2-D transpose of contiguous blocks. Any transpose is then a set of 2-D ones (see
// transpose_layout), done in cache-line tiles with SIMD register transposes where the block size
// has one, and with plain copies (the portable reference path) where it has none.
#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

// Copies one block of B bytes, or of `bytes` when B is 0 (sizes known only at run time). A fixed-size
// memcpy compiles to plain moves and, unlike a typed load, needs no alignment.
template <size_t B> inline void copy_block(char* dst, const char* src, size_t bytes) {
  if constexpr (B != 0) std::memcpy(dst, src, B);
  else std::memcpy(dst, src, bytes);
}

// Calls fn(std::integral_constant<size_t, B>) with B = `bytes` for the common sizes, else B = 0.
template <typename Fn> void with_block_size(size_t bytes, Fn&& fn) {
  switch (bytes) {
    case 1: fn(std::integral_constant<size_t, 1>{}); break;
    case 2: fn(std::integral_constant<size_t, 2>{}); break;
    case 4: fn(std::integral_constant<size_t, 4>{}); break;
    case 8: fn(std::integral_constant<size_t, 8>{}); break;
    case 16: fn(std::integral_constant<size_t, 16>{}); break;
    default: fn(std::integral_constant<size_t, 0>{}); break;
  }
}

// A transpose reduced to its essentials: dims of size 1 dropped (they move nothing), input axes that
// stay adjacent and in order merged into one, and a trailing axis that stays innermost folded into the
// element, which becomes a contiguous block of `block` bytes. After this, rank is 0 (a plain copy) or
// at least 2, and perm[rank - 1] != rank - 1.
struct Layout {
  int rank = 0;
  int64_t dims[kMaxRank] = {};  // input dims, in blocks
  int perm[kMaxRank] = {};      // output axis i is input axis perm[i]
  size_t block = 0;             // bytes moved as one element
};

Layout simplify(const Shape& in, const int* perm, size_t element_bytes) {
  const int rank = static_cast<int>(in.size());

  int renumbered[kMaxRank];  // input axis -> its index once size-1 dims are gone, or -1
  int64_t dims[kMaxRank];
  int kept = 0;
  for (int a = 0; a < rank; ++a) {
    renumbered[a] = in[static_cast<size_t>(a)] == 1 ? -1 : kept;
    if (renumbered[a] >= 0) dims[kept++] = in[static_cast<size_t>(a)];
  }
  int p[kMaxRank];
  int n = 0;
  for (int i = 0; i < rank; ++i)
    if (renumbered[perm[i]] >= 0) p[n++] = renumbered[perm[i]];

  // Input axis a joins axis a - 1 when the output reads them one after the other.
  bool joins_previous[kMaxRank] = {};
  for (int i = 0; i + 1 < n; ++i)
    if (p[i + 1] == p[i] + 1) joins_previous[p[i + 1]] = true;
  Layout out;
  int group_of[kMaxRank];
  int groups = 0;
  for (int a = 0; a < n; ++a) {
    if (!joins_previous[a]) out.dims[groups++] = 1;
    group_of[a] = groups - 1;
    out.dims[groups - 1] *= dims[a];
  }
  out.rank = groups;
  int m = 0;
  for (int i = 0; i < n; ++i)
    if (i == 0 || p[i] != p[i - 1] + 1) out.perm[m++] = group_of[p[i]];

  out.block = element_bytes;
  if (out.rank > 0 && out.perm[out.rank - 1] == out.rank - 1) {
    out.block *= static_cast<size_t>(out.dims[out.rank - 1]);
    --out.rank;
  }
  return out;
}

// ---- 2-D tiles -----------------------------------------------------------------------------------
// A rows x cols matrix of blocks read with row stride src_ld is written transposed with row stride
// dst_ld (strides in blocks). Tiles are as many blocks a side as fill a 64-byte cache line, so every
// line of a tile is read whole and written whole, at once: with strides that are powers of two every
// row maps to the same cache set, and lines revisited later would have been evicted by then.

template <size_t B> constexpr int64_t tile_side() { return B == 0 ? 8 : B >= 64 ? 1 : static_cast<int64_t>(64 / B); }

// The portable path: block by block, writing each output row in order.
template <size_t B>
void transpose_small(const char* src, size_t src_ld, char* dst, size_t dst_ld, int64_t rows, int64_t cols, size_t b) {
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t r = 0; r < rows; ++r)
      copy_block<B>(dst + (static_cast<size_t>(c) * dst_ld + static_cast<size_t>(r)) * b,
                    src + (static_cast<size_t>(r) * src_ld + static_cast<size_t>(c)) * b, b);
}

#if defined(__SSE2__)
// n x n blocks of 16 / n bytes, one row per register: interleaving row i with row i + n/2, log2(n)
// times over, leaves the transpose (the perfect shuffle applied log2(n) times to row indices).
template <int n, typename Interleave>
inline void transpose_sse(const char* src, size_t src_ld, char* dst, size_t dst_ld, Interleave interleave) {
  __m128i r[n], t[n];
  for (int i = 0; i < n; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + static_cast<size_t>(i) * src_ld));
  for (int round = 1; round < n; round *= 2) {
    for (int i = 0; i < n / 2; ++i) interleave(r[i], r[i + n / 2], &t[2 * i], &t[2 * i + 1]);
    for (int i = 0; i < n; ++i) r[i] = t[i];
  }
  for (int i = 0; i < n; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + static_cast<size_t>(i) * dst_ld), r[i]);
}

inline void transpose_16x16_b1(const char* src, size_t src_ld, char* dst, size_t dst_ld) {
  transpose_sse<16>(src, src_ld, dst, dst_ld, [](__m128i a, __m128i b, __m128i* lo, __m128i* hi) {
    *lo = _mm_unpacklo_epi8(a, b);
    *hi = _mm_unpackhi_epi8(a, b);
  });
}

inline void transpose_8x8_b2(const char* src, size_t src_ld, char* dst, size_t dst_ld) {
  transpose_sse<8>(src, src_ld * 2, dst, dst_ld * 2, [](__m128i a, __m128i b, __m128i* lo, __m128i* hi) {
    *lo = _mm_unpacklo_epi16(a, b);
    *hi = _mm_unpackhi_epi16(a, b);
  });
}
#endif

#if defined(__AVX__)
// 8 x 8 floats (any 4-byte type): unpack pairs, then quads, then 128-bit halves.
inline void transpose_8x8_b4(const char* src, size_t src_ld, char* dst, size_t dst_ld) {
  const float* s = reinterpret_cast<const float*>(src);
  float* d = reinterpret_cast<float*>(dst);
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + static_cast<size_t>(i) * src_ld);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(d + static_cast<size_t>(i) * dst_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(d + static_cast<size_t>(i + 4) * dst_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// 4 x 4 doubles (any 8-byte type).
inline void transpose_4x4_b8(const char* src, size_t src_ld, char* dst, size_t dst_ld) {
  const double* s = reinterpret_cast<const double*>(src);
  double* d = reinterpret_cast<double*>(dst);
  __m256d r[4];
  for (int i = 0; i < 4; ++i) r[i] = _mm256_loadu_pd(s + static_cast<size_t>(i) * src_ld);
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(d + dst_ld, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(d + 2 * dst_ld, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(d + 3 * dst_ld, _mm256_permute2f128_pd(t1, t3, 0x31));
}
#endif

// The side of the square of blocks a register micro-kernel moves; 0 when there is none.
template <size_t B> constexpr int64_t micro_side() {
#if defined(__SSE2__)
  if (B == 1) return 16;
  if (B == 2) return 8;
#endif
#if defined(__AVX__)
  if (B == 4) return 8;
  if (B == 8) return 4;
#endif
  return 0;
}

template <size_t B> inline void transpose_micro(const char* src, size_t src_ld, char* dst, size_t dst_ld) {
#if defined(__SSE2__)
  if constexpr (B == 1) transpose_16x16_b1(src, src_ld, dst, dst_ld);
  if constexpr (B == 2) transpose_8x8_b2(src, src_ld, dst, dst_ld);
#endif
#if defined(__AVX__)
  if constexpr (B == 4) transpose_8x8_b4(src, src_ld, dst, dst_ld);
  if constexpr (B == 8) transpose_4x4_b8(src, src_ld, dst, dst_ld);
#endif
}

// One tile of at most tile_side x tile_side blocks.
template <size_t B>
void transpose_tile(const char* src, size_t src_ld, char* dst, size_t dst_ld, int64_t rows, int64_t cols, size_t b) {
  constexpr int64_t t = tile_side<B>(), m = micro_side<B>();
  if constexpr (m != 0) {
    if (rows == t && cols == t) {
      for (int64_t c = 0; c < t; c += m)
        for (int64_t r = 0; r < t; r += m)
          transpose_micro<B>(src + (static_cast<size_t>(r) * src_ld + static_cast<size_t>(c)) * B, src_ld,
                             dst + (static_cast<size_t>(c) * dst_ld + static_cast<size_t>(r)) * B, dst_ld);
      return;
    }
  }
  transpose_small<B>(src, src_ld, dst, dst_ld, rows, cols, b);  // ragged edges; sizes without a micro-kernel
}

// A panel of tiles: rows [r_begin, r_end) by columns [c_begin, c_end). Panels bound how many pages
// one pass touches (a long column of input rows would miss the TLB on every row).
template <size_t B>
void transpose_panel(const char* src, size_t src_ld, char* dst, size_t dst_ld, int64_t r_begin, int64_t r_end,
                     int64_t c_begin, int64_t c_end, size_t b) {
  constexpr int64_t t = tile_side<B>();
  for (int64_t c = c_begin; c < c_end; c += t)
    for (int64_t r = r_begin; r < r_end; r += t)
      transpose_tile<B>(src + (static_cast<size_t>(r) * src_ld + static_cast<size_t>(c)) * b, src_ld,
                        dst + (static_cast<size_t>(c) * dst_ld + static_cast<size_t>(r)) * b, dst_ld,
                        std::min(t, r_end - r), std::min(t, c_end - c), b);
}

// ---- Any permutation -----------------------------------------------------------------------------
// The input's innermost axis (contiguous when read) and the output's innermost axis (contiguous when
// written) are the columns and the rows of a 2-D transpose; every other axis repeats it at an offset.

// Enough work per parallel chunk to outweigh waking a thread.
constexpr int64_t kBytesPerTask = 64 * 1024;

template <size_t B>
void transpose_layout(const char* in, char* out, const Layout& layout, ThreadPool& threads) {
  const size_t b = B != 0 ? B : layout.block;
  const int rank = layout.rank;
  int64_t in_strides[kMaxRank], out_dims[kMaxRank], out_strides[kMaxRank];
  int64_t stride = 1;
  for (int a = rank - 1; a >= 0; --a) {
    in_strides[a] = stride;
    stride *= layout.dims[a];
  }
  for (int i = 0; i < rank; ++i) out_dims[i] = layout.dims[layout.perm[i]];
  stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    out_strides[i] = stride;
    stride *= out_dims[i];
  }

  // The matrix: rows along output axis rank - 1, columns along input axis rank - 1 (output axis q).
  int q = 0;
  while (layout.perm[q] != rank - 1) ++q;
  const int64_t rows = out_dims[rank - 1], cols = layout.dims[rank - 1];
  const size_t src_ld = static_cast<size_t>(in_strides[layout.perm[rank - 1]]);
  const size_t dst_ld = static_cast<size_t>(out_strides[q]);

  // The other axes, in output order, with the steps they take in the input and the output.
  int64_t dims[kMaxRank], in_steps[kMaxRank], out_steps[kMaxRank];
  int outer_rank = 0;
  int64_t outer = 1;
  for (int i = 0; i < rank - 1; ++i) {
    if (i == q) continue;
    dims[outer_rank] = out_dims[i];
    in_steps[outer_rank] = in_strides[layout.perm[i]];
    out_steps[outer_rank] = out_strides[i];
    outer *= out_dims[i];
    ++outer_rank;
  }

  // Tasks: (matrix, row panel, column panel), column panel fastest. A panel is 8 x 8 tiles.
  const int64_t side = 8 * tile_side<B>();
  const int64_t row_panels = (rows + side - 1) / side, col_panels = (cols + side - 1) / side;
  const int64_t task_bytes = std::min(rows, side) * std::min(cols, side) * static_cast<int64_t>(b);
  threads.parallel_for(outer * row_panels * col_panels, std::max<int64_t>(1, kBytesPerTask / task_bytes),
                       [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t cp = task % col_panels, rp = task / col_panels % row_panels;
      int64_t matrix = task / col_panels / row_panels;
      int64_t in_offset = 0, out_offset = 0;
      for (int k = outer_rank - 1; k >= 0; --k) {
        const int64_t index = matrix % dims[k];
        matrix /= dims[k];
        in_offset += index * in_steps[k];
        out_offset += index * out_steps[k];
      }
      transpose_panel<B>(in + static_cast<size_t>(in_offset) * b, src_ld, out + static_cast<size_t>(out_offset) * b,
                         dst_ld, rp * side, std::min(rows, (rp + 1) * side), cp * side,
                         std::min(cols, (cp + 1) * side), b);
    }
  });
}

// ---- The kernel ----------------------------------------------------------------------------------

class TransposeKernel final : public Kernel {
 public:
  TransposeKernel(const Node& node, std::vector<int64_t> perm) : label_(node.label()), perm_(std::move(perm)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& in = ctx.input(0);
    Tensor& out = ctx.output(0);
    const int rank = in.rank();
    if (rank > kMaxRank) fail(ErrorKind::runtime, label_, ": input rank ", rank, " exceeds the supported ", kMaxRank);
    if (!perm_.empty() && static_cast<int>(perm_.size()) != rank)
      fail(ErrorKind::runtime, label_, ": attribute 'perm' has ", perm_.size(), " entries but the input shape ",
           shape_to_string(in.shape), " has rank ", rank);
    if (out.nbytes() != in.nbytes() || out.dtype != in.dtype)
      fail(ErrorKind::runtime, label_, ": output ", shape_to_string(out.shape), " does not match input ",
           shape_to_string(in.shape));
    if (in.nbytes() == 0) return;

    int perm[kMaxRank];
    for (int i = 0; i < rank; ++i) perm[i] = perm_.empty() ? rank - 1 - i : static_cast<int>(perm_[static_cast<size_t>(i)]);
    const Layout layout = simplify(in.shape, perm, dtype_size(in.dtype));
    const char* src = static_cast<const char*>(in.data);
    char* dst = static_cast<char*>(out.data);
    ThreadPool& threads = *ctx.threads;

    if (layout.rank == 0) {
      std::memcpy(dst, src, in.nbytes());
      return;
    }
    with_block_size(layout.block, [&](auto size) { transpose_layout<decltype(size)::value>(src, dst, layout, threads); });
  }

 private:
  std::string label_;
  std::vector<int64_t> perm_;  // empty: reverse the dims
};

std::unique_ptr<Kernel> make_transpose(const KernelInit& init) {
  std::vector<int64_t> perm = init.attributes().get_ints("perm", {});
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[static_cast<size_t>(p)])
      fail(ErrorKind::invalid_model, init.node.label(), ": attribute 'perm' ", shape_to_string(perm),
           " is not a permutation");
    seen[static_cast<size_t>(p)] = true;
  }
  return std::make_unique<TransposeKernel>(init.node, std::move(perm));
}

}  // namespace

INFERD_CPU_KERNEL("Transpose", 1, kMaxOpset, make_transpose);

}  // namespace inferd
