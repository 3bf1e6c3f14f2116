// CPU kernels of Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Clip, HardSigmoid, HardSwish, Elu, Selu and
// Softplus: a functor each over the unary map of cpu/kernels/broadcast.h.
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "core/kernel_registry.h"
#include "cpu/kernels/broadcast.h"
#include "cpu/kernels/elementwise_math.h"

namespace inferd {
namespace {

using namespace cpu;

// Relu … HardSwish: the functors sgemm's epilogue applies too.
#include "cpu/kernels/activation_functors.h"

// α(e^x − 1) below 0, through expm1 so that small negative x keep their digits.
struct op_elu {
  float alpha;
  template <class T> T operator()(T x) const { return x < T(0) ? T(alpha) * math::expm1(x) : x; }
};
struct op_selu {
  float alpha, gamma;
  template <class T> T operator()(T x) const {
    return x > T(0) ? T(gamma) * x : T(gamma) * (T(alpha) * math::expm1(x));
  }
};
struct op_softplus {
  template <class T> T operator()(T x) const { return math::softplus(x); }
};

// Clip-1 and Clip-6: bounds from the `min` and `max` attributes; an absent one does not clip.
class clip_attributes_kernel final : public Kernel {
 public:
  explicit clip_attributes_kernel(const KernelInit& init)
      : label_(init.node.label()),
        has_min_(init.attributes().has("min")),
        has_max_(init.attributes().has("max")),
        min_(init.attributes().get_float("min", 0.0f)),
        max_(init.attributes().get_float("max", 0.0f)) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    visit_dtype(x.dtype, float_types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      const op_clip<T> op{has_min_ ? T(min_) : std::numeric_limits<T>::lowest(),
                          has_max_ ? T(max_) : std::numeric_limits<T>::max()};
      unary_map(x.data_as<T>(), y.data_as<T>(), x.size(), op, *ctx.threads);
    });
  }

 private:
  std::string label_;
  bool has_min_, has_max_;
  float min_, max_;
};

// Clip-11 and later: bounds from the optional scalar inputs 1 (min) and 2 (max).
class clip_kernel final : public Kernel {
 public:
  explicit clip_kernel(const KernelInit& init) : label_(init.node.label()) {}

  void run(const KernelContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    visit_dtype(x.dtype, numeric_types{}, label_, [&](auto tag) {
      using T = decltype(tag);
      const op_clip<T> op{bound<T>(ctx, 1, "min", std::numeric_limits<T>::lowest()),
                          bound<T>(ctx, 2, "max", std::numeric_limits<T>::max())};
      unary_map(x.data_as<T>(), y.data_as<T>(), x.size(), op, *ctx.threads);
    });
  }

 private:
  template <class T> T bound(const KernelContext& ctx, size_t i, const char* name, T fallback) const {
    if (!ctx.has_input(i)) return fallback;
    const Tensor& t = ctx.input(i);
    if (t.dtype != dtype_of<T> || t.size() != 1)
      fail(ErrorKind::invalid_argument, label_, ": input '", name, "' must be a one-element ",
           dtype_name(dtype_of<T>), " tensor, got ", dtype_name(t.dtype), " ", shape_to_string(t.shape));
    return *t.data_as<T>();
  }

  std::string label_;
};

template <class Op, class Types> std::unique_ptr<Kernel> make_unary(const KernelInit& init) {
  return std::make_unique<unary_kernel<Op, Types>>(init);
}

std::unique_ptr<Kernel> make_leaky_relu(const KernelInit& init) {
  const op_leaky_relu op{init.attributes().get_float("alpha", 0.01f)};
  return std::make_unique<unary_kernel<op_leaky_relu, float_types>>(init, op);
}

std::unique_ptr<Kernel> make_hard_sigmoid(const KernelInit& init) {
  const op_hard_sigmoid op{init.attributes().get_float("alpha", 0.2f), init.attributes().get_float("beta", 0.5f)};
  return std::make_unique<unary_kernel<op_hard_sigmoid, float_types>>(init, op);
}

std::unique_ptr<Kernel> make_elu(const KernelInit& init) {
  const op_elu op{init.attributes().get_float("alpha", 1.0f)};
  return std::make_unique<unary_kernel<op_elu, float_types>>(init, op);
}

// The defaults are the constants of the SELU paper, as float32 (the spec gives these digits).
std::unique_ptr<Kernel> make_selu(const KernelInit& init) {
  const op_selu op{init.attributes().get_float("alpha", 1.67326319217681884765625f),
                   init.attributes().get_float("gamma", 1.05070102214813232421875f)};
  return std::make_unique<unary_kernel<op_selu, float_types>>(init, op);
}

std::unique_ptr<Kernel> make_gelu(const KernelInit& init) {
  const std::string approximate = init.attributes().get_string("approximate", "none");
  if (approximate == "tanh") return std::make_unique<unary_kernel<op_gelu_tanh, float_types>>(init);
  if (approximate == "none") return std::make_unique<unary_kernel<op_gelu, float_types>>(init);
  fail(ErrorKind::invalid_model, init.node.label(),
       ": attribute 'approximate' must be \"none\" or \"tanh\", got \"", approximate, "\"");
}

std::unique_ptr<Kernel> make_clip_attributes(const KernelInit& init) {
  return std::make_unique<clip_attributes_kernel>(init);
}

std::unique_ptr<Kernel> make_clip(const KernelInit& init) { return std::make_unique<clip_kernel>(init); }

using relu_types = type_list<float, double, int8_t, int16_t, int32_t, int64_t>;

}  // namespace

INFERD_CPU_KERNEL("Relu", 1, kMaxOpset, (make_unary<op_relu, relu_types>));
INFERD_CPU_KERNEL("LeakyRelu", 1, kMaxOpset, make_leaky_relu);
INFERD_CPU_KERNEL("Sigmoid", 1, kMaxOpset, (make_unary<op_sigmoid, float_types>));
INFERD_CPU_KERNEL("Tanh", 1, kMaxOpset, (make_unary<op_tanh, float_types>));
INFERD_CPU_KERNEL("Gelu", 20, kMaxOpset, make_gelu);
INFERD_CPU_KERNEL("Clip", 1, 10, make_clip_attributes);
INFERD_CPU_KERNEL("Clip", 11, kMaxOpset, make_clip);
INFERD_CPU_KERNEL("HardSigmoid", 1, kMaxOpset, make_hard_sigmoid);
INFERD_CPU_KERNEL("HardSwish", 14, kMaxOpset, (make_unary<op_hard_swish, float_types>));
INFERD_CPU_KERNEL("Elu", 1, kMaxOpset, make_elu);
INFERD_CPU_KERNEL("Selu", 1, kMaxOpset, make_selu);
INFERD_CPU_KERNEL("Softplus", 1, kMaxOpset, (make_unary<op_softplus, float_types>));

}  // namespace inferd
