// The direct convolution's AVX-512 kernels (see conv_direct.h). Compiled for AVX-512 by a target
// pragma, whatever the build's -march, and only called where the CPU has it (available()).
#include "cpu/kernels/conv_direct.h"

#include <algorithm>
#include <cstring>

#include "cpu/kernels/cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define INFERD_CONV_DIRECT 1
#endif

namespace inferd {
namespace conv_direct {
namespace {

constexpr int64_t kLanes = 16;
constexpr int NQ = kBlockPositions / kLanes, NM = kBlockChannels;
constexpr int kDepthwiseVectors = kDepthwisePositions / kLanes;
// Input channels summed per pass over a band (measured on 56²×64 and 28²×128 3×3 convs: 32 is
// 3-5% faster than 64 or all of them, 16 and 8 slower again): 32 channels' input rows, about 30 KiB
// at ResNet's widths, stay in L1 while the band's blocks walk along them.
constexpr int64_t kChunk = 32;
// A band of output rows holds about this many positions: enough blocks that the one left partly
// used at its end costs little, and enough bands for threads to share.
constexpr int64_t kBandPositions = 1024;

#if INFERD_CONV_DIRECT
// Only the kernels are compiled for AVX-512: the rest of this file runs on any CPU.
#include "cpu/kernels/avx512_target_begin.h"

// The output positions among the 16 lanes of plane-row positions [qv, qv + 16) ∩ [qv, q_end): a
// vector's lanes may fall in two or more plane rows, and each row's lanes [j, j + n) that are inside
// the output are one call store(mask, at), `at` the output index j floats before the first of them
// (so that a masked store at y + at puts lane j there; masked-off lanes are never touched).
template <typename Store>
inline void for_each_row_part(const Layout& l, int64_t qv, int64_t q_end, Store&& store) {
  for (int64_t j = 0; j < kLanes && qv + j < q_end;) {
    const int64_t q = qv + j, row = q / l.Wq, col = q - row * l.Wq;
    const int64_t n = std::min({kLanes - j, l.Wq - col, q_end - q});
    if (col < l.OW) {
      const int64_t valid = std::min(n, l.OW - col);
      store(static_cast<__mmask16>(((1u << valid) - 1u) << j), row * l.OW + col - j);
    }
    j += n;
  }
}

// Positions [q0, q0 + kBlockPositions) of a plane row for the kBlockChannels channels whose packed
// filter is `filter`, summed over input channels [c0, c1) and added to `partial` (or to the bias when
// `first`); when `last`, the sum goes to y instead: positions before q_end and inside the output,
// channels below `channels`.
void block(const Layout& l, const int64_t* chunk_offsets, const float* xq, const float* filter, const float* bias,
           int64_t q0, int64_t q_end, int64_t channels, float* y, int64_t c0, int64_t c1, float* partial, bool first,
           bool last, const Finish& finish) {
  const int64_t taps = l.KH * l.KW, channel_floats = l.channel_floats();
  __m512 acc[NM][NQ];
  for (int m = 0; m < NM; ++m)
    for (int i = 0; i < NQ; ++i) acc[m][i] = _mm512_setzero_ps();
  // Channels and taps as one loop (the packed filter is [c][tap][NM], so its pointer just steps on):
  // a loop per channel of 9 taps ran 3-5% slower. Not unrolled: unrolled over a filter row, GCC
  // rotates the accumulators between registers and spills some, and the loop ran 20% slower.
  const float* base = xq + c0 * channel_floats + q0;
  const float* w = filter + c0 * taps * NM;
  const int64_t steps = (c1 - c0) * taps;
#pragma GCC unroll 1
  for (int64_t j = 0; j < steps; ++j, w += NM) {
    const float* in = base + chunk_offsets[j];
    __m512 x[NQ];
    for (int i = 0; i < NQ; ++i) x[i] = _mm512_loadu_ps(in + i * kLanes);
    for (int m = 0; m < NM; ++m) {
      const __m512 wm = _mm512_set1_ps(w[m]);
      for (int i = 0; i < NQ; ++i) acc[m][i] = _mm512_fmadd_ps(x[i], wm, acc[m][i]);
    }
  }
  for (int m = 0; m < NM; ++m)
    for (int i = 0; i < NQ; ++i)
      acc[m][i] = _mm512_add_ps(acc[m][i], first ? _mm512_set1_ps(bias[m]) : _mm512_loadu_ps(partial + (m * NQ + i) * kLanes));
  if (!last) {
    for (int m = 0; m < NM; ++m)
      for (int i = 0; i < NQ; ++i) _mm512_storeu_ps(partial + (m * NQ + i) * kLanes, acc[m][i]);
    return;
  }
  const int64_t plane = l.OH * l.OW;
  const __m512 lo = _mm512_set1_ps(finish.lo), hi = _mm512_set1_ps(finish.hi);
  for (int i = 0; i < NQ; ++i)
    for_each_row_part(l, q0 + i * kLanes, q_end, [&](__mmask16 mask, int64_t at) {
      for (int64_t m = 0; m < channels; ++m) {
        __m512 v = acc[m][i];
        if (finish.z) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, finish.z + at + m * plane));
        // max(lo, v) and min(hi, v) return v when it is NaN, as the scalar epilogue's compares do.
        // (The masked forms, all lanes on, because GCC 12 warns about the plain ones' undefined
        // pass-through operand.)
        v = _mm512_mask_max_ps(v, 0xFFFF, lo, v);
        v = _mm512_mask_min_ps(v, 0xFFFF, hi, v);
        _mm512_mask_storeu_ps(y + at + m * plane, mask, v);
      }
    });
}

// One depthwise output plane (stride and dilation by phase, as for `block`): kDepthwiseVectors
// vectors at a time, enough independent sums to cover the multiply-add's latency.
void depthwise(const Layout& l, const float* xq, const float* w, float bias, float* y) {
  constexpr int NV = kDepthwiseVectors;
  const int64_t taps = l.KH * l.KW, q_end = (l.OH - 1) * l.Wq + l.OW;
  for (int64_t q0 = 0; q0 < q_end; q0 += NV * kLanes) {
    __m512 acc[NV];
    for (int i = 0; i < NV; ++i) acc[i] = _mm512_set1_ps(bias);
    for (int64_t t = 0; t < taps; ++t) {
      const float* in = xq + q0 + l.offsets[t];
      const __m512 wt = _mm512_set1_ps(w[t]);
      for (int i = 0; i < NV; ++i) acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(in + i * kLanes), wt, acc[i]);
    }
    for (int i = 0; i < NV; ++i)
      for_each_row_part(l, q0 + i * kLanes, q_end,
                        [&](__mmask16 mask, int64_t at) { _mm512_mask_storeu_ps(y + at, mask, acc[i]); });
  }
}

#include "cpu/kernels/avx512_target_end.h"
#endif

}  // namespace

bool available() {
#if INFERD_CONV_DIRECT
  return preferred_cpu_isa() == CpuIsa::avx512;
#else
  return false;
#endif
}

std::unique_ptr<AlignedBuffer> pack_filter(const float* w, int64_t M, int64_t C, int64_t taps) {
  constexpr int64_t B = kBlockChannels;
  const int64_t blocks = (M + B - 1) / B;
  auto packed = std::make_unique<AlignedBuffer>(static_cast<size_t>(blocks * C * taps * B) * sizeof(float));
  float* out = static_cast<float*>(packed->data());  // zero-filled
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t t = 0; t < taps; ++t) out[((m / B * C + c) * taps + t) * B + m % B] = w[(m * C + c) * taps + t];
  return packed;
}

Layout layout(const ConvGeometry& g, int64_t C, int64_t M, int64_t band_rows) {
  Layout l{};
  l.C = C, l.M = M, l.H = g.in[0], l.W = g.in[1];
  l.KH = g.kernel[0], l.KW = g.kernel[1], l.SH = g.stride[0], l.SW = g.stride[1];
  l.DH = g.dilation[0], l.DW = g.dilation[1], l.PH = g.pad[0], l.PW = g.pad[1];
  l.OH = g.out[0], l.OW = g.out[1];
  // The padded row reaches as far as the last window does (and at least the input's far edge).
  const int64_t Wp = std::max(l.PW + l.W, (l.OW - 1) * l.SW + (l.KW - 1) * l.DW + 1);
  l.Wq = (Wp + l.SW - 1) / l.SW;
  if (band_rows <= 0) {
    const int64_t bands = std::max<int64_t>(1, (l.OH * l.Wq + kBandPositions - 1) / kBandPositions);
    band_rows = (l.OH + bands - 1) / bands;
  }
  l.band_rows = band_rows;
  l.Hb = band_rows + (l.KH - 1) * l.DH / l.SH;
  // Only the phases some tap reads are kept (a 1×1 filter at stride 2 reads one of four; so does
  // a dilation-2 filter at stride 2), in the order the taps first read them.
  l.phases = 0;
  for (int64_t kh = 0; kh < l.KH; ++kh)
    for (int64_t kw = 0; kw < l.KW; ++kw) {
      const int64_t rh = kh * l.DH, rw = kw * l.DW, phase = (rh % l.SH) * l.SW + rw % l.SW;
      int64_t i = 0;
      while (i < l.phases && l.phase_of[i] != phase) ++i;
      if (i == l.phases) l.phase_of[l.phases++] = phase;
      l.offsets[kh * l.KW + kw] = i * l.Hb * l.Wq + rh / l.SH * l.Wq + rw / l.SW;
    }
  return l;
}

void prepare_input(const Layout& l, const float* x, int64_t c0, int64_t c1, int64_t oh0, float* xq) {
  const int64_t plane = l.Hb * l.Wq;
  for (int64_t c = c0; c < c1; ++c) {
    float* xc = xq + c * l.channel_floats();
    std::fill(xc, xc + l.channel_floats(), 0.0f);
    for (int64_t i = 0; i < l.phases; ++i) {
      const int64_t ph = l.phase_of[i] / l.SW, pw = l.phase_of[i] % l.SW;
      // Plane column k holds padded column k·SW + pw, input column k·SW + pw − PW: inside the input
      // for k in [k0, k1); plane row r likewise holds input row (oh0 + r)·SH + ph − PH.
      const int64_t k0 = std::min(l.Wq, std::max<int64_t>(0, (l.PW - pw + l.SW - 1) / l.SW));
      const int64_t k1 = std::max(k0, std::min(l.Wq, (l.PW + l.W - pw + l.SW - 1) / l.SW));
      const int64_t w0 = k0 * l.SW + pw - l.PW;
      float* out = xc + i * plane;
      for (int64_t r = 0; r < l.Hb; ++r, out += l.Wq) {
        const int64_t h = (oh0 + r) * l.SH + ph - l.PH;
        if (h < 0 || h >= l.H) continue;
        const float* src = x + (c * l.H + h) * l.W + w0;
        if (l.SW == 1) {
          std::memcpy(out + k0, src, static_cast<size_t>(k1 - k0) * sizeof(float));
        } else if (l.SW == 2) {
          for (int64_t k = k0; k < k1; ++k) out[k] = src[2 * (k - k0)];
        } else {
          for (int64_t k = k0; k < k1; ++k) out[k] = src[l.SW * (k - k0)];
        }
      }
    }
  }
  if (c1 == l.C) std::fill(xq + l.C * l.channel_floats(), xq + l.input_floats(), 0.0f);
}

int64_t Layout::partial_floats() const {
  if (C <= kChunk) return 0;
  const int64_t positions = (band_rows - 1) * Wq + OW;
  return (positions + kBlockPositions - 1) / kBlockPositions * kBlockPositions * kBlockChannels;
}

void run_band(const Layout& l, const float* xq, const float* filter, const float* bias, int64_t blk, int64_t oh0,
              int64_t oh1, float* y, float* partial, const Finish& finish) {
#if INFERD_CONV_DIRECT
  const int64_t m0 = blk * kBlockChannels, channels = std::min(kBlockChannels, l.M - m0);
  const float* f = filter + blk * l.C * l.KH * l.KW * kBlockChannels;
  // Positions q count from the band's first output row, as its input's rows do.
  float* ym = y + m0 * l.OH * l.OW + oh0 * l.OW;
  Finish fm = finish;
  if (fm.z) fm.z += m0 * l.OH * l.OW + oh0 * l.OW;
  const int64_t q_begin = 0, q_end = (oh1 - oh0 - 1) * l.Wq + l.OW;
  const int64_t blocks = (q_end - q_begin + kBlockPositions - 1) / kBlockPositions;
  const int64_t block_floats = kBlockPositions * kBlockChannels;
  // Step j = (c, tap) of a chunk reads the input chunk_offsets[j] floats from the chunk's first
  // channel, at the block's position.
  int64_t chunk_offsets[kChunk * kMaxTaps];
  const int64_t taps = l.KH * l.KW;
  for (int64_t c = 0; c < std::min(kChunk, l.C); ++c)
    for (int64_t t = 0; t < taps; ++t) chunk_offsets[c * taps + t] = c * l.channel_floats() + l.offsets[t];
  for (int64_t c0 = 0; c0 < l.C; c0 += kChunk) {
    const int64_t c1 = std::min(l.C, c0 + kChunk);
    for (int64_t k = 0; k < blocks; ++k)
      block(l, chunk_offsets, xq, f, bias, q_begin + k * kBlockPositions, q_end, channels, ym, c0, c1,
            partial ? partial + k * block_floats : nullptr, c0 == 0, c1 == l.C, fm);
  }
#else
  (void)l, (void)xq, (void)filter, (void)bias, (void)blk, (void)oh0, (void)oh1, (void)y, (void)partial, (void)finish;
#endif
}

void depthwise_plane(const Layout& l, const float* xq, const float* w, float bias, float* y) {
#if INFERD_CONV_DIRECT
  depthwise(l, xq, w, bias, y);
#else
  (void)l, (void)xq, (void)w, (void)bias, (void)y;
#endif
}

}  // namespace conv_direct
}  // namespace inferd
