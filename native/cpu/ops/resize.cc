// Resize on the CPU.
//
// Every output index o along a resized dim maps to a fractional input coordinate x (the
// coordinate_transformation_mode; "scale" is the dim's scale, out_w = scale·D the unrounded output
// length, as the ONNX reference uses it):
//   half_pixel            (o + ½)/scale − ½
//   half_pixel_symmetric  as half_pixel, shifted so the output's centre maps to the input's centre
//   pytorch_half_pixel    as half_pixel, but −½ when out_w is 1
//   align_corners         o·(D − 1)/(out_w − 1)   (0 when out_w is 1)
//   asymmetric            o/scale                  (opset 10 always)
//   tf_half_pixel_for_nn  (o + ½)/scale            (opsets 11–12)
//   tf_crop_and_resize    roi_start·(D − 1) + o·(roi_end − roi_start)·(D − 1)/(out_w − 1); outside
//                         [0, D − 1] the output is extrapolation_value
// and reads input positions around x, clamped into [0, D − 1], with weights:
//   nearest: one position, x rounded per nearest_mode (opset 10: floor);
//   linear:  ⌈x⌉ − 1 and ⌈x⌉ with weights 1 − r and r, r = x − (⌈x⌉ − 1) ∈ (0, 1];
//   cubic:   the four around x, weighted by the cubic convolution kernel with a = cubic_coeff_a.
// antialias (opset 18+, linear and cubic) stretches the kernel by 1/scale when downsampling, so that
// every input pixel contributes, and normalises the weights; exclude_outside drops the weights of
// positions outside the input and renormalises.
//
// Nearest is one gather for any element type, row by row through per-dim index tables. Linear and
// cubic are separable: the input is resized one dim at a time (innermost first), each pass a weighted
// sum over a per-dim table of taps, vectorised along the dims inside the resized one. Dims whose
// mapping is the identity are skipped.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

enum class Mode { nearest, linear, cubic };
enum class Coordinate {
  half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn,
  tf_crop_and_resize
};
enum class Rounding { round_prefer_floor, round_prefer_ceil, floor, ceil };

Coordinate parse_coordinate(const std::string& s) {
  if (s == "half_pixel_symmetric") return Coordinate::half_pixel_symmetric;
  if (s == "pytorch_half_pixel") return Coordinate::pytorch_half_pixel;
  if (s == "align_corners") return Coordinate::align_corners;
  if (s == "asymmetric") return Coordinate::asymmetric;
  if (s == "tf_half_pixel_for_nn") return Coordinate::tf_half_pixel_for_nn;
  if (s == "tf_crop_and_resize") return Coordinate::tf_crop_and_resize;
  return Coordinate::half_pixel;
}

Rounding parse_rounding(const std::string& s) {
  if (s == "round_prefer_ceil") return Rounding::round_prefer_ceil;
  if (s == "floor") return Rounding::floor;
  if (s == "ceil") return Rounding::ceil;
  return Rounding::round_prefer_floor;
}

constexpr int64_t kMinTaskElements = 1 << 14;

// What one resized dim needs: its sizes, scale and (tf_crop_and_resize) region of interest.
struct Axis {
  int64_t in, out;
  double scale, roi_start = 0, roi_end = 1;
};

// The input coordinate output index o maps to; NaN when it lies outside a tf_crop_and_resize region.
double original_coordinate(Coordinate c, const Axis& a, int64_t o) {
  const double x = static_cast<double>(o), in = static_cast<double>(a.in);
  const double out_w = a.scale * in;
  switch (c) {
    case Coordinate::half_pixel: return (x + 0.5) / a.scale - 0.5;
    case Coordinate::half_pixel_symmetric: {
      const double adjustment = static_cast<double>(a.out) / out_w;
      const double offset = in / 2 * (1 - adjustment);
      return offset + (x + 0.5) / a.scale - 0.5;
    }
    case Coordinate::pytorch_half_pixel: return out_w == 1 ? -0.5 : (x + 0.5) / a.scale - 0.5;
    case Coordinate::align_corners: return out_w == 1 ? 0.0 : x * (in - 1) / (out_w - 1);
    case Coordinate::asymmetric: return x / a.scale;
    case Coordinate::tf_half_pixel_for_nn: return (x + 0.5) / a.scale;
    case Coordinate::tf_crop_and_resize: {
      const double span = (a.roi_end - a.roi_start) * (in - 1);
      const double v = (out_w == 1 ? span / 2 : x * span / (out_w - 1)) + a.roi_start * (in - 1);
      return v < 0 || v > in - 1 ? std::numeric_limits<double>::quiet_NaN() : v;
    }
  }
  return 0;
}

// The nearest input index to x per the rounding mode, clamped into [0, in).
int64_t nearest_index(Rounding r, double x, int64_t in) {
  const double fl = std::floor(x), ratio = x - fl;
  double chosen = fl;
  if (ratio != 0) {
    switch (r) {
      case Rounding::round_prefer_floor: chosen = ratio <= 0.5 ? fl : fl + 1; break;
      case Rounding::round_prefer_ceil: chosen = ratio < 0.5 ? fl : fl + 1; break;
      case Rounding::floor: chosen = fl; break;
      case Rounding::ceil: chosen = fl + 1; break;
    }
  }
  return std::clamp<int64_t>(static_cast<int64_t>(chosen), 0, in - 1);
}

double cubic_kernel(double x, double a) {
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

// Per output index o of one dim: `count` taps, tap j's input index and weight at [j·out + o] (tap
// by tap, so that a pass along the innermost dim is a vectorisable gather per tap); outside[o] marks
// outputs that take the extrapolation value instead.
template <typename T> struct TapTable {
  int count = 0;
  bool any_outside = false;
  std::vector<int64_t> index;
  std::vector<T> weight;
  std::vector<uint8_t> outside;
};

template <typename T> TapTable<T>& tap_scratch(int slot) {
  thread_local TapTable<T> tables[kMaxRank];
  return tables[slot];
}

class ResizeKernel final : public Kernel {
 public:
  explicit ResizeKernel(const KernelInit& init)
      : label_(init.node.label()), opset_(init.opset) {
    const Attributes& a = init.attributes();
    const std::string mode = a.get_string("mode", "nearest");
    mode_ = mode == "linear" ? Mode::linear : mode == "cubic" ? Mode::cubic : Mode::nearest;
    // Opset 10's Resize is the old Upsample: asymmetric coordinates, nearest rounding down.
    coordinate_ = opset_ == 10 ? Coordinate::asymmetric
                               : parse_coordinate(a.get_string("coordinate_transformation_mode", "half_pixel"));
    rounding_ = opset_ == 10 ? Rounding::floor : parse_rounding(a.get_string("nearest_mode", "round_prefer_floor"));
    cubic_a_ = a.get_float("cubic_coeff_a", -0.75f);
    exclude_outside_ = a.get_int("exclude_outside", 0) != 0;
    extrapolation_ = a.get_float("extrapolation_value", 0.0f);
    antialias_ = opset_ >= 18 && a.get_int("antialias", 0) != 0;
    if (opset_ >= 18) {
      axes_ = a.get_ints("axes", {});
      const std::string policy = a.get_string("keep_aspect_ratio_policy", "stretch");
      policy_ = policy == "not_larger" ? 1 : policy == "not_smaller" ? 2 : 0;
    }
  }

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    if (y.size() == 0) return;
    Axis axes[kMaxRank];
    describe_axes(ctx, axes);
    if (mode_ == Mode::nearest) {
      run_nearest(ctx, axes);
      return;
    }
    switch (x.dtype) {
      case DType::f32: run_separable<float>(ctx, axes); break;
      case DType::f64: run_separable<double>(ctx, axes); break;
      default: fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype), " in this mode");
    }
  }

 private:
  // Sizes, scales and regions of interest per dim, from the inputs as the shape function read them.
  void describe_axes(const KernelContext& ctx, Axis* out) const {
    const Tensor& x = ctx.input(0);
    const Tensor& y = ctx.output(0);
    const int rank = x.rank();
    int64_t axes[kMaxRank];
    int n = 0;
    if (axes_.empty()) {
      for (int d = 0; d < rank; ++d) axes[n++] = d;
    } else {
      for (int64_t a : axes_) axes[n++] = a < 0 ? a + rank : a;
    }
    for (int d = 0; d < rank; ++d) out[d] = Axis{x.shape[static_cast<size_t>(d)], y.shape[static_cast<size_t>(d)], 1.0};
    const size_t scales_input = opset_ == 10 ? 1 : 2;
    if (ctx.has_input(scales_input) && ctx.input(scales_input).size() > 0) {
      const float* scales = ctx.input(scales_input).data_as<float>();
      for (int i = 0; i < n; ++i) out[axes[i]].scale = scales[i];
    } else {
      const int64_t* sizes = ctx.input(3).data_as<int64_t>();
      double common = policy_ == 1 ? INFINITY : 0.0;
      for (int i = 0; i < n; ++i) {
        Axis& a = out[axes[i]];
        a.scale = static_cast<double>(sizes[i]) / static_cast<double>(a.in);
        common = policy_ == 1 ? std::min(common, a.scale) : std::max(common, a.scale);
      }
      if (policy_ != 0)
        for (int i = 0; i < n; ++i) out[axes[i]].scale = common;
    }
    if (coordinate_ == Coordinate::tf_crop_and_resize && ctx.has_input(1) && ctx.input(1).size() > 0) {
      const Tensor& roi = ctx.input(1);
      if (roi.size() != 2 * n)
        fail(ErrorKind::runtime, label_, ": roi has ", roi.size(), " values; expected ", 2 * n, " (a start and an end per resized dim)");
      for (int i = 0; i < n; ++i) {
        const double start = roi.dtype == DType::f64 ? roi.data_as<double>()[i] : roi.data_as<float>()[i];
        const double end = roi.dtype == DType::f64 ? roi.data_as<double>()[i + n] : roi.data_as<float>()[i + n];
        out[axes[i]].roi_start = start;
        out[axes[i]].roi_end = end;
      }
    }
  }

  bool is_identity(const Axis& a) const {
    return a.in == a.out && a.scale == 1.0 && coordinate_ != Coordinate::tf_crop_and_resize &&
           coordinate_ != Coordinate::tf_half_pixel_for_nn;
  }

  // ---- nearest ----------------------------------------------------------------------------------

  void run_nearest(const KernelContext& ctx, const Axis* axes) const {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    if (rank == 0) {
      std::memcpy(y.data, x.data, x.nbytes());
      return;
    }
    // index[d][o]: the input index output o of dim d reads, −1 for extrapolation.
    thread_local std::vector<int64_t> tables;
    int64_t total = 0;
    for (int d = 0; d < rank; ++d) total += axes[d].out;
    if (static_cast<int64_t>(tables.size()) < total) tables.resize(static_cast<size_t>(total));
    const int64_t* index[kMaxRank];
    int64_t in_stride[kMaxRank];
    int64_t* next = tables.data();
    for (int64_t d = rank - 1, stride = 1; d >= 0; --d) {
      in_stride[d] = stride;
      stride *= axes[d].in;
    }
    for (int d = 0; d < rank; ++d) {
      const Axis& a = axes[d];
      index[d] = next;
      for (int64_t o = 0; o < a.out; ++o) {
        const double c = is_identity(a) ? static_cast<double>(o) : original_coordinate(coordinate_, a, o);
        *next++ = std::isnan(c) ? -1 : nearest_index(rounding_, c, a.in);
      }
    }
    const int64_t width = axes[rank - 1].out, rows = y.size() / width;
    const uint64_t fill = extrapolation_bits(x.dtype);
    auto dispatch = [&](auto zero) {
      using E = decltype(zero);
      E value;
      std::memcpy(&value, &fill, sizeof value);
      const E* in = static_cast<const E*>(x.data);
      E* out = static_cast<E*>(y.data);
      const int64_t* inner = index[rank - 1];
      ctx.threads->parallel_for(rows, std::max<int64_t>(1, kMinTaskElements / width), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          E* dst = out + r * width;
          int64_t rest = r, offset = 0;
          bool outside = false;
          for (int d = rank - 2; d >= 0; --d) {
            const int64_t i = index[d][rest % axes[d].out];
            rest /= axes[d].out;
            outside = outside || i < 0;
            offset += i * in_stride[d];
          }
          if (outside) {
            std::fill(dst, dst + width, value);
            continue;
          }
          const E* src = in + offset;
          for (int64_t o = 0; o < width; ++o) dst[o] = inner[o] < 0 ? value : src[inner[o]];
        }
      });
    };
    switch (dtype_size(x.dtype)) {
      case 1: dispatch(uint8_t{}); break;
      case 2: dispatch(uint16_t{}); break;
      case 4: dispatch(uint32_t{}); break;
      case 8: dispatch(uint64_t{}); break;
      default: fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype));
    }
  }

  // extrapolation_value as the data type's bits (tf_crop_and_resize only).
  uint64_t extrapolation_bits(DType t) const { return element_bits(t, extrapolation_); }

  // ---- linear and cubic -------------------------------------------------------------------------

  template <typename T> void build_taps(const Axis& a, TapTable<T>& t) const {
    // The kernel's support is stretched by 1/s when antialiasing a downsample.
    const double s = antialias_ ? std::min(a.scale, 1.0) : 1.0;
    const int64_t first = mode_ == Mode::linear ? static_cast<int64_t>(std::floor(-1 / s)) + 1
                                                : static_cast<int64_t>(std::floor(-2 / s)) + 1;
    t.count = static_cast<int>(2 - 2 * first);
    const size_t n = static_cast<size_t>(a.out * t.count);
    t.index.resize(n);
    t.weight.resize(n);
    t.outside.assign(static_cast<size_t>(a.out), 0);
    t.any_outside = false;
    thread_local std::vector<double> raw;
    if (raw.size() < static_cast<size_t>(t.count)) raw.resize(static_cast<size_t>(t.count));
    const int64_t out = a.out;
    for (int64_t o = 0; o < out; ++o) {
      const double c = original_coordinate(coordinate_, a, o);
      if (std::isnan(c)) {
        t.outside[static_cast<size_t>(o)] = 1;
        t.any_outside = true;
        for (int j = 0; j < t.count; ++j) {
          t.index[static_cast<size_t>(j * out + o)] = 0;
          t.weight[static_cast<size_t>(j * out + o)] = T(0);
        }
        continue;
      }
      // The taps sit at base + j for j in [first, 1 − first), where base = ⌈c⌉ − 1, so that the
      // distance r = c − base from base lies in (0, 1] (an integer c takes base = c − 1, as the
      // ONNX reference does, which breaks its ties towards lower indices).
      const double base = std::ceil(c) - 1, r = c - base;
      double sum = 0;
      double* w = raw.data();
      for (int j = 0; j < t.count; ++j) {
        const double distance = (static_cast<double>(first + j) - r) * s;
        w[j] = mode_ == Mode::linear ? std::max(0.0, 1 - std::fabs(distance)) : cubic_kernel(distance, cubic_a_);
        const int64_t i = static_cast<int64_t>(base) + first + j;
        if (exclude_outside_ && (i < 0 || i >= a.in)) w[j] = 0;
        sum += w[j];
        t.index[static_cast<size_t>(j * out + o)] = std::clamp<int64_t>(i, 0, a.in - 1);
      }
      const bool normalise = antialias_ || exclude_outside_;
      for (int j = 0; j < t.count; ++j)
        t.weight[static_cast<size_t>(j * out + o)] = static_cast<T>(normalise && sum != 0 ? w[j] / sum : w[j]);
    }
  }

  // One pass: [outer, n_in, inner] → [outer, n_out, inner] along the middle dim.
  template <typename T>
  void resize_dim(const T* in, T* out, int64_t outer, int64_t n_in, int64_t inner, const Axis& a, const TapTable<T>& t,
                  ThreadPool* pool) const {
    const int64_t n_out = a.out;
    const T fill = static_cast<T>(extrapolation_);
    const int taps = t.count;
    const int64_t* index = t.index.data();
    const T* weight = t.weight.data();
    const uint8_t* outside = t.outside.data();
    if (inner == 1) {
      pool->parallel_for(outer, std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(n_out * taps, 1)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const T* src = in + r * n_in;
          T* dst = out + r * n_out;
          for (int64_t o = 0; o < n_out; ++o) dst[o] = weight[o] * src[index[o]];
          for (int j = 1; j < taps; ++j) {
            const int64_t* ij = index + j * n_out;
            const T* wj = weight + j * n_out;
            for (int64_t o = 0; o < n_out; ++o) dst[o] += wj[o] * src[ij[o]];
          }
          if (t.any_outside)
            for (int64_t o = 0; o < n_out; ++o)
              if (outside[o]) dst[o] = fill;
        }
      });
      return;
    }
    pool->parallel_for(outer * n_out, std::max<int64_t>(1, kMinTaskElements / std::max<int64_t>(inner * taps, 1)),
                       [&](int64_t q0, int64_t q1) {
                         for (int64_t q = q0; q < q1; ++q) {
                           const int64_t r = q / n_out, o = q % n_out;
                           T* dst = out + q * inner;
                           if (outside[o]) {
                             std::fill(dst, dst + inner, fill);
                             continue;
                           }
                           const T* src = in + r * n_in * inner;
                           const T w0 = weight[o];
                           const T* row0 = src + index[o] * inner;
                           for (int64_t i = 0; i < inner; ++i) dst[i] = w0 * row0[i];
                           for (int j = 1; j < taps; ++j) {
                             const T w = weight[j * n_out + o];
                             if (w == 0) continue;
                             const T* row = src + index[j * n_out + o] * inner;
                             for (int64_t i = 0; i < inner; ++i) dst[i] += w * row[i];
                           }
                         }
                       });
  }

  template <typename T> void run_separable(const KernelContext& ctx, const Axis* axes) const {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int rank = x.rank();
    int resized[kMaxRank];
    int count = 0;
    for (int d = rank - 1; d >= 0; --d)
      if (!is_identity(axes[d])) resized[count++] = d;
    if (count == 0) {
      std::memcpy(y.data, x.data, x.nbytes());
      return;
    }
    thread_local std::vector<T> ping, pong;
    int64_t dims[kMaxRank];
    for (int d = 0; d < rank; ++d) dims[d] = axes[d].in;
    const T* src = x.data_as<T>();
    for (int k = 0; k < count; ++k) {
      const int d = resized[k];
      int64_t outer = 1, inner = 1;
      for (int e = 0; e < d; ++e) outer *= dims[e];
      for (int e = d + 1; e < rank; ++e) inner *= dims[e];
      T* dst = y.data_as<T>();
      if (k + 1 < count) {
        std::vector<T>& buffer = k % 2 == 0 ? ping : pong;
        const int64_t needed = outer * axes[d].out * inner;
        if (static_cast<int64_t>(buffer.size()) < needed) buffer.resize(static_cast<size_t>(needed));
        dst = buffer.data();
      }
      TapTable<T>& taps = tap_scratch<T>(k);
      build_taps(axes[d], taps);
      resize_dim(src, dst, outer, dims[d], inner, axes[d], taps, ctx.threads);
      dims[d] = axes[d].out;
      src = dst;
    }
  }

  std::string label_;
  int opset_;
  Mode mode_;
  Coordinate coordinate_;
  Rounding rounding_;
  float cubic_a_;
  bool exclude_outside_;
  float extrapolation_;
  bool antialias_ = false;
  std::vector<int64_t> axes_;
  int policy_ = 0;  // keep_aspect_ratio_policy: 0 stretch, 1 not_larger, 2 not_smaller
};

std::unique_ptr<Kernel> make_resize(const KernelInit& init) { return std::make_unique<ResizeKernel>(init); }

}  // namespace

// One factory reads each opset's attributes (see the shape function for what each range adds).
INFERD_CPU_KERNEL("Resize", 10, 10, make_resize);
INFERD_CPU_KERNEL("Resize", 11, 12, make_resize);
INFERD_CPU_KERNEL("Resize", 13, 17, make_resize);
INFERD_CPU_KERNEL("Resize", 18, 18, make_resize);
INFERD_CPU_KERNEL("Resize", 19, kMaxOpset, make_resize);

}  // namespace inferd
