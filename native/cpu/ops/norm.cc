// The normalizations on the CPU: y = (x − mean)·scale/√(var + ε) + B over some set of x's elements.
//   BatchNormalization: per channel, with the model's statistics folded into one multiply-add per
//     element (a = scale/√(var + ε), b = B − mean·a), or in training mode with the batch's;
//   InstanceNormalization: per (image, channel) plane, over its spatial dims;
//   LayerNormalization: per row of X viewed as [outer, inner], inner = the dims from `axis` on.
// Statistics come from two passes (the mean, then the mean squared deviation), each summed through
// independent lanes (strict IEEE order forbids the compiler from vectorising a single running sum).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/layer_norm_rows.h"

namespace inferd {
namespace {

constexpr double kMinTaskElements = 1 << 15;

int64_t grain_for(int64_t per_item) {
  return std::max<int64_t>(1, static_cast<int64_t>(kMinTaskElements) / std::max<int64_t>(per_item, 1));
}

constexpr int kLanes = 16;

template <typename T> T sum_of(const T* x, int64_t n) {
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += x[i + l];
  T sum = 0;
  for (; i < n; ++i) sum += x[i];
  for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  return sum;
}

// Σ (x − mean)²
template <typename T> T squared_deviation_of(const T* x, int64_t n, T mean) {
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const T d = x[i + l] - mean;
      lanes[l] += d * d;
    }
  T sum = 0;
  for (; i < n; ++i) sum += (x[i] - mean) * (x[i] - mean);
  for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  return sum;
}

// y[i] = x[i]·a + b
template <typename T> void scale_shift(const T* x, int64_t n, T a, T b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a + b;
}

template <typename T> std::vector<T>& scratch_of() {
  thread_local std::vector<T> buffer;
  return buffer;
}
template <typename T> T* scratch(int64_t n) {
  std::vector<T>& buffer = scratch_of<T>();
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

#define INFERD_FLOAT_DISPATCH(dtype, label, call)                                                    \
  switch (dtype) {                                                                                   \
    case DType::f32: call(float); break;                                                             \
    case DType::f64: call(double); break;                                                            \
    default: fail(ErrorKind::unsupported, label, ": no CPU kernel for type ", dtype_name(dtype));    \
  }

class BatchNormKernel final : public Kernel {
 public:
  explicit BatchNormKernel(const KernelInit& init)
      : label_(init.node.label()),
        epsilon_(init.attributes().get_float("epsilon", 1e-5f)),
        momentum_(init.attributes().get_float("momentum", 0.9f)),
        training_(init.opset >= 14 && init.attributes().get_int("training_mode", 0) != 0) {}

  void run(const KernelContext& ctx) const override {
#define INFERD_RUN(T) training_ ? run_training<T>(ctx) : run_inference<T>(ctx)
    INFERD_FLOAT_DISPATCH(ctx.input(0).dtype, label_, INFERD_RUN)
#undef INFERD_RUN
  }

 private:
  template <typename T> void run_inference(const KernelContext& ctx) const {
    const Tensor& x = ctx.input(0);
    const int64_t N = x.shape[0], C = x.shape[1], inner = N * C == 0 ? 0 : x.size() / (N * C);
    const T* X = x.data_as<T>();
    const T* scale = ctx.input(1).data_as<T>();
    const T* bias = ctx.input(2).data_as<T>();
    const T* mean = ctx.input(3).data_as<T>();
    const T* var = ctx.input(4).data_as<T>();
    T* Y = ctx.output(0).data_as<T>();
    const T eps = static_cast<T>(epsilon_);
    if (ctx.input(1).size() == C) {
      // Per channel: fold the statistics into a and b first.
      T* a = scratch<T>(2 * C);
      T* b = a + C;
      for (int64_t c = 0; c < C; ++c) {
        a[c] = scale[c] / std::sqrt(var[c] + eps);
        b[c] = bias[c] - mean[c] * a[c];
      }
      ctx.threads->parallel_for(N * C, grain_for(inner), [&](int64_t q0, int64_t q1) {
        for (int64_t q = q0; q < q1; ++q) scale_shift(X + q * inner, inner, a[q % C], b[q % C], Y + q * inner);
      });
      return;
    }
    // spatial = 0 (opsets < 9): parameters per (channel, position).
    ctx.threads->parallel_for(N * C, grain_for(inner), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t base = (q % C) * inner;
        const T* in = X + q * inner;
        T* out = Y + q * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t p = base + i;
          out[i] = (in[i] - mean[p]) * scale[p] / std::sqrt(var[p] + eps) + bias[p];
        }
      }
    });
  }

  // training_mode = 1: normalise with the batch's mean and (biased) variance per channel, and give
  // running_mean = mean·momentum + batch_mean·(1 − momentum), likewise running_var.
  template <typename T> void run_training(const KernelContext& ctx) const {
    const Tensor& x = ctx.input(0);
    const int64_t N = x.shape[0], C = x.shape[1], inner = N * C == 0 ? 0 : x.size() / (N * C);
    const T* X = x.data_as<T>();
    const T* scale = ctx.input(1).data_as<T>();
    const T* bias = ctx.input(2).data_as<T>();
    const T* mean = ctx.input(3).data_as<T>();
    const T* var = ctx.input(4).data_as<T>();
    T* Y = ctx.output(0).data_as<T>();
    T* running_mean = ctx.output_count > 1 && ctx.outputs[1] ? ctx.output(1).data_as<T>() : nullptr;
    T* running_var = ctx.output_count > 2 && ctx.outputs[2] ? ctx.output(2).data_as<T>() : nullptr;
    const T eps = static_cast<T>(epsilon_), momentum = static_cast<T>(momentum_);
    const T count = static_cast<T>(N * inner);
    ctx.threads->parallel_for(C, grain_for(N * inner), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        T sum = 0;
        for (int64_t n = 0; n < N; ++n) sum += sum_of(X + (n * C + c) * inner, inner);
        const T batch_mean = sum / count;
        T deviation = 0;
        for (int64_t n = 0; n < N; ++n) deviation += squared_deviation_of(X + (n * C + c) * inner, inner, batch_mean);
        const T batch_var = deviation / count;
        const T a = scale[c] / std::sqrt(batch_var + eps), b = bias[c] - batch_mean * a;
        for (int64_t n = 0; n < N; ++n) scale_shift(X + (n * C + c) * inner, inner, a, b, Y + (n * C + c) * inner);
        if (running_mean) running_mean[c] = mean[c] * momentum + batch_mean * (T(1) - momentum);
        if (running_var) running_var[c] = var[c] * momentum + batch_var * (T(1) - momentum);
      }
    });
  }

  std::string label_;
  float epsilon_, momentum_;
  bool training_;
};

class InstanceNormKernel final : public Kernel {
 public:
  explicit InstanceNormKernel(const KernelInit& init)
      : label_(init.node.label()), epsilon_(init.attributes().get_float("epsilon", 1e-5f)) {}

  void run(const KernelContext& ctx) const override {
#define INFERD_RUN(T) run_typed<T>(ctx)
    INFERD_FLOAT_DISPATCH(ctx.input(0).dtype, label_, INFERD_RUN)
#undef INFERD_RUN
  }

 private:
  template <typename T> void run_typed(const KernelContext& ctx) const {
    const Tensor& x = ctx.input(0);
    const int64_t N = x.shape[0], C = x.shape[1], inner = N * C == 0 ? 0 : x.size() / (N * C);
    const T* X = x.data_as<T>();
    const T* scale = ctx.input(1).data_as<T>();
    const T* bias = ctx.input(2).data_as<T>();
    T* Y = ctx.output(0).data_as<T>();
    const T eps = static_cast<T>(epsilon_);
    ctx.threads->parallel_for(N * C, grain_for(inner), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const T* in = X + q * inner;
        const T mean = sum_of(in, inner) / static_cast<T>(inner);
        const T var = squared_deviation_of(in, inner, mean) / static_cast<T>(inner);
        const int64_t c = q % C;
        const T a = scale[c] / std::sqrt(var + eps);
        scale_shift(in, inner, a, bias[c] - mean * a, Y + q * inner);
      }
    });
  }

  std::string label_;
  float epsilon_;
};

class LayerNormKernel final : public Kernel {
 public:
  explicit LayerNormKernel(const KernelInit& init)
      : label_(init.node.label()),
        axis_(init.attributes().get_int("axis", -1)),
        epsilon_(init.attributes().get_float("epsilon", 1e-5f)),
        fast_rows_(layer_norm_rows_avx512()) {}

  void run(const KernelContext& ctx) const override {
    const DType stats = ctx.output_count > 1 && ctx.outputs[1] ? ctx.output(1).dtype
                        : ctx.output_count > 2 && ctx.outputs[2] ? ctx.output(2).dtype
                                                                 : DType::f32;
    switch (ctx.input(0).dtype) {
      case DType::f32: stats == DType::f64 ? run_typed<float, double>(ctx) : run_typed<float, float>(ctx); break;
      case DType::f64: stats == DType::f64 ? run_typed<double, double>(ctx) : run_typed<double, float>(ctx); break;
      default: fail(ErrorKind::unsupported, label_, ": no CPU kernel for type ", dtype_name(ctx.input(0).dtype));
    }
  }

 private:
  // p (Scale or B) as a contiguous [inner] vector over X's normalized dims (`rank` of them, from
  // `dims`): itself when it already has all inner elements, else broadcast into `buffer`. p's dims
  // align with the last of them, numpy-style; a dim of 1 (or a missing one) repeats.
  template <typename T>
  static const T* expanded(const Tensor& p, const int64_t* dims, int rank, int64_t inner, T* buffer) {
    if (p.size() == inner) return p.data_as<T>();
    int64_t strides[kMaxRank];
    const int missing = rank - static_cast<int>(p.rank());
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t size = d >= missing ? p.shape[static_cast<size_t>(d - missing)] : 1;
      strides[d] = size == 1 ? 0 : stride;
      stride *= size;
    }
    const T* src = p.data_as<T>();
    for (int64_t i = 0; i < inner; ++i) {
      int64_t rest = i, offset = 0;
      for (int d = rank - 1; d >= 0; --d) {
        offset += (rest % dims[d]) * strides[d];
        rest /= dims[d];
      }
      buffer[i] = src[offset];
    }
    return buffer;
  }

  // T: X's type, the one computed in (a double X is normalised in double whatever stash_type says);
  // U: the Mean and InvStdDev outputs' type.
  template <typename T, typename U> void run_typed(const KernelContext& ctx) const {
    const Tensor& x = ctx.input(0);
    const int64_t rank = x.rank();
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    // No Shape of the normalized dims: a run at a planned shape allocates nothing.
    const int64_t* normalized = x.shape.data() + axis;
    const int normalized_rank = static_cast<int>(rank - axis);
    const int64_t inner = dims_product(x.shape, static_cast<int>(axis), static_cast<int>(rank));
    const int64_t outer = dims_product(x.shape, 0, static_cast<int>(axis));
    if (inner == 0 || outer == 0) return;
    T* buffer = scratch<T>(2 * inner);
    const T* scale = expanded<T>(ctx.input(1), normalized, normalized_rank, inner, buffer);
    const T* bias =
        ctx.has_input(2) ? expanded<T>(ctx.input(2), normalized, normalized_rank, inner, buffer + inner) : nullptr;
    U* mean_out = ctx.output_count > 1 && ctx.outputs[1] ? ctx.output(1).data_as<U>() : nullptr;
    U* inv_out = ctx.output_count > 2 && ctx.outputs[2] ? ctx.output(2).data_as<U>() : nullptr;
    const T* X = x.data_as<T>();
    T* Y = ctx.output(0).data_as<T>();
    const T eps = static_cast<T>(epsilon_);
    if constexpr (std::is_same_v<T, float> && std::is_same_v<U, float>) {
      if (fast_rows_) {
        ctx.threads->parallel_for(outer, grain_for(inner), [&](int64_t r0, int64_t r1) {
          fast_rows_(X + r0 * inner, Y + r0 * inner, r1 - r0, inner, scale, bias, eps, mean_out ? mean_out + r0 : nullptr,
                     inv_out ? inv_out + r0 : nullptr);
        });
        return;
      }
    }
    ctx.threads->parallel_for(outer, grain_for(inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* in = X + r * inner;
        T* out = Y + r * inner;
        const T mean = sum_of(in, inner) / static_cast<T>(inner);
        const T inv = T(1) / std::sqrt(squared_deviation_of(in, inner, mean) / static_cast<T>(inner) + eps);
        if (bias) {
          for (int64_t i = 0; i < inner; ++i) out[i] = (in[i] - mean) * inv * scale[i] + bias[i];
        } else {
          for (int64_t i = 0; i < inner; ++i) out[i] = (in[i] - mean) * inv * scale[i];
        }
        if (mean_out) mean_out[r] = static_cast<U>(mean);
        if (inv_out) inv_out[r] = static_cast<U>(inv);
      }
    });
  }

  std::string label_;
  int64_t axis_;
  float epsilon_;
  LayerNormRowsFn fast_rows_;  // float rows with the CPU's vector kernel; null: the portable loops
};

std::unique_ptr<Kernel> make_batch_norm(const KernelInit& init) { return std::make_unique<BatchNormKernel>(init); }
std::unique_ptr<Kernel> make_instance_norm(const KernelInit& init) { return std::make_unique<InstanceNormKernel>(init); }
std::unique_ptr<Kernel> make_layer_norm(const KernelInit& init) { return std::make_unique<LayerNormKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("BatchNormalization", 1, 8, make_batch_norm);
INFERD_CPU_KERNEL("BatchNormalization", 9, 13, make_batch_norm);
INFERD_CPU_KERNEL("BatchNormalization", 14, kMaxOpset, make_batch_norm);
INFERD_CPU_KERNEL("InstanceNormalization", 1, kMaxOpset, make_instance_norm);
INFERD_CPU_KERNEL("LayerNormalization", 17, kMaxOpset, make_layer_norm);

}  // namespace inferd
