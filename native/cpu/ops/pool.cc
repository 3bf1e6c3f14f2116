// The pools on the CPU. MaxPool and AveragePool walk each [D, H, W] plane (1-D and 2-D pools run as
// 3-D with leading dims of 1) with a window per output position clipped to the input: per output
// index of each dim, the first and last filter taps that land inside the input are computed once per
// run (Taps), so the inner loops test nothing. Planes are split across threads.
//
// MaxPool skips NaN (a window of NaN only, or of padding only, gives the type's lowest value), and
// its Indices output is the flat index into X of the maximum's first occurrence, the spatial part in
// row-major (storage_order 0) or column-major (1) order. AveragePool divides by the taps inside the
// input, or with count_include_pad by those inside the padded input.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/thread_pool.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/im2col.h"

namespace inferd {
namespace {

constexpr double kMinTaskElements = 1 << 14;

// For one output index along one dim: the input position of tap 0, the taps [lo, hi) that land
// inside the input, and how many taps land inside the padded input (AveragePool's count_include_pad).
struct Taps {
  int64_t start, lo, hi, padded;
};

struct PoolGeometry {
  int64_t in[3], out[3], dilation[3];
  const Taps* taps[3];  // taps[d][o] for each output index o of dim d
};

thread_local std::vector<Taps> taps_scratch;

// A row of T per thread, grown to the widest row a thread has needed and then reused: after the first
// run at a shape, no allocation.
template <typename T> T* row_scratch(int64_t n) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

// The 3-D view of g (leading dims of size 1) and its tap tables, in the calling thread's scratch.
// `auto_pad` decides where the padded input ends (count_include_pad counts up to there): explicit
// pads say how far past the input; VALID has none; SAME_* pads are the split of what the output size
// needs, so the end padding is what is left of that after the beginning's.
PoolGeometry pool_geometry(const ConvGeometry& g, AutoPad auto_pad, const std::vector<int64_t>& pads) {
  const int s = g.spatial, lead = 3 - s;
  PoolGeometry p;
  int64_t total = 0;
  for (int d = 0; d < 3; ++d) total += d < lead ? 1 : g.out[d - lead];
  if (static_cast<int64_t>(taps_scratch.size()) < total) taps_scratch.resize(static_cast<size_t>(total));
  Taps* next = taps_scratch.data();
  for (int d = 0; d < 3; ++d) {
    const int k = d - lead;
    const int64_t in = k < 0 ? 1 : g.in[k], out = k < 0 ? 1 : g.out[k], kernel = k < 0 ? 1 : g.kernel[k];
    const int64_t stride = k < 0 ? 1 : g.stride[k], dilation = k < 0 ? 1 : g.dilation[k];
    const int64_t pad = k < 0 ? 0 : g.pad[k];
    const int64_t extent = (kernel - 1) * dilation + 1;
    int64_t pad_end = 0;
    if (k >= 0 && auto_pad == AutoPad::notset && static_cast<size_t>(k + s) < pads.size())
      pad_end = pads[static_cast<size_t>(k + s)];
    else if (k >= 0 && (auto_pad == AutoPad::same_upper || auto_pad == AutoPad::same_lower))
      pad_end = std::max<int64_t>(0, (out - 1) * stride + extent - in - pad);
    p.in[d] = in;
    p.out[d] = out;
    p.dilation[d] = dilation;
    p.taps[d] = next;
    for (int64_t o = 0; o < out; ++o, ++next) {
      const int64_t start = o * stride - pad;
      auto first_at_or_after = [&](int64_t bound) {  // the first tap j with start + j·dilation >= bound
        return std::clamp<int64_t>(bound <= start ? 0 : (bound - start + dilation - 1) / dilation, 0, kernel);
      };
      next->start = start;
      next->lo = first_at_or_after(0);
      next->hi = std::max(next->lo, first_at_or_after(in));
      next->padded = first_at_or_after(in + pad_end) - first_at_or_after(-pad);
    }
  }
  return p;
}

// What MaxPool and AveragePool share: the window attributes, read once.
class PoolBase : public Kernel {
 protected:
  explicit PoolBase(const KernelInit& init)
      : label_(init.node.label()),
        window_(init.attributes()),
        kernel_(init.attributes().get_ints("kernel_shape", {})) {}

  ConvGeometry geometry(const Tensor& x, const Tensor& y) const { return window_.forward(x.shape, kernel_.data(), y.shape); }
  PoolGeometry pool(const ConvGeometry& g) const { return pool_geometry(g, window_.auto_pad, window_.pads); }

  std::string label_;
  WindowAttributes window_;
  std::vector<int64_t> kernel_;
};

template <typename T> struct Lowest {
  static T value() { return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest(); }
};

class MaxPoolKernel final : public PoolBase {
 public:
  explicit MaxPoolKernel(const KernelInit& init)
      : PoolBase(init), column_major_(init.attributes().get_int("storage_order", 0) == 1) {}

  void run(const KernelContext& ctx) const override {
    cpu::visit_dtype(ctx.input(0).dtype, cpu::type_list<float, double, int8_t, uint8_t>{}, label_,
                     [&](auto zero) { run_typed<decltype(zero)>(ctx); });
  }

 private:
  template <typename T> void run_typed(const KernelContext& ctx) const {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    int64_t* indices = ctx.output_count > 1 && ctx.outputs[1] ? ctx.output(1).data_as<int64_t>() : nullptr;
    const ConvGeometry g = geometry(x, y);
    const PoolGeometry p = pool(g);
    if (!indices && g.dilation[g.spatial - 1] == 1) {
      run_rows<T>(g, p, x, y, ctx.threads);
      return;
    }
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t in_plane = p.in[0] * p.in[1] * p.in[2], out_plane = p.out[0] * p.out[1] * p.out[2];
    // Index steps of the spatial dims in the Indices output's order (row- or column-major).
    int64_t step[3];
    if (!column_major_) {
      step[2] = 1, step[1] = p.in[2], step[0] = p.in[1] * p.in[2];
    } else {
      // Column-major over the model's spatial dims, which are the last s of the three.
      const int lead = 3 - g.spatial;
      int64_t size = 1;
      for (int d = lead; d < 3; ++d) step[d] = size, size *= p.in[d];
      for (int d = 0; d < lead; ++d) step[d] = 0;
    }
    const T* X = x.data_as<T>();
    T* Y = y.data_as<T>();
    auto run_planes = [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const T* xp = X + q * in_plane;
        T* yp = Y + q * out_plane;
        int64_t* ip = indices ? indices + q * out_plane : nullptr;
        for (int64_t od = 0; od < p.out[0]; ++od) {
          const Taps& td = p.taps[0][od];
          for (int64_t oh = 0; oh < p.out[1]; ++oh) {
            const Taps& th = p.taps[1][oh];
            for (int64_t ow = 0; ow < p.out[2]; ++ow, ++yp) {
              const Taps& tw = p.taps[2][ow];
              T best = Lowest<T>::value();
              int64_t at[3] = {-1, -1, -1};
              for (int64_t kd = td.lo; kd < td.hi; ++kd) {
                const int64_t id = td.start + kd * p.dilation[0];
                for (int64_t kh = th.lo; kh < th.hi; ++kh) {
                  const int64_t ih = th.start + kh * p.dilation[1];
                  const T* row = xp + (id * p.in[1] + ih) * p.in[2];
                  for (int64_t kw = tw.lo; kw < tw.hi; ++kw) {
                    const int64_t iw = tw.start + kw * p.dilation[2];
                    if (row[iw] > best || (at[0] < 0 && row[iw] == best)) {
                      best = row[iw];
                      at[0] = id, at[1] = ih, at[2] = iw;
                    }
                  }
                }
              }
              *yp = best;
              if (ip) *ip++ = at[0] < 0 ? -1 : q * in_plane + at[0] * step[0] + at[1] * step[1] + at[2] * step[2];
            }
          }
        }
      }
    };
    const double plane_work = static_cast<double>(out_plane) * static_cast<double>(g.kernel_size());
    ctx.threads->parallel_for(planes, std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / std::max(plane_work, 1.0))),
                              run_planes);
  }

  // Without Indices, at dilation 1 along rows: per output row, first the maximum down the window's
  // input rows (whole rows, contiguous), then along that row one filter column at a time
  // (y[ow] = max(y[ow], m[ow·stride + kw − pad]) over the outputs whose tap lands inside the row):
  // loops without branches that vectorise, and the strided reads only once per filter column.
  template <typename T>
  void run_rows(const ConvGeometry& g, const PoolGeometry& p, const Tensor& x, Tensor& y, ThreadPool* pool) const {
    const int last = g.spatial - 1;
    const int64_t KW = g.kernel[last], SW = g.stride[last], PW = g.pad[last];
    const int64_t IW = p.in[2], OW = p.out[2];
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t in_plane = p.in[0] * p.in[1] * p.in[2], out_plane = p.out[0] * p.out[1] * p.out[2];
    const T* X = x.data_as<T>();
    T* Y = y.data_as<T>();
    auto run_planes = [&](int64_t q0, int64_t q1) {
      // On the stack when the row fits, so that a pool thread's first turn here allocates nothing
      // (which thread takes which planes changes from run to run).
      constexpr int64_t kStackRow = 2048;
      T stack_row[kStackRow];
      T* column_max = IW <= kStackRow ? stack_row : row_scratch<T>(IW);
      for (int64_t q = q0; q < q1; ++q) {
        const T* xp = X + q * in_plane;
        T* yp = Y + q * out_plane;
        for (int64_t od = 0; od < p.out[0]; ++od) {
          const Taps& td = p.taps[0][od];
          for (int64_t oh = 0; oh < p.out[1]; ++oh, yp += OW) {
            const Taps& th = p.taps[1][oh];
            std::fill(yp, yp + OW, Lowest<T>::value());
            if (td.lo >= td.hi || th.lo >= th.hi) continue;  // the window lies in the padding
            // `v > m ? v : m` keeps m when v is NaN: NaN is skipped, as in the general loop.
            std::fill(column_max, column_max + IW, Lowest<T>::value());
            for (int64_t kd = td.lo; kd < td.hi; ++kd) {
              const int64_t id = td.start + kd * p.dilation[0];
              for (int64_t kh = th.lo; kh < th.hi; ++kh) {
                const T* row = xp + (id * p.in[1] + th.start + kh * p.dilation[1]) * IW;
                for (int64_t i = 0; i < IW; ++i) column_max[i] = row[i] > column_max[i] ? row[i] : column_max[i];
              }
            }
            for (int64_t kw = 0; kw < KW; ++kw) {
              // Outputs [lo, hi) read column_max[ow·SW + kw − PW] inside [0, IW).
              const int64_t offset = kw - PW;
              const int64_t lo = std::clamp<int64_t>(offset >= 0 ? 0 : (-offset + SW - 1) / SW, 0, OW);
              const int64_t hi = std::clamp<int64_t>(IW - offset <= 0 ? 0 : (IW - offset + SW - 1) / SW, lo, OW);
              if (lo >= hi) continue;
              const T* src = column_max + (lo * SW + offset);
              T* dst = yp + lo;
              const int64_t n = hi - lo;
              if (SW == 1) {
                for (int64_t j = 0; j < n; ++j) dst[j] = src[j] > dst[j] ? src[j] : dst[j];
              } else if (SW == 2) {
                for (int64_t j = 0; j < n; ++j) dst[j] = src[2 * j] > dst[j] ? src[2 * j] : dst[j];
              } else {
                for (int64_t j = 0; j < n; ++j) dst[j] = src[j * SW] > dst[j] ? src[j * SW] : dst[j];
              }
            }
          }
        }
      }
    };
    const double plane_work = static_cast<double>(out_plane) * static_cast<double>(g.kernel_size());
    pool->parallel_for(planes, std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / std::max(plane_work, 1.0))),
                       run_planes);
  }

  bool column_major_;
};

class AveragePoolKernel final : public PoolBase {
 public:
  explicit AveragePoolKernel(const KernelInit& init)
      : PoolBase(init), count_include_pad_(init.attributes().get_int("count_include_pad", 0) == 1) {}

  void run(const KernelContext& ctx) const override {
    cpu::visit_dtype(ctx.input(0).dtype, cpu::float_types{}, label_, [&](auto zero) { run_typed<decltype(zero)>(ctx); });
  }

 private:
  template <typename T> void run_typed(const KernelContext& ctx) const {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const ConvGeometry g = geometry(x, y);
    const PoolGeometry p = pool(g);
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t in_plane = p.in[0] * p.in[1] * p.in[2], out_plane = p.out[0] * p.out[1] * p.out[2];
    const T* X = x.data_as<T>();
    T* Y = y.data_as<T>();
    auto run_planes = [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const T* xp = X + q * in_plane;
        T* yp = Y + q * out_plane;
        for (int64_t od = 0; od < p.out[0]; ++od) {
          const Taps& td = p.taps[0][od];
          for (int64_t oh = 0; oh < p.out[1]; ++oh) {
            const Taps& th = p.taps[1][oh];
            for (int64_t ow = 0; ow < p.out[2]; ++ow, ++yp) {
              const Taps& tw = p.taps[2][ow];
              T sum = 0;
              for (int64_t kd = td.lo; kd < td.hi; ++kd) {
                const int64_t id = td.start + kd * p.dilation[0];
                for (int64_t kh = th.lo; kh < th.hi; ++kh) {
                  const T* row = xp + (id * p.in[1] + th.start + kh * p.dilation[1]) * p.in[2] + tw.start;
                  for (int64_t kw = tw.lo; kw < tw.hi; ++kw) sum += row[kw * p.dilation[2]];
                }
              }
              const int64_t count = count_include_pad_ ? td.padded * th.padded * tw.padded
                                                       : (td.hi - td.lo) * (th.hi - th.lo) * (tw.hi - tw.lo);
              *yp = sum / static_cast<T>(count);
            }
          }
        }
      }
    };
    const double plane_work = static_cast<double>(out_plane) * static_cast<double>(g.kernel_size());
    ctx.threads->parallel_for(planes, std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / std::max(plane_work, 1.0))),
                              run_planes);
  }

  bool count_include_pad_;
};

// GlobalMaxPool and GlobalAveragePool: one reduction per [N, C] plane, through independent lanes
// (strict IEEE order forbids the compiler from vectorising a single running sum or max).
template <bool kMax> class GlobalPoolKernel final : public Kernel {
 public:
  explicit GlobalPoolKernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    cpu::visit_dtype(ctx.input(0).dtype, cpu::float_types{}, label_, [&](auto zero) { run_typed<decltype(zero)>(ctx); });
  }

 private:
  template <typename T> void run_typed(const KernelContext& ctx) const {
    const Tensor& x = ctx.input(0);
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t n = planes == 0 ? 0 : x.size() / planes;
    const T* X = x.data_as<T>();
    T* Y = ctx.output(0).data_as<T>();
    auto run_planes = [&](int64_t q0, int64_t q1) {
      constexpr int kLanes = 16;
      for (int64_t q = q0; q < q1; ++q) {
        const T* in = X + q * n;
        T lanes[kLanes];
        std::fill(lanes, lanes + kLanes, kMax ? Lowest<T>::value() : T(0));
        int64_t i = 0;
        for (; i + kLanes <= n; i += kLanes)
          for (int l = 0; l < kLanes; ++l) lanes[l] = kMax ? (in[i + l] > lanes[l] ? in[i + l] : lanes[l]) : lanes[l] + in[i + l];
        T r = lanes[0];
        for (int l = 1; l < kLanes; ++l) r = kMax ? (lanes[l] > r ? lanes[l] : r) : r + lanes[l];
        for (; i < n; ++i) r = kMax ? (in[i] > r ? in[i] : r) : r + in[i];
        Y[q] = kMax ? r : r / static_cast<T>(n);
      }
    };
    ctx.threads->parallel_for(planes, std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements) / std::max<int64_t>(n, 1)),
                              run_planes);
  }

  std::string label_;
};

std::unique_ptr<Kernel> make_max_pool(const KernelInit& init) { return std::make_unique<MaxPoolKernel>(init); }
std::unique_ptr<Kernel> make_average_pool(const KernelInit& init) { return std::make_unique<AveragePoolKernel>(init); }
std::unique_ptr<Kernel> make_global_max_pool(const KernelInit& init) {
  return std::make_unique<GlobalPoolKernel<true>>(init);
}
std::unique_ptr<Kernel> make_global_average_pool(const KernelInit& init) {
  return std::make_unique<GlobalPoolKernel<false>>(init);
}

}  // namespace

// The attributes later opsets added (storage_order and Indices at 8, ceil_mode and dilations at 10,
// count_include_pad at 7, AveragePool's dilations at 19) keep their defaults in earlier ones, so one
// factory serves every range.
INFERD_CPU_KERNEL("MaxPool", 1, 7, make_max_pool);
INFERD_CPU_KERNEL("MaxPool", 8, 11, make_max_pool);
INFERD_CPU_KERNEL("MaxPool", 12, kMaxOpset, make_max_pool);
INFERD_CPU_KERNEL("AveragePool", 1, kMaxOpset, make_average_pool);
INFERD_CPU_KERNEL("GlobalMaxPool", 1, kMaxOpset, make_global_max_pool);
INFERD_CPU_KERNEL("GlobalAveragePool", 1, kMaxOpset, make_global_average_pool);

}  // namespace inferd
