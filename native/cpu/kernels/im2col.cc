// im2col and col2im (see im2col.h). Both walk one row (channel c, filter tap k) at a time, and the
// output positions of a row in runs along the innermost spatial dim: within a run the input
// positions are evenly spaced (a memcpy at stride 1), with zeros (or skipped taps) only at the run's
// ends, which are computed rather than tested element by element.
#include "cpu/kernels/im2col.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/thread_pool.h"

namespace inferd {
namespace {

// Rows worth one parallel task: below this a thread's wake-up costs more than its share.
constexpr int64_t kMinTaskElements = 1 << 14;

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// The outputs j of a run whose input positions i = j·stride + offset lie in [0, in): [*lo, *hi),
// clipped to [begin, end).
void valid_range(int64_t begin, int64_t end, int64_t stride, int64_t offset, int64_t in, int64_t* lo,
                 int64_t* hi) {
  *lo = std::clamp(ceil_div(-offset, stride), begin, end);
  *hi = std::clamp(ceil_div(in - offset, stride), *lo, end);
}

// Tap k of a row as per-dim offsets: input i = o·stride + offset[d].
void tap_offsets(const ConvGeometry& g, int64_t k, int64_t* offset) {
  for (int d = g.spatial - 1; d >= 0; --d) {
    offset[d] = (k % g.kernel[d]) * g.dilation[d] - g.pad[d];
    k /= g.kernel[d];
  }
}

// Calls run(at, first, n, in_row, lo, hi) for each run of the output positions [p_begin, p_begin + count)
// along the innermost dim: the run is positions at … at + n − 1 of that range, which are outputs
// o_last in [first, first + n) of one row of the output's outer dims; in_row is the offset of the
// input row they read (−1 when that row lies in the padding), and [lo, hi) are the outputs whose
// input positions fall inside the row.
template <typename Run>
void for_each_run(const ConvGeometry& g, const int64_t* offset, int64_t p_begin, int64_t count, Run&& run) {
  const int last = g.spatial - 1;
  int64_t o[kMaxSpatial];
  for (int d = last; d >= 0; --d) {
    o[d] = p_begin % g.out[d];
    p_begin /= g.out[d];
  }
  for (int64_t done = 0; done < count;) {
    int64_t in_row = 0;
    bool inside = true;
    for (int d = 0; d < last; ++d) {
      const int64_t i = o[d] * g.stride[d] + offset[d];
      inside = inside && i >= 0 && i < g.in[d];
      in_row = in_row * g.in[d] + i;
    }
    const int64_t n = std::min(g.out[last] - o[last], count - done);
    int64_t lo, hi;
    valid_range(o[last], o[last] + n, g.stride[last], offset[last], g.in[last], &lo, &hi);
    run(done, o[last], n, inside ? in_row * g.in[last] : int64_t{-1}, lo, hi);
    done += n;
    o[last] = 0;
    for (int d = last - 1; d >= 0; --d) {
      if (++o[d] < g.out[d]) break;
      o[d] = 0;
    }
  }
}

void im2col_rows(const ConvGeometry& g, const float* x, int64_t p_begin, int64_t count, float* col, int64_t r0,
                 int64_t r1) {
  const int last = g.spatial - 1;
  const int64_t taps = g.kernel_size(), plane = g.in_size();
  const int64_t stride = g.stride[last];
  for (int64_t r = r0; r < r1; ++r) {
    int64_t offset[kMaxSpatial];
    tap_offsets(g, r % taps, offset);
    const float* xc = x + (r / taps) * plane;
    float* row = col + r * count;
    for_each_run(g, offset, p_begin, count,
                 [&](int64_t at, int64_t first, int64_t n, int64_t in_row, int64_t lo, int64_t hi) {
                   float* dst = row + at;  // output o goes to dst[o − first]
                   if (in_row < 0) {
                     std::fill(dst, dst + n, 0.0f);
                     return;
                   }
                   std::fill(dst, dst + (lo - first), 0.0f);
                   const float* src = xc + (in_row + offset[last] + lo * stride);  // output lo's input
                   float* out = dst + (lo - first);
                   if (stride == 1) {
                     if (hi > lo) std::memcpy(out, src, static_cast<size_t>(hi - lo) * sizeof(float));
                   } else {
                     for (int64_t j = 0; j < hi - lo; ++j) out[j] = src[j * stride];
                   }
                   std::fill(dst + (hi - first), dst + n, 0.0f);
                 });
  }
}

void col2im_channels(const ConvGeometry& g, const float* col, int64_t p_begin, int64_t count, float* x, int64_t c0,
                     int64_t c1) {
  const int last = g.spatial - 1;
  const int64_t taps = g.kernel_size(), plane = g.in_size();
  const int64_t stride = g.stride[last];
  for (int64_t c = c0; c < c1; ++c) {
    float* xc = x + c * plane;
    for (int64_t k = 0; k < taps; ++k) {
      int64_t offset[kMaxSpatial];
      tap_offsets(g, k, offset);
      const float* row = col + (c * taps + k) * count;
      for_each_run(g, offset, p_begin, count,
                   [&](int64_t at, int64_t first, int64_t n, int64_t in_row, int64_t lo, int64_t hi) {
                     if (in_row < 0 || hi <= lo) return;
                     const float* src = row + at + (lo - first);
                     float* dst = xc + (in_row + offset[last] + lo * stride);
                     if (stride == 1) {
                       for (int64_t j = 0; j < hi - lo; ++j) dst[j] += src[j];
                     } else {
                       for (int64_t j = 0; j < hi - lo; ++j) dst[j * stride] += src[j];
                     }
                   });
    }
  }
}

}  // namespace

WindowAttributes::WindowAttributes(const Attributes& attributes)
    : strides(attributes.get_ints("strides", {})),
      dilations(attributes.get_ints("dilations", {})),
      pads(attributes.get_ints("pads", {})) {
  const std::string mode = attributes.get_string("auto_pad", "NOTSET");
  auto_pad = mode == "VALID"        ? AutoPad::valid
             : mode == "SAME_UPPER" ? AutoPad::same_upper
             : mode == "SAME_LOWER" ? AutoPad::same_lower
                                    : AutoPad::notset;
}

ConvGeometry WindowAttributes::forward(const Shape& x, const int64_t* kernel, const Shape& y) const {
  ConvGeometry g;
  g.spatial = static_cast<int>(x.size()) - 2;
  const size_t s = static_cast<size_t>(g.spatial);
  for (size_t d = 0; d < s; ++d) {
    g.in[d] = x[d + 2];
    g.out[d] = y[d + 2];
    g.kernel[d] = kernel[d];
    g.stride[d] = d < strides.size() ? strides[d] : 1;
    g.dilation[d] = d < dilations.size() ? dilations[d] : 1;
    const int64_t extent = (g.kernel[d] - 1) * g.dilation[d] + 1;
    const int64_t total = std::max<int64_t>(0, (g.out[d] - 1) * g.stride[d] + extent - g.in[d]);
    switch (auto_pad) {
      case AutoPad::notset: g.pad[d] = d < pads.size() ? pads[d] : 0; break;
      case AutoPad::valid: g.pad[d] = 0; break;
      case AutoPad::same_upper: g.pad[d] = total / 2; break;
      case AutoPad::same_lower: g.pad[d] = total - total / 2; break;
    }
  }
  return g;
}

void im2col(const ConvGeometry& g, const float* x, int64_t channels, int64_t p_begin, int64_t count, float* col,
            ThreadPool* pool) {
  const int64_t rows = channels * g.kernel_size();
  if (rows <= 0 || count <= 0) return;
  if (!pool || pool->size() == 1 || rows * count < 2 * kMinTaskElements) {
    im2col_rows(g, x, p_begin, count, col, 0, rows);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, kMinTaskElements / count);
  pool->parallel_for(rows, grain, [&](int64_t r0, int64_t r1) { im2col_rows(g, x, p_begin, count, col, r0, r1); });
}

void col2im_add(const ConvGeometry& g, const float* col, int64_t channels, int64_t p_begin, int64_t count, float* x,
                ThreadPool* pool) {
  if (channels <= 0 || count <= 0) return;
  const int64_t per_channel = g.kernel_size() * count;
  if (!pool || pool->size() == 1 || channels * per_channel < 2 * kMinTaskElements) {
    col2im_channels(g, col, p_begin, count, x, 0, channels);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(per_channel, 1));
  pool->parallel_for(channels, grain,
                     [&](int64_t c0, int64_t c1) { col2im_channels(g, col, p_begin, count, x, c0, c1); });
}

void im2col_reference(const ConvGeometry& g, const float* x, int64_t channels, float* col) {
  const int64_t taps = g.kernel_size(), count = g.out_size(), plane = g.in_size();
  for (int64_t r = 0; r < channels * taps; ++r) {
    int64_t offset[kMaxSpatial];
    tap_offsets(g, r % taps, offset);
    for (int64_t p = 0; p < count; ++p) {
      int64_t rest = p, index = 0;
      bool inside = true;
      int64_t o[kMaxSpatial];
      for (int d = g.spatial - 1; d >= 0; --d) {
        o[d] = rest % g.out[d];
        rest /= g.out[d];
      }
      for (int d = 0; d < g.spatial; ++d) {
        const int64_t i = o[d] * g.stride[d] + offset[d];
        inside = inside && i >= 0 && i < g.in[d];
        index = index * g.in[d] + i;
      }
      col[r * count + p] = inside ? x[(r / taps) * plane + index] : 0.0f;
    }
  }
}

}  // namespace inferd
