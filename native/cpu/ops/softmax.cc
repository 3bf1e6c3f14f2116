// Softmax and LogSoftmax on the CPU. Both normalise x over a set S of its elements:
//   Softmax:     y = exp(x − max_S x) / Σ_S exp(x − max_S x)
//   LogSoftmax:  y = x − max_S x − log Σ_S exp(x − max_S x)
// Subtracting the maximum keeps every exponent ≤ 0, so nothing overflows.
//
// The input is viewed as [outer, D, inner] and each S is D elements `inner` apart:
//   opsets 1–12: D = d(axis)·…·d(r−1) and inner = 1 (the input coerced to 2-D at `axis`);
//   opset 13+:   D = d(axis) and inner = d(axis+1)·…·d(r−1).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/elementwise_math.h"
#include "cpu/kernels/softmax_rows.h"

namespace inferd {
namespace {

// e^x by cpu::math's polynomial (detail::exp_in_range, which vectorises), with results below the smallest normal float (x < −87.3)
// flushed to 0: probabilities that small change no sum, and subnormals would slow every product that
// reads them. NaN stays NaN. The AVX-512 rows (softmax_avx512.cc) flush alike.
inline float exp_approx(float in) {
  // Clamped so that a NaN becomes −87.3 (converting NaN to an integer is undefined), then selected.
  const float x = in > -87.3f ? (in < 88.3f ? in : 88.3f) : -87.3f;
  const float y = cpu::math::detail::exp_in_range(x);
  return in != in ? in : (in < -87.3f ? 0.0f : y);
}

inline float max_value(float a, float b) { return a < b ? b : a; }  // a NaN b is skipped

// Reductions through independent lanes: strict IEEE order forbids the compiler from vectorising a
// single running max or sum.
constexpr int kLanes = 16;

float max_of(const float* x, int64_t n) {
  float lanes[kLanes];
  std::fill(lanes, lanes + kLanes, -std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = max_value(lanes[l], x[i + l]);
  float m = lanes[0];
  for (int l = 1; l < kLanes; ++l) m = max_value(m, lanes[l]);
  for (; i < n; ++i) m = max_value(m, x[i]);
  return m;
}

// y = exp(x − m) over n elements; returns Σ y.
float exp_and_sum(const float* x, float m, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp_approx(x[i] - m);
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += y[i + l];
  float sum = 0;
  for (; i < n; ++i) sum += y[i];
  for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  return sum;
}

// One contiguous set (inner == 1).
void normalize_row(const float* x, float* y, int64_t D, bool log) {
  const float m = max_of(x, D);
  const float sum = exp_and_sum(x, m, y, D);
  if (!log) {
    const float scale = 1.0f / sum;
    for (int64_t j = 0; j < D; ++j) y[j] *= scale;
  } else {
    // (x − m) − log Σ, not x − (m + log Σ): m + log Σ would round away log Σ's low bits when |m| is large.
    const float log_sum = std::log(sum);
    for (int64_t j = 0; j < D; ++j) y[j] = (x[j] - m) - log_sum;
  }
}

// Strided sets (inner > 1): `width` neighbouring sets at once, so that the loops run along the
// contiguous inner dimension. x and y point at the first element of the first set.
constexpr int64_t kColumns = 64;

void normalize_columns(const float* x, float* y, int64_t D, int64_t inner, int64_t width, bool log) {
  float m[kColumns], sum[kColumns];
  for (int64_t t = 0; t < width; ++t) {
    m[t] = -std::numeric_limits<float>::infinity();
    sum[t] = 0;
  }
  for (int64_t a = 0; a < D; ++a) {
    const float* row = x + a * inner;
    for (int64_t t = 0; t < width; ++t) m[t] = max_value(m[t], row[t]);
  }
  for (int64_t a = 0; a < D; ++a) {
    const float* in = x + a * inner;
    float* out = y + a * inner;
    for (int64_t t = 0; t < width; ++t) {
      out[t] = exp_approx(in[t] - m[t]);
      sum[t] += out[t];
    }
  }
  if (!log) {
    for (int64_t t = 0; t < width; ++t) sum[t] = 1.0f / sum[t];
    for (int64_t a = 0; a < D; ++a)
      for (int64_t t = 0; t < width; ++t) y[a * inner + t] *= sum[t];
  } else {
    for (int64_t t = 0; t < width; ++t) sum[t] = std::log(sum[t]);
    for (int64_t a = 0; a < D; ++a)
      for (int64_t t = 0; t < width; ++t) y[a * inner + t] = (x[a * inner + t] - m[t]) - sum[t];
  }
}

// Elements per parallel task, below which splitting costs more than it saves.
constexpr double kMinTaskElements = 1 << 15;

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(const KernelInit& init, bool coerce_2d, bool log)
      : label_(init.node.label()),
        axis_(init.attributes().get_int("axis", coerce_2d ? 1 : -1)),
        coerce_2d_(coerce_2d),
        log_(log),
        fast_rows_(softmax_rows_avx512()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    if (x.dtype != DType::f32)
      fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(x.dtype));
    const int rank = x.rank();
    if (axis_ < -rank || axis_ >= rank)
      fail(ErrorKind::invalid_model, label_, ": axis ", axis_, " is out of range for rank ", rank);
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    const int64_t outer = dims_product(x.shape, 0, axis);
    const int64_t D = coerce_2d_ ? dims_product(x.shape, axis, rank) : x.shape[static_cast<size_t>(axis)];
    const int64_t inner = coerce_2d_ ? 1 : dims_product(x.shape, axis + 1, rank);
    if (outer == 0 || D == 0 || inner == 0) return;
    const float* in = x.data_as<float>();
    float* out = y.data_as<float>();
    const bool log = log_;

    if (inner == 1) {
      const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / static_cast<double>(D)));
      const SoftmaxRowsFn fast = log ? nullptr : fast_rows_;
      ctx.threads->parallel_for(outer, grain, [&](int64_t begin, int64_t end) {
        if (fast) {
          fast(in + begin * D, out + begin * D, end - begin, D);
          return;
        }
        for (int64_t o = begin; o < end; ++o) normalize_row(in + o * D, out + o * D, D, log);
      });
      return;
    }
    // Tasks: (outer index, block of kColumns inner positions).
    const int64_t blocks = (inner + kColumns - 1) / kColumns;
    const double task_elements = static_cast<double>(D) * static_cast<double>(std::min(inner, kColumns));
    const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements / task_elements));
    ctx.threads->parallel_for(outer * blocks, grain, [&](int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t o = task / blocks, t0 = (task % blocks) * kColumns;
        const int64_t offset = o * D * inner + t0;
        normalize_columns(in + offset, out + offset, D, inner, std::min(kColumns, inner - t0), log);
      }
    });
  }

 private:
  std::string label_;
  int64_t axis_;
  bool coerce_2d_, log_;
  SoftmaxRowsFn fast_rows_;  // contiguous Softmax rows with the CPU's vector kernel; null: portable loop
};

std::unique_ptr<Kernel> make_softmax_1(const KernelInit& init) {
  return std::make_unique<SoftmaxKernel>(init, true, false);
}
std::unique_ptr<Kernel> make_softmax_13(const KernelInit& init) {
  return std::make_unique<SoftmaxKernel>(init, false, false);
}
std::unique_ptr<Kernel> make_log_softmax_1(const KernelInit& init) {
  return std::make_unique<SoftmaxKernel>(init, true, true);
}
std::unique_ptr<Kernel> make_log_softmax_13(const KernelInit& init) {
  return std::make_unique<SoftmaxKernel>(init, false, true);
}

}  // namespace

INFERD_CPU_KERNEL("Softmax", 1, 12, make_softmax_1);
INFERD_CPU_KERNEL("Softmax", 13, kMaxOpset, make_softmax_13);
INFERD_CPU_KERNEL("LogSoftmax", 1, 12, make_log_softmax_1);
INFERD_CPU_KERNEL("LogSoftmax", 13, kMaxOpset, make_log_softmax_13);

}  // namespace inferd
