// The vision ops (Conv, ConvTranspose, the pools, the normalizations, Pad, DepthToSpace,
// SpaceToDepth, Resize), each through its shape function and CPU kernel, for what the ONNX
// conformance cases leave out: every fast path of Conv (pointwise, depthwise, pre-packed filter,
// chunked im2col, several threads) and ConvTranspose against naive loops on random geometries in
// 1-D, 2-D and 3-D; im2col against its reference; the pools' Indices in both storage orders and
// their integer types; BatchNormalization's spatial = 0 and training mode; LayerNormalization's
// broadcast Scale and statistics outputs; every Pad mode with crops and large pads, in the
// attribute (opsets 1–10), input (11+) and axes (18+) forms; DepthToSpace's two orders; Resize
// against a literal transcription of the ONNX reference on random sizes, its opset-10 and opset-11
// modes and its integer types; and the errors bad models get.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/im2col.h"
#include "cpu/kernels/layer_norm_rows.h"
#include "support/check.h"
#include "support/op_harness.h"

using namespace inferd;

using inferd::test::attr_int;
using inferd::test::attr_float;
using inferd::test::attr_ints;
using inferd::test::attr_string;
using inferd::test::make_node;

namespace {

// ---- Building nodes and tensors ------------------------------------------------------------------

template <typename T> Tensor tensor(Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  CHECK(static_cast<size_t>(t.size()) == values.size());
  for (size_t i = 0; i < values.size(); ++i) t.data_as<T>()[i] = values[i];
  return t;
}

template <typename T> Tensor random_tensor(Shape shape, std::mt19937& rng, double lo = -2, double hi = 2) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) {
    const double v = dist(rng);
    t.data_as<T>()[i] = static_cast<T>(std::is_integral_v<T> ? std::round(v) : v);
  }
  return t;
}

template <typename T> std::vector<T> values_of(const Tensor& t) {
  CHECK(t.dtype == dtype_of<T>);
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.size());
}

Tensor omitted() { return Tensor{}; }

int64_t pick(std::mt19937& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// ---- Running an op -------------------------------------------------------------------------------

struct Inferred {
  std::vector<DType> dtypes;
  std::vector<Shape> shapes;
};

// Shape inference with every input's value known (as the planner knows constants).
Inferred infer(const Node& node, int opset, const std::vector<Tensor>& inputs, size_t outputs = 1) {
  const OpSchema* schema = SchemaRegistry::instance().find(node.domain, node.op_type, opset);
  if (!schema) fail(ErrorKind::unsupported, "no schema for ", node.op_type, " at opset ", opset);
  std::vector<DType> dtypes;
  std::vector<const Shape*> shapes;
  std::vector<const Tensor*> values;
  for (const Tensor& in : inputs) {
    const bool given = in.dtype != DType::undefined;
    dtypes.push_back(in.dtype);
    shapes.push_back(given ? &in.shape : nullptr);
    values.push_back(given ? &in : nullptr);
  }
  Inferred r;
  r.dtypes.assign(outputs, DType::undefined);
  r.shapes.assign(outputs, Shape{});
  std::vector<Tensor> out_values(outputs);
  ShapeContext ctx(node, opset, dtypes.data(), shapes.data(), values.data(), inputs.size(), r.dtypes.data(),
                   r.shapes.data(), out_values.data(), outputs);
  schema->infer(ctx);
  return r;
}

// Infers, then runs the CPU kernel (made with the inputs flagged in `constant` as load-time
// constants) on a pool of `threads`; the outputs are filled with NaN-like garbage first so that a
// kernel that forgets an element is caught.
std::vector<Tensor> run(const Node& node, int opset, const std::vector<Tensor>& inputs, int threads = 1,
                        const std::vector<bool>& constant = {}, size_t outputs = 1) {
  const Inferred shapes = infer(node, opset, inputs, outputs);
  const KernelDef* def = KernelRegistry::instance().find("cpu", node.domain, node.op_type, opset);
  if (!def) fail(ErrorKind::unsupported, "no CPU kernel for ", node.op_type, " at opset ", opset);
  KernelInit init{node, opset, {}};
  for (size_t i = 0; i < inputs.size(); ++i)
    init.constant_inputs.push_back(i < constant.size() && constant[i] ? &inputs[i] : nullptr);
  std::unique_ptr<Kernel> kernel = def->make(init);
  std::vector<const Tensor*> in_ptrs;
  for (const Tensor& in : inputs) in_ptrs.push_back(in.dtype == DType::undefined ? nullptr : &in);
  std::vector<Tensor> out(outputs);
  std::vector<Tensor*> out_ptrs;
  for (size_t i = 0; i < outputs; ++i) {
    out[i] = Tensor::allocate(shapes.dtypes[i], shapes.shapes[i]);
    std::memset(out[i].data, 0x7f, out[i].nbytes());
    out_ptrs.push_back(&out[i]);
  }
  ThreadPool pool(threads);
  KernelContext ctx;
  ctx.inputs = in_ptrs.data();
  ctx.input_count = in_ptrs.size();
  ctx.outputs = out_ptrs.data();
  ctx.output_count = outputs;
  ctx.threads = &pool;
  kernel->run(ctx);
  return out;
}

Tensor run1(const Node& node, int opset, const std::vector<Tensor>& inputs, int threads = 1,
            const std::vector<bool>& constant = {}) {
  return run(node, opset, inputs, threads, constant, 1)[0];
}

// |a − b| <= atol + rtol·|b| elementwise (NaN equal to NaN), reporting the first difference.
bool close(const std::vector<double>& actual, const std::vector<double>& expected, double rtol = 1e-4,
           double atol = 1e-5, const char* what = "") {
  if (actual.size() != expected.size()) {
    std::fprintf(stderr, "%s: %zu values, expected %zu\n", what, actual.size(), expected.size());
    return false;
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], b = expected[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    if (!(std::fabs(a - b) <= atol + rtol * std::fabs(b))) {
      std::fprintf(stderr, "%s: element %zu is %.8g, expected %.8g\n", what, i, a, b);
      return false;
    }
  }
  return true;
}

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) {
    switch (t.dtype) {
      case DType::f32: v[static_cast<size_t>(i)] = t.data_as<float>()[i]; break;
      case DType::f64: v[static_cast<size_t>(i)] = t.data_as<double>()[i]; break;
      case DType::i64: v[static_cast<size_t>(i)] = static_cast<double>(t.data_as<int64_t>()[i]); break;
      case DType::i32: v[static_cast<size_t>(i)] = t.data_as<int32_t>()[i]; break;
      case DType::u8: v[static_cast<size_t>(i)] = t.data_as<uint8_t>()[i]; break;
      case DType::i8: v[static_cast<size_t>(i)] = t.data_as<int8_t>()[i]; break;
      default: CHECK(false);
    }
  }
  return v;
}

// Row-major multi-index helpers.
std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& dims) {
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = flat % dims[d];
    flat /= dims[d];
  }
  return idx;
}

// ---- Conv and ConvTranspose ----------------------------------------------------------------------

// A random window: kernel, strides, dilations and explicit pads per spatial dim.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, begin, end;
};

Window random_window(std::mt19937& rng, size_t s, bool pointwise) {
  Window w;
  for (size_t d = 0; d < s; ++d) {
    w.kernel.push_back(pointwise ? 1 : pick(rng, 1, 4));
    w.strides.push_back(pointwise ? 1 : pick(rng, 1, 3));
    w.dilations.push_back(pointwise ? 1 : pick(rng, 1, 2));
    w.begin.push_back(pointwise ? 0 : pick(rng, 0, 2));
    w.end.push_back(pointwise ? 0 : pick(rng, 0, 2));
  }
  return w;
}

std::vector<int64_t> joined(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> v = a;
  v.insert(v.end(), b.begin(), b.end());
  return v;
}

// Conv by definition, in double: pads given per dim (begin), output shape given.
std::vector<double> conv_reference(const Tensor& x, const Tensor& w, const Tensor* b, const Shape& y_shape,
                                   const Window& win, int64_t group) {
  const size_t s = x.shape.size() - 2;
  const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0], Cg = C / group, Mg = M / group;
  const std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end()), out(y_shape.begin() + 2, y_shape.end());
  const std::vector<int64_t> k(w.shape.begin() + 2, w.shape.end());
  const int64_t P = shape_size(out), Pin = shape_size(in), taps = shape_size(k);
  const std::vector<double> X = as_doubles(x), W = as_doubles(w);
  std::vector<double> y(static_cast<size_t>(N * M * P));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t p = 0; p < P; ++p) {
        const std::vector<int64_t> o = unravel(p, out);
        double sum = b ? as_doubles(*b)[static_cast<size_t>(m)] : 0.0;
        const int64_t g = m / Mg;
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t t = 0; t < taps; ++t) {
            const std::vector<int64_t> kk = unravel(t, k);
            int64_t index = 0;
            bool inside = true;
            for (size_t d = 0; d < s; ++d) {
              const int64_t i = o[d] * win.strides[d] - win.begin[d] + kk[d] * win.dilations[d];
              inside = inside && i >= 0 && i < in[d];
              index = index * in[d] + i;
            }
            if (inside)
              sum += X[static_cast<size_t>((n * C + g * Cg + c) * Pin + index)] *
                     W[static_cast<size_t>((m * Cg + c) * taps + t)];
          }
        y[static_cast<size_t>((n * M + m) * P + p)] = sum;
      }
  return y;
}

void conv_matches_the_reference_on_random_geometries() {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 160; ++trial) {
    const size_t s = static_cast<size_t>(pick(rng, 1, 3));
    const int kind = static_cast<int>(pick(rng, 0, 3));  // 0 general, 1 pointwise, 2 depthwise, 3 grouped
    const Window win = random_window(rng, s, kind == 1);
    const int64_t group = kind == 2 ? pick(rng, 2, 5) : kind == 3 ? pick(rng, 2, 3) : 1;
    const int64_t Cg = kind == 2 ? 1 : pick(rng, 1, 6);
    // Depthwise with a channel multiplier now and then; enough output channels, sometimes, for the
    // pre-packed filter (16 per group).
    const int64_t Mg = kind == 2 ? pick(rng, 1, 2) : (pick(rng, 0, 1) ? pick(rng, 16, 40) : pick(rng, 1, 6));
    const int64_t N = pick(rng, 1, 3);
    Shape xs{N, Cg * group}, ws{Mg * group, Cg};
    const int64_t max_in = s == 3 ? 7 : s == 2 ? 17 : 40;
    for (size_t d = 0; d < s; ++d) {
      const int64_t extent = (win.kernel[d] - 1) * win.dilations[d] + 1;
      xs.push_back(std::max<int64_t>(pick(rng, 1, max_in), extent - win.begin[d] - win.end[d]));
      ws.push_back(win.kernel[d]);
    }
    const Tensor x = random_tensor<float>(xs, rng), w = random_tensor<float>(ws, rng);
    const Tensor b = random_tensor<float>({Mg * group}, rng);
    const bool with_bias = pick(rng, 0, 1) == 1;
    std::vector<Attribute> attrs{attr_ints("strides", win.strides), attr_ints("dilations", win.dilations),
                                 attr_ints("pads", joined(win.begin, win.end)), attr_int("group", group)};
    if (pick(rng, 0, 1)) attrs.push_back(attr_ints("kernel_shape", std::vector<int64_t>(ws.begin() + 2, ws.end())));
    const Node node = make_node("Conv", attrs);
    const std::vector<Tensor> inputs = with_bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w};
    const Inferred shape = infer(node, 11, inputs);
    Shape expected{N, Mg * group};
    for (size_t d = 0; d < s; ++d)
      expected.push_back((xs[d + 2] + win.begin[d] + win.end[d] - (win.kernel[d] - 1) * win.dilations[d] - 1) /
                             win.strides[d] + 1);
    CHECK(shape.shapes[0] == expected);
    const std::vector<double> want = conv_reference(x, w, with_bias ? &b : nullptr, expected, win, group);
    for (int threads : {1, 3})
      for (bool constant_w : {false, true}) {
        const Tensor y = run1(node, 22, inputs, threads, {false, constant_w, constant_w});
        char what[160];
        std::snprintf(what, sizeof what, "Conv trial %d (s=%zu kind=%d group=%lld threads=%d constant=%d)", trial, s, kind,
                      static_cast<long long>(group), threads, constant_w);
        CHECK(close(as_doubles(y), want, 1e-4, 1e-4, what));
      }
  }
}

// SAME_UPPER puts the odd unit of padding at the end, SAME_LOWER at the beginning; VALID pads nothing.
void conv_auto_pad_splits_the_padding() {
  std::mt19937 rng(12);
  const Tensor x = random_tensor<float>({1, 2, 6, 7}, rng), w = random_tensor<float>({3, 2, 4, 3}, rng);
  struct Case {
    const char* mode;
    std::vector<int64_t> begin, end;
    Shape out;
  };
  // strides [2, 1]: H 6 → 3 needs (3−1)·2 + 4 − 6 = 2 rows; W 7 → 7 needs 2 columns.
  const Case cases[] = {{"SAME_UPPER", {1, 1}, {1, 1}, {1, 3, 3, 7}},
                        {"VALID", {0, 0}, {0, 0}, {1, 3, 2, 5}}};
  for (const Case& c : cases) {
    const Node node = make_node("Conv", {attr_string("auto_pad", c.mode), attr_ints("strides", {2, 1})});
    const Tensor y = run1(node, 22, {x, w}, 2);
    CHECK(y.shape == c.out);
    Window win{{4, 3}, {2, 1}, {1, 1}, c.begin, c.end};
    CHECK(close(as_doubles(y), conv_reference(x, w, nullptr, c.out, win, 1), 1e-4, 1e-4, c.mode));
  }
  // An odd total: H 5 with kernel 2, stride 1 needs 1 row, at the end (UPPER) or the beginning (LOWER).
  const Tensor x5 = random_tensor<float>({1, 1, 5, 5}, rng), w2 = random_tensor<float>({1, 1, 2, 2}, rng);
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    const Tensor y = run1(make_node("Conv", {attr_string("auto_pad", mode)}), 11, {x5, w2, omitted()}, 1, {false, true});
    const bool upper = std::string(mode) == "SAME_UPPER";
    Window win{{2, 2}, {1, 1}, {1, 1}, {upper ? 0 : 1, upper ? 0 : 1}, {upper ? 1 : 0, upper ? 1 : 0}};
    CHECK(close(as_doubles(y), conv_reference(x5, w2, nullptr, {1, 1, 5, 5}, win, 1), 1e-4, 1e-4, mode));
  }
}

// A large image: several chunks of output positions, spread over threads one per task.
void conv_large_images_split_into_chunks() {
  std::mt19937 rng(13);
  const Tensor x = random_tensor<float>({2, 8, 40, 40}, rng), w = random_tensor<float>({32, 8, 3, 3}, rng);
  const Tensor b = random_tensor<float>({32}, rng);
  const Node node = make_node("Conv", {attr_ints("pads", {1, 1, 1, 1})});
  const std::vector<double> want = conv_reference(x, w, &b, {2, 32, 40, 40}, Window{{3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, 1);
  for (int threads : {1, 2, 4})
    for (bool constant : {false, true})
      CHECK(close(as_doubles(run1(node, 22, {x, w, b}, threads, {false, constant, constant})), want, 1e-4, 1e-4,
                  "large conv"));
}

// FusedConv = act(Conv + Z) through every path of the Conv kernel, each applying the residual and
// activation to its own blocks: direct (3×3, one group, constant filter, on AVX-512), pointwise (1×1,
// plain and strided), depthwise (5×5, stride 1 and 2, with a channel multiplier), pre-packed (a 1-D
// and a grouped conv with 16+ channels per group), im2col (a filter not known at load) and grouped
// (few channels per group), with and without bias, against the reference conv followed by the
// unfused Add and activation, on one and three threads.
struct FusedConvCase {
  const char* path;
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, pads;
  bool constant_w;
};

double reference_act(const std::string& act, double v) {
  if (act == "Relu") return v < 0 ? 0 : v;
  if (act == "LeakyRelu") return v < 0 ? 0.1 * v : v;
  if (act == "Sigmoid") return 1 / (1 + std::exp(-v));
  if (act == "Tanh") return std::tanh(v);
  if (act == "Clip") return std::min(1.0, std::max(-0.5, v));
  if (act == "HardSigmoid") return std::min(1.0, std::max(0.0, 0.2 * v + 0.5));
  if (act == "HardSwish") return v * std::min(1.0, std::max(0.0, v / 6 + 0.5));
  return v;
}

void fused_conv_applies_residual_and_activation_on_every_path() {
  std::mt19937 rng(15);
  const FusedConvCase cases[] = {
      {"direct 3x3", {2, 5, 11, 13}, {40, 5, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, true},
      {"direct 3x3 stride 2", {1, 6, 12, 9}, {20, 6, 3, 3}, 1, {2, 2}, {1, 0, 1, 0}, true},
      {"pointwise", {2, 12, 7, 9}, {24, 12, 1, 1}, 1, {1, 1}, {0, 0, 0, 0}, true},
      {"pointwise strided", {1, 8, 9, 9}, {16, 8, 1, 1}, 1, {2, 2}, {0, 0, 0, 0}, true},
      {"depthwise 5x5", {2, 6, 10, 23}, {6, 1, 5, 5}, 6, {1, 1}, {2, 2, 2, 2}, true},
      {"depthwise stride 2, multiplier 2", {1, 4, 9, 11}, {8, 1, 3, 3}, 4, {2, 2}, {1, 1, 1, 1}, true},
      {"packed 1-D", {2, 6, 300}, {32, 6, 3}, 1, {1}, {1, 1}, true},
      {"packed grouped", {1, 8, 9, 10}, {32, 4, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}, true},
      {"im2col", {2, 3, 8, 9}, {7, 3, 3, 3}, 1, {1, 1}, {0, 1, 2, 1}, false},
      {"grouped", {1, 6, 7, 7}, {9, 2, 3, 3}, 3, {1, 2}, {1, 1, 1, 1}, true},
  };
  const char* activations[] = {"", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish"};
  int variant = 0;
  for (const FusedConvCase& c : cases)
    for (const char* act : activations) {
      ++variant;
      const bool with_bias = variant % 3 != 0, with_z = variant % 4 != 1;
      const size_t s = c.x.size() - 2;
      Window win;
      for (size_t d = 0; d < s; ++d) {
        win.kernel.push_back(c.w[d + 2]);
        win.strides.push_back(c.strides[d]);
        win.dilations.push_back(1);
        win.begin.push_back(c.pads[d]);
        win.end.push_back(c.pads[d + s]);
      }
      Shape ys{c.x[0], c.w[0]};
      for (size_t d = 0; d < s; ++d)
        ys.push_back((c.x[d + 2] + win.begin[d] + win.end[d] - win.kernel[d]) / win.strides[d] + 1);
      const Tensor x = random_tensor<float>(c.x, rng), w = random_tensor<float>(c.w, rng);
      const Tensor b = random_tensor<float>({c.w[0]}, rng), z = random_tensor<float>(ys, rng, -3, 3);
      std::vector<Attribute> attrs{attr_ints("strides", c.strides), attr_ints("pads", c.pads), attr_int("group", c.group)};
      if (*act) attrs.push_back(attr_string("activation", act));
      if (std::string(act) == "LeakyRelu") attrs.push_back(attr_float("activation_alpha", 0.1f));
      if (std::string(act) == "Clip") {
        attrs.push_back(attr_float("activation_alpha", -0.5f));
        attrs.push_back(attr_float("activation_beta", 1.0f));
      }
      Node node = make_node("FusedConv", attrs);
      node.domain = "com.inferd";
      std::vector<Tensor> inputs{x, w, with_bias ? b : Tensor{}};
      if (with_z) inputs.push_back(z);
      std::vector<double> want = conv_reference(x, w, with_bias ? &b : nullptr, ys, win, c.group);
      const std::vector<double> zs = as_doubles(z);
      for (size_t i = 0; i < want.size(); ++i) want[i] = reference_act(act, want[i] + (with_z ? zs[i] : 0.0));
      for (int threads : {1, 3}) {
        const Tensor y = run1(node, 9, inputs, threads, {false, c.constant_w, c.constant_w});
        char what[160];
        std::snprintf(what, sizeof what, "FusedConv %s, activation '%s', bias %d, Z %d, threads %d", c.path, act,
                      with_bias, with_z, threads);
        CHECK(y.shape == ys);
        CHECK(close(as_doubles(y), want, 1e-4, 1e-4, what));
      }
    }
}

// The direct convolution (a constant 2-D filter larger than 1×1, one group, on AVX-512; elsewhere
// these run through im2col and check that path instead), and the depthwise convs that share its
// padded, phase-split input, at their edges: input channels past one
// chunk of partial sums (32) and not a multiple of 8 or 16, output channels not a multiple of its
// 8-channel blocks, rows narrower than a vector (one vector then spans several rows) and not a
// multiple of 16, strides 1, 2, 3 and mixed (split by phase), dilations, asymmetric padding, images
// tall enough for several bands of rows, batches; plain Conv and FusedConv (Z and an activation:
// Relu and Clip applied in registers, HardSwish after each band), on one and three threads.
void conv_direct_matches_the_reference_at_its_edges() {
  std::mt19937 rng(16);
  struct Case {
    const char* what;
    Shape x, w;
    std::vector<int64_t> strides, dilations, pads;
    int64_t group = 1;
  };
  const Case cases[] = {
      {"3x3, 70 channels in, 13 out, odd width", {1, 70, 9, 37}, {13, 70, 3, 3}, {1, 1}, {1, 1}, {0, 2, 1, 1}},
      {"3x3, several bands, batch 2", {2, 40, 70, 66}, {24, 40, 3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {"3x3, rows narrower than a vector", {3, 9, 5, 3}, {11, 9, 3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {"2x2, one column", {1, 4, 6, 1}, {5, 4, 2, 2}, {1, 1}, {1, 1}, {0, 1, 1, 0}},
      {"3x3 dilated (2, 3)", {1, 17, 13, 19}, {9, 17, 3, 3}, {1, 1}, {2, 3}, {2, 1, 0, 3}},
      {"3x3 stride 2, 33 in, 17 out", {2, 33, 15, 23}, {17, 33, 3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},
      {"5x5 stride 2 dilation 2", {1, 6, 21, 18}, {8, 6, 5, 5}, {2, 2}, {2, 2}, {3, 2, 1, 4}},
      {"7x7 stride 2 (a stem)", {2, 3, 30, 31}, {10, 3, 7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}},
      {"3x3 strides (1, 2)", {1, 12, 11, 20}, {16, 12, 3, 3}, {1, 2}, {1, 1}, {1, 0, 1, 1}},
      {"4x3 stride 3", {1, 5, 17, 16}, {7, 5, 4, 3}, {3, 3}, {1, 1}, {0, 2, 1, 0}},
      {"1x1 stride 2, 40 in (one phase plane)", {2, 40, 13, 18}, {12, 40, 1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}},
      {"1x1 stride 2 padded", {1, 6, 7, 9}, {9, 6, 1, 1}, {2, 2}, {1, 1}, {1, 0, 1, 1}},
      {"3x3 stride 2 dilation 2 (one phase plane)", {1, 7, 19, 21}, {10, 7, 3, 3}, {2, 2}, {2, 2}, {2, 2, 1, 2}},
      {"depthwise 3x3, batch 2", {2, 20, 28, 28}, {20, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 20},
      {"depthwise 3x3 dilated, multiplier 3", {1, 4, 11, 37}, {12, 1, 3, 3}, {1, 1}, {2, 1}, {2, 0, 1, 2}, 4},
      {"depthwise 5x5 stride 2, rows narrower than a vector", {1, 6, 9, 3}, {6, 1, 5, 5}, {2, 2}, {1, 1}, {2, 2, 2, 2}, 6},
      {"depthwise 3x3 strides (2, 1)", {1, 5, 14, 19}, {5, 1, 3, 3}, {2, 1}, {1, 1}, {1, 1, 0, 1}, 5},
  };
  for (const Case& c : cases) {
    Window win{{c.w[2], c.w[3]}, c.strides, c.dilations, {c.pads[0], c.pads[1]}, {c.pads[2], c.pads[3]}};
    Shape ys{c.x[0], c.w[0]};
    for (size_t d = 0; d < 2; ++d)
      ys.push_back((c.x[d + 2] + win.begin[d] + win.end[d] - (win.kernel[d] - 1) * win.dilations[d] - 1) /
                       win.strides[d] + 1);
    const Tensor x = random_tensor<float>(c.x, rng), w = random_tensor<float>(c.w, rng);
    const Tensor b = random_tensor<float>({c.w[0]}, rng), z = random_tensor<float>(ys, rng, -3, 3);
    const std::vector<Attribute> attrs{attr_ints("strides", c.strides), attr_ints("dilations", c.dilations),
                                       attr_ints("pads", c.pads), attr_int("group", c.group)};
    const std::vector<double> want = conv_reference(x, w, &b, ys, win, c.group);
    // Relu and Clip (with the residual) are applied in registers as blocks are stored, the other
    // activations in a pass over each band: the cases take turns.
    const char* act = (&c - cases) % 3 == 0 ? "HardSwish" : (&c - cases) % 3 == 1 ? "Relu" : "Clip";
    std::vector<double> fused = want;
    const std::vector<double> zs = as_doubles(z);
    for (size_t i = 0; i < fused.size(); ++i) fused[i] = reference_act(act, fused[i] + zs[i]);
    std::vector<Attribute> fused_attrs = attrs;
    fused_attrs.push_back(attr_string("activation", act));
    if (std::string(act) == "Clip") {
      fused_attrs.push_back(attr_float("activation_alpha", -0.5f));
      fused_attrs.push_back(attr_float("activation_beta", 1.0f));
    }
    Node fused_node = make_node("FusedConv", fused_attrs);
    fused_node.domain = "com.inferd";
    for (int threads : {1, 3}) {
      char what[200];
      std::snprintf(what, sizeof what, "direct conv %s, threads %d", c.what, threads);
      const Tensor y = run1(make_node("Conv", attrs), 11, {x, w, b}, threads, {false, true, true});
      CHECK(y.shape == ys);
      CHECK(close(as_doubles(y), want, 1e-4, 1e-4, what));
      std::snprintf(what, sizeof what, "direct FusedConv %s, %s, threads %d", c.what, act, threads);
      const Tensor yf = run1(fused_node, 9, {x, w, b, z}, threads, {false, true, true, false});
      CHECK(yf.shape == ys);
      CHECK(close(as_doubles(yf), fused, 1e-4, 1e-4, what));
    }
  }
}

// Z must be Y's shape exactly: the optimizer absorbs only an Add it has proved to be one, so
// anything else is a malformed model, reported with the node's name rather than broadcast.
void fused_conv_rejects_a_residual_of_another_shape() {
  std::mt19937 rng(16);
  const Tensor x = random_tensor<float>({1, 4, 5, 5}, rng), w = random_tensor<float>({2, 4, 3, 3}, rng);
  Node node = make_node("FusedConv", {attr_ints("pads", {1, 1, 1, 1}), attr_string("activation", "Relu")});
  node.domain = "com.inferd";
  CHECK_THROWS(infer(node, 13, {x, w, Tensor{}, random_tensor<float>({1, 2, 1, 1}, rng)}), ErrorKind::invalid_model,
               "FusedConv node 'n': input Z of shape [1, 2, 1, 1] must have the output's shape [1, 2, 5, 5]");
  Node swish = make_node("FusedConv", {attr_string("activation", "Swish")});
  swish.domain = "com.inferd";
  CHECK_THROWS(infer(swish, 13, {x, w}), ErrorKind::invalid_model, "attribute 'activation' is \"Swish\"");
}

void conv_rejects_bad_models() {
  std::mt19937 rng(14);
  const Tensor x = random_tensor<float>({1, 4, 5, 5}, rng);
  CHECK_THROWS(infer(make_node("Conv"), 11, {x, random_tensor<float>({2, 3, 3, 3}, rng)}), ErrorKind::invalid_model,
               "Conv node 'n': X has 4 channels but W [2, 3, 3, 3] expects 3 per group × 1 groups");
  CHECK_THROWS(infer(make_node("Conv", {attr_int("group", 2)}), 11, {x, random_tensor<float>({3, 2, 3, 3}, rng)}),
               ErrorKind::invalid_model, "W's 3 output channels do not divide into 2 groups");
  CHECK_THROWS(infer(make_node("Conv", {attr_ints("kernel_shape", {2, 2})}), 11, {x, random_tensor<float>({2, 4, 3, 3}, rng)}),
               ErrorKind::invalid_model, "attribute 'kernel_shape' [2, 2] does not match the filter's spatial dims [3, 3]");
  CHECK_THROWS(infer(make_node("Conv"), 11, {x, random_tensor<float>({2, 4, 7, 3}, rng)}), ErrorKind::invalid_model,
               "spatial dim 0 of X [1, 4, 5, 5] is 5 (5 padded), smaller than the dilated filter's 7");
  CHECK_THROWS(infer(make_node("Conv", {attr_string("auto_pad", "SAME")}), 11, {x, random_tensor<float>({2, 4, 3, 3}, rng)}),
               ErrorKind::invalid_model, "attribute 'auto_pad' is 'SAME'");
  CHECK_THROWS(infer(make_node("Conv", {attr_ints("strides", {1})}), 11, {x, random_tensor<float>({2, 4, 3, 3}, rng)}),
               ErrorKind::invalid_model, "attribute 'strides' has 1 values for 2 spatial dims");
  CHECK_THROWS(infer(make_node("Conv"), 11, {x, random_tensor<float>({2, 4, 3, 3}, rng), random_tensor<float>({3}, rng)}),
               ErrorKind::invalid_model, "bias B must have shape [2]");
  CHECK_THROWS(infer(make_node("Conv"), 11, {random_tensor<float>({4, 5}, rng), random_tensor<float>({2, 5}, rng)}),
               ErrorKind::invalid_model, "input X must have rank 3 to 8");
  CHECK_THROWS(infer(make_node("Conv"), 11, {random_tensor<double>({1, 1, 3}, rng), random_tensor<double>({1, 1, 1}, rng)}),
               ErrorKind::unsupported, "input 0 has type double");
}

// ConvTranspose by definition: each input element scatters x·w into the outputs its taps reach.
std::vector<double> conv_transpose_reference(const Tensor& x, const Tensor& w, const Tensor* b, const Shape& y_shape,
                                             const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                             const std::vector<int64_t>& begin, int64_t group) {
  const size_t s = x.shape.size() - 2;
  const int64_t N = x.shape[0], C = x.shape[1], M = y_shape[1], Cg = C / group, Mg = M / group;
  const std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end()), out(y_shape.begin() + 2, y_shape.end());
  const std::vector<int64_t> k(w.shape.begin() + 2, w.shape.end());
  const int64_t P = shape_size(out), Pin = shape_size(in), taps = shape_size(k);
  const std::vector<double> X = as_doubles(x), W = as_doubles(w);
  std::vector<double> y(static_cast<size_t>(N * M * P), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t p = 0; p < P; ++p) y[static_cast<size_t>((n * M + m) * P + p)] = b ? as_doubles(*b)[static_cast<size_t>(m)] : 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < Pin; ++i) {
        const std::vector<int64_t> ii = unravel(i, in);
        const int64_t g = c / Cg;
        for (int64_t m = 0; m < Mg; ++m)
          for (int64_t t = 0; t < taps; ++t) {
            const std::vector<int64_t> kk = unravel(t, k);
            int64_t index = 0;
            bool inside = true;
            for (size_t d = 0; d < s; ++d) {
              const int64_t o = ii[d] * strides[d] - begin[d] + kk[d] * dilations[d];
              inside = inside && o >= 0 && o < out[d];
              index = index * out[d] + o;
            }
            if (inside)
              y[static_cast<size_t>((n * M + g * Mg + m) * P + index)] +=
                  X[static_cast<size_t>((n * C + c) * Pin + i)] * W[static_cast<size_t>((c * Mg + m) * taps + t)];
          }
      }
  return y;
}

void conv_transpose_matches_the_reference() {
  std::mt19937 rng(21);
  for (int trial = 0; trial < 80; ++trial) {
    const size_t s = static_cast<size_t>(pick(rng, 1, 3));
    const int64_t group = pick(rng, 1, 2), Cg = pick(rng, 1, 4), Mg = pick(rng, 1, 4), N = pick(rng, 1, 2);
    std::vector<int64_t> strides, dilations, begin, end, output_padding, kernel;
    Shape xs{N, Cg * group}, ws{Cg * group, Mg};
    for (size_t d = 0; d < s; ++d) {
      kernel.push_back(pick(rng, 1, 4));
      strides.push_back(pick(rng, 1, 3));
      dilations.push_back(pick(rng, 1, 2));
      begin.push_back(pick(rng, 0, 1));
      end.push_back(pick(rng, 0, 1));
      output_padding.push_back(pick(rng, 0, strides.back() - 1));
      xs.push_back(pick(rng, 1, s == 3 ? 4 : 7));
      ws.push_back(kernel.back());
    }
    const Tensor x = random_tensor<float>(xs, rng), w = random_tensor<float>(ws, rng), b = random_tensor<float>({Mg * group}, rng);
    const int how = static_cast<int>(pick(rng, 0, 2));  // 0 pads, 1 output_shape, 2 SAME_UPPER/LOWER
    std::vector<Attribute> attrs{attr_ints("strides", strides), attr_ints("dilations", dilations), attr_int("group", group),
                                 attr_ints("output_padding", output_padding)};
    Shape ys{N, Mg * group};
    std::vector<int64_t> pad_begin = begin;
    bool same_upper = pick(rng, 0, 1) == 1;
    for (size_t d = 0; d < s; ++d) {
      const int64_t natural = strides[d] * (xs[d + 2] - 1) + output_padding[d] + (kernel[d] - 1) * dilations[d] + 1;
      int64_t out = natural - begin[d] - end[d];
      if (how == 1) out = natural + pick(rng, -2, 1);
      if (how == 2) out = xs[d + 2] * strides[d];
      if (how != 0) {
        const int64_t total = how == 1 ? std::max<int64_t>(natural - out, 0) : natural - out;
        const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
        pad_begin[d] = how == 2 && same_upper ? half : total - half;
      }
      ys.push_back(out);
    }
    bool valid = true;
    for (size_t d = 0; d < s; ++d) valid = valid && ys[d + 2] >= 1;
    if (!valid) continue;
    if (how == 0) attrs.push_back(attr_ints("pads", joined(begin, end)));
    if (how == 1) attrs.push_back(attr_ints("output_shape", std::vector<int64_t>(ys.begin() + 2, ys.end())));
    if (how == 2) attrs.push_back(attr_string("auto_pad", same_upper ? "SAME_UPPER" : "SAME_LOWER"));
    const Node node = make_node("ConvTranspose", attrs);
    const Inferred shape = infer(node, 22, {x, w, b});
    CHECK(shape.shapes[0] == ys);
    const std::vector<double> want = conv_transpose_reference(x, w, &b, ys, strides, dilations, pad_begin, group);
    for (int threads : {1, 2}) {
      char what[120];
      std::snprintf(what, sizeof what, "ConvTranspose trial %d (s=%zu how=%d)", trial, s, how);
      CHECK(close(as_doubles(run1(node, 22, {x, w, b}, threads)), want, 1e-4, 1e-4, what));
    }
  }
  // output_shape may be given whole ([N, M, spatial…]).
  const Tensor x = random_tensor<float>({1, 1, 3, 3}, rng), w = random_tensor<float>({1, 2, 3, 3}, rng);
  CHECK(infer(make_node("ConvTranspose", {attr_ints("output_shape", {1, 2, 10, 8}), attr_ints("strides", {3, 2})}), 11, {x, w})
            .shapes[0] == (Shape{1, 2, 10, 8}));
  CHECK_THROWS(infer(make_node("ConvTranspose"), 11, {x, random_tensor<float>({2, 2, 3, 3}, rng)}), ErrorKind::invalid_model,
               "X has 1 channels but W [2, 2, 3, 3] has 2");
}

void im2col_matches_its_reference() {
  std::mt19937 rng(31);
  for (int trial = 0; trial < 60; ++trial) {
    ConvGeometry g;
    g.spatial = static_cast<int>(pick(rng, 1, 3));
    for (int d = 0; d < g.spatial; ++d) {
      g.kernel[d] = pick(rng, 1, 4);
      g.stride[d] = pick(rng, 1, 3);
      g.dilation[d] = pick(rng, 1, 3);
      g.pad[d] = pick(rng, 0, 3);
      g.in[d] = pick(rng, 1, 9);
      g.out[d] = pick(rng, 1, 9);  // any output size: positions past the input read padding
    }
    const int64_t channels = pick(rng, 1, 3), rows = channels * g.kernel_size(), P = g.out_size();
    const Tensor x = random_tensor<float>({channels * g.in_size()}, rng);
    std::vector<float> want(static_cast<size_t>(rows * P)), got(static_cast<size_t>(rows * P), -1.0f);
    im2col_reference(g, x.data_as<float>(), channels, want.data());
    // In chunks of output positions, as Conv calls it.
    const int64_t chunk = pick(rng, 1, P);
    std::vector<float> part(static_cast<size_t>(rows * chunk));
    ThreadPool pool(2);
    for (int64_t p0 = 0; p0 < P; p0 += chunk) {
      const int64_t count = std::min(chunk, P - p0);
      im2col(g, x.data_as<float>(), channels, p0, count, part.data(), &pool);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < count; ++j) got[static_cast<size_t>(r * P + p0 + j)] = part[static_cast<size_t>(r * count + j)];
    }
    CHECK(got == want);
  }
}

// ---- Pools ---------------------------------------------------------------------------------------

struct PoolCase {
  std::vector<int64_t> kernel, strides, dilations, begin, end;
  bool ceil_mode;
};

// MaxPool / AveragePool by definition over explicit pads; indices row-major or column-major.
void pool_reference(const Tensor& x, const Shape& y_shape, const PoolCase& c, bool max, bool count_include_pad,
                    bool column_major, std::vector<double>* y, std::vector<double>* indices) {
  const size_t s = x.shape.size() - 2;
  const std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end()), out(y_shape.begin() + 2, y_shape.end());
  const int64_t planes = x.shape[0] * x.shape[1], P = shape_size(out), Pin = shape_size(in), taps = shape_size(c.kernel);
  const std::vector<double> X = as_doubles(x);
  y->assign(static_cast<size_t>(planes * P), 0);
  indices->assign(static_cast<size_t>(planes * P), -1);
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t p = 0; p < P; ++p) {
      const std::vector<int64_t> o = unravel(p, out);
      double best = -INFINITY, sum = 0;
      int64_t count = 0, padded = 0, arg = -1;
      for (int64_t t = 0; t < taps; ++t) {
        const std::vector<int64_t> k = unravel(t, c.kernel);
        bool inside = true, in_padded = true;
        int64_t index = 0, col_index = 0, col_step = 1;
        for (size_t d = 0; d < s; ++d) {
          const int64_t i = o[d] * c.strides[d] - c.begin[d] + k[d] * c.dilations[d];
          inside = inside && i >= 0 && i < in[d];
          in_padded = in_padded && i >= -c.begin[d] && i < in[d] + c.end[d];
          index = index * in[d] + i;
          col_index += i * col_step;
          col_step *= in[d];
        }
        padded += in_padded;
        if (!inside) continue;
        const double v = X[static_cast<size_t>(q * Pin + index)];
        ++count;
        sum += v;
        if (v > best) {
          best = v;
          arg = q * Pin + (column_major ? col_index : index);
        }
      }
      (*y)[static_cast<size_t>(q * P + p)] = max ? best : sum / static_cast<double>(count_include_pad ? padded : count);
      (*indices)[static_cast<size_t>(q * P + p)] = static_cast<double>(arg);
    }
}

void pools_match_the_reference() {
  std::mt19937 rng(41);
  for (int trial = 0; trial < 120; ++trial) {
    const size_t s = static_cast<size_t>(pick(rng, 1, 3));
    PoolCase c;
    c.ceil_mode = pick(rng, 0, 1) == 1;
    Shape xs{pick(rng, 1, 2), pick(rng, 1, 3)};
    for (size_t d = 0; d < s; ++d) {
      c.kernel.push_back(pick(rng, 1, 3));
      c.strides.push_back(pick(rng, 1, 3));
      c.dilations.push_back(pick(rng, 1, 2));
      const int64_t extent = (c.kernel.back() - 1) * c.dilations.back() + 1;
      c.begin.push_back(pick(rng, 0, extent - 1));
      c.end.push_back(pick(rng, 0, extent - 1));
      xs.push_back(pick(rng, extent, s == 3 ? 6 : 11));
    }
    const Tensor x = random_tensor<float>(xs, rng);
    Shape ys{xs[0], xs[1]};
    for (size_t d = 0; d < s; ++d) {
      const int64_t span = xs[d + 2] + c.begin[d] + c.end[d] - (c.kernel[d] - 1) * c.dilations[d] - 1;
      int64_t out = (span + (c.ceil_mode ? c.strides[d] - 1 : 0)) / c.strides[d] + 1;
      if (c.ceil_mode && (out - 1) * c.strides[d] >= xs[d + 2] + c.begin[d]) --out;
      ys.push_back(out);
    }
    std::vector<Attribute> attrs{attr_ints("kernel_shape", c.kernel), attr_ints("strides", c.strides),
                                 attr_ints("dilations", c.dilations), attr_ints("pads", joined(c.begin, c.end)),
                                 attr_int("ceil_mode", c.ceil_mode)};
    const bool column_major = pick(rng, 0, 1) == 1;
    std::vector<Attribute> max_attrs = attrs;
    max_attrs.push_back(attr_int("storage_order", column_major));
    std::vector<double> want_y, want_i;
    pool_reference(x, ys, c, true, false, column_major, &want_y, &want_i);
    const std::vector<Tensor> m = run(make_node("MaxPool", max_attrs), 12, {x}, 2, {}, 2);
    char what[100];
    std::snprintf(what, sizeof what, "MaxPool trial %d (s=%zu)", trial, s);
    CHECK(m[0].shape == ys && m[1].dtype == DType::i64);
    CHECK(close(as_doubles(m[0]), want_y, 0, 0, what));
    CHECK(close(as_doubles(m[1]), want_i, 0, 0, what));
    const bool include = pick(rng, 0, 1) == 1;
    attrs.push_back(attr_int("count_include_pad", include));
    pool_reference(x, ys, c, false, include, false, &want_y, &want_i);
    std::snprintf(what, sizeof what, "AveragePool trial %d (s=%zu include=%d)", trial, s, include);
    CHECK(close(as_doubles(run1(make_node("AveragePool", attrs), 19, {x}, 3)), want_y, 1e-5, 1e-6, what));
  }
}

void max_pool_takes_integers_and_old_opsets() {
  // uint8 and int8 from opset 12, with the maximum's first occurrence as the index.
  const Tensor u = tensor<uint8_t>({1, 1, 2, 3}, {7, 200, 200, 0, 255, 3});
  const std::vector<Tensor> r = run(make_node("MaxPool", {attr_ints("kernel_shape", {2, 2})}), 12, {u}, 1, {}, 2);
  CHECK(values_of<uint8_t>(r[0]) == (std::vector<uint8_t>{255, 255}));
  CHECK(values_of<int64_t>(r[1]) == (std::vector<int64_t>{4, 4}));
  const Tensor i8 = tensor<int8_t>({1, 1, 1, 3}, {-128, -128, -5});
  const std::vector<Tensor> ri = run(make_node("MaxPool", {attr_ints("kernel_shape", {1, 2})}), 12, {i8}, 1, {}, 2);
  CHECK(values_of<int8_t>(ri[0]) == (std::vector<int8_t>{-128, -5}));
  CHECK(values_of<int64_t>(ri[1]) == (std::vector<int64_t>{0, 2}));
  CHECK_THROWS(infer(make_node("MaxPool", {attr_ints("kernel_shape", {2, 2})}), 11, {u}), ErrorKind::unsupported,
               "input 0 has type uint8");
  // Opset 1 has no Indices output; opset 8 has one but no dilations yet (they default to 1).
  const Tensor x = tensor<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK_THROWS(infer(make_node("MaxPool", {attr_ints("kernel_shape", {2, 2})}), 7, {x}, 2), ErrorKind::invalid_model,
               "MaxPool-7 has at most 1");
  CHECK(values_of<float>(run1(make_node("MaxPool", {attr_ints("kernel_shape", {2, 2})}), 1, {x})) ==
        (std::vector<float>{5, 6, 8, 9}));
  // NaN is skipped, as numpy's nanmax (and the reference) do.
  const Tensor n = tensor<float>({1, 1, 1, 3}, {NAN, 1, NAN});
  CHECK(values_of<float>(run1(make_node("MaxPool", {attr_ints("kernel_shape", {1, 2})}), 12, {n})) ==
        (std::vector<float>{1, 1}));
  // Double.
  const Tensor d = tensor<double>({1, 1, 4}, {1, -2, 3.5, 0});
  CHECK(values_of<double>(run1(make_node("MaxPool", {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})}), 12, {d})) ==
        (std::vector<double>{1, 3.5}));
  CHECK(values_of<double>(run1(make_node("AveragePool", {attr_ints("kernel_shape", {2}), attr_ints("strides", {2})}), 11, {d})) ==
        (std::vector<double>{-0.5, 1.75}));
}

void global_pools_reduce_the_spatial_dims() {
  std::mt19937 rng(42);
  const Tensor x = random_tensor<float>({2, 3, 5, 7}, rng);
  const std::vector<double> v = as_doubles(x);
  std::vector<double> mean(6), max(6, -INFINITY);
  for (size_t q = 0; q < 6; ++q) {
    for (size_t i = 0; i < 35; ++i) {
      mean[q] += v[q * 35 + i] / 35;
      max[q] = std::max(max[q], v[q * 35 + i]);
    }
  }
  const Tensor a = run1(make_node("GlobalAveragePool"), 1, {x}, 2), m = run1(make_node("GlobalMaxPool"), 22, {x}, 2);
  CHECK(a.shape == (Shape{2, 3, 1, 1}) && m.shape == (Shape{2, 3, 1, 1}));
  CHECK(close(as_doubles(a), mean, 1e-5, 1e-6, "GlobalAveragePool"));
  CHECK(close(as_doubles(m), max, 0, 0, "GlobalMaxPool"));
  CHECK(values_of<double>(run1(make_node("GlobalAveragePool"), 22, {tensor<double>({1, 1, 3}, {1, 2, 6})})) ==
        (std::vector<double>{3}));
}

void pools_reject_bad_models() {
  const Tensor x = Tensor::allocate(DType::f32, {1, 1, 4, 4});
  CHECK_THROWS(infer(make_node("MaxPool"), 12, {x}), ErrorKind::invalid_model, "attribute 'kernel_shape' is required");
  CHECK_THROWS(infer(make_node("MaxPool", {attr_ints("kernel_shape", {2, 2}), attr_ints("pads", {2, 0, 0, 0})}), 12, {x}),
               ErrorKind::invalid_model, "pads dim 0 by as much as the window's extent 2");
  CHECK_THROWS(infer(make_node("AveragePool", {attr_ints("kernel_shape", {5, 1})}), 19, {x}), ErrorKind::invalid_model,
               "spatial dim 0 of X [1, 1, 4, 4] is 4 (4 padded), smaller than the window's extent 5");
  CHECK_THROWS(infer(make_node("MaxPool", {attr_ints("kernel_shape", {1, 1, 1, 1})}), 12,
                     {Tensor::allocate(DType::f32, {1, 1, 2, 2, 2, 2})}),
               ErrorKind::unsupported, "pooling over 4 spatial dims is not supported");
  CHECK_THROWS(infer(make_node("AveragePool", {attr_ints("kernel_shape", {2, 2}), attr_int("count_include_pad", 2)}), 19, {x}),
               ErrorKind::invalid_model, "attribute 'count_include_pad' must be 0 or 1");
}

// ---- Normalizations ------------------------------------------------------------------------------

void batch_norm_per_channel_and_per_position() {
  std::mt19937 rng(51);
  const Tensor x = random_tensor<float>({2, 3, 4}, rng);
  const Tensor scale = random_tensor<float>({3}, rng), bias = random_tensor<float>({3}, rng), mean = random_tensor<float>({3}, rng);
  const Tensor var = random_tensor<float>({3}, rng, 0.1, 2);
  std::vector<double> want(24);
  const std::vector<double> X = as_doubles(x);
  for (size_t i = 0; i < 24; ++i) {
    const size_t c = (i / 4) % 3;
    want[i] = (X[i] - mean.data_as<float>()[c]) / std::sqrt(var.data_as<float>()[c] + 1e-5) * scale.data_as<float>()[c] +
              bias.data_as<float>()[c];
  }
  for (int opset : {6, 7, 9, 14, 15})
    CHECK(close(as_doubles(run1(make_node("BatchNormalization"), opset, {x, scale, bias, mean, var}, 2)), want, 1e-5, 1e-5,
                "BatchNormalization"));
  // spatial = 0 (opsets < 9): parameters per (channel, position), shaped as X without N.
  const Tensor s2 = random_tensor<float>({3, 4}, rng), b2 = random_tensor<float>({3, 4}, rng), m2 = random_tensor<float>({3, 4}, rng);
  const Tensor v2 = random_tensor<float>({3, 4}, rng, 0.1, 2);
  for (size_t i = 0; i < 24; ++i) {
    const size_t p = i % 12;
    want[i] = (X[i] - m2.data_as<float>()[p]) / std::sqrt(v2.data_as<float>()[p] + 0.01) * s2.data_as<float>()[p] + b2.data_as<float>()[p];
  }
  CHECK(close(as_doubles(run1(make_node("BatchNormalization", {attr_int("spatial", 0), attr_float("epsilon", 0.01f)}), 7,
                              {x, s2, b2, m2, v2})),
              want, 1e-5, 1e-5, "BatchNormalization spatial=0"));
  CHECK_THROWS(infer(make_node("BatchNormalization"), 9, {x, s2, b2, m2, v2}), ErrorKind::invalid_model,
               "input scale must have shape [3], got [3, 4]");
  CHECK_THROWS(infer(make_node("BatchNormalization"), 9, {x, scale, bias, mean, var}, 3), ErrorKind::unsupported,
               "training-mode statistics outputs are not supported before opset 14");
  CHECK_THROWS(infer(make_node("BatchNormalization"), 15, {x, scale, bias, mean, var}, 3), ErrorKind::invalid_model,
               "only produced with training_mode = 1");
}

void batch_norm_training_mode_uses_the_batch() {
  std::mt19937 rng(52);
  const Tensor x = random_tensor<double>({3, 2, 5}, rng);
  const Tensor scale = random_tensor<double>({2}, rng), bias = random_tensor<double>({2}, rng), mean = random_tensor<double>({2}, rng);
  const Tensor var = random_tensor<double>({2}, rng, 0.1, 2);
  const std::vector<Tensor> r = run(make_node("BatchNormalization", {attr_int("training_mode", 1), attr_float("momentum", 0.8f)}),
                                    15, {x, scale, bias, mean, var}, 2, {}, 3);
  const std::vector<double> X = as_doubles(x);
  for (size_t c = 0; c < 2; ++c) {
    double m = 0, v = 0;
    for (size_t n = 0; n < 3; ++n)
      for (size_t i = 0; i < 5; ++i) m += X[(n * 2 + c) * 5 + i] / 15;
    for (size_t n = 0; n < 3; ++n)
      for (size_t i = 0; i < 5; ++i) v += (X[(n * 2 + c) * 5 + i] - m) * (X[(n * 2 + c) * 5 + i] - m) / 15;
    const double momentum = static_cast<double>(0.8f);
    CHECK_NEAR(r[1].data_as<double>()[c], mean.data_as<double>()[c] * momentum + m * (1 - momentum), 1e-12);
    CHECK_NEAR(r[2].data_as<double>()[c], var.data_as<double>()[c] * momentum + v * (1 - momentum), 1e-12);
    for (size_t n = 0; n < 3; ++n)
      for (size_t i = 0; i < 5; ++i) {
        const size_t k = (n * 2 + c) * 5 + i;
        CHECK_NEAR(r[0].data_as<double>()[k],
                   (X[k] - m) / std::sqrt(v + static_cast<double>(1e-5f)) * scale.data_as<double>()[c] + bias.data_as<double>()[c],
                   1e-12);
      }
  }
}

void instance_norm_per_plane() {
  std::mt19937 rng(53);
  const Tensor x = random_tensor<double>({2, 3, 2, 3}, rng), scale = random_tensor<double>({3}, rng), bias = random_tensor<double>({3}, rng);
  const Tensor y = run1(make_node("InstanceNormalization", {attr_float("epsilon", 0.5f)}), 6, {x, scale, bias}, 2);
  const std::vector<double> X = as_doubles(x);
  for (size_t q = 0; q < 6; ++q) {
    double m = 0, v = 0;
    for (size_t i = 0; i < 6; ++i) m += X[q * 6 + i] / 6;
    for (size_t i = 0; i < 6; ++i) v += (X[q * 6 + i] - m) * (X[q * 6 + i] - m) / 6;
    for (size_t i = 0; i < 6; ++i)
      CHECK_NEAR(y.data_as<double>()[q * 6 + i],
                 (X[q * 6 + i] - m) / std::sqrt(v + 0.5) * scale.data_as<double>()[q % 3] + bias.data_as<double>()[q % 3], 1e-12);
  }
  CHECK_THROWS(infer(make_node("InstanceNormalization"), 6, {x, random_tensor<double>({2}, rng), bias}), ErrorKind::invalid_model,
               "input scale must have shape [3], got [2]");
}

// The vector row kernel LayerNormalization picks where the CPU has it, checked directly against
// double (the op tests run whichever kernel this CPU gets): every tail length, with and without
// bias and statistics, in place, and rows whose mean is large against their spread.
void layer_norm_rows_kernel() {
  const LayerNormRowsFn rows = layer_norm_rows_avx512();
  if (!rows) {
    std::printf("layer_norm_rows_kernel: no AVX-512 on this CPU, skipped\n");
    return;
  }
  std::mt19937 rng(55);
  for (int64_t D = 1; D <= 70; ++D)
    for (bool with_bias : {true, false})
      for (float offset : {0.0f, 1000.0f}) {
        Tensor x = random_tensor<float>({3, D}, rng);
        for (int64_t i = 0; i < x.size(); ++i) x.data_as<float>()[i] += offset;
        const Tensor scale = random_tensor<float>({D}, rng), bias = random_tensor<float>({D}, rng);
        std::vector<float> y(static_cast<size_t>(3 * D)), mean(3), inv(3);
        rows(x.data_as<float>(), y.data(), 3, D, scale.data_as<float>(), with_bias ? bias.data_as<float>() : nullptr,
             1e-5f, mean.data(), inv.data());
        std::vector<float> in_place = values_of<float>(x);
        rows(in_place.data(), in_place.data(), 3, D, scale.data_as<float>(), with_bias ? bias.data_as<float>() : nullptr,
             1e-5f, nullptr, nullptr);
        CHECK(in_place == y);
        const std::vector<double> X = as_doubles(x);
        for (size_t r = 0; r < 3; ++r) {
          const size_t n = static_cast<size_t>(D);
          double m = 0, v = 0;
          for (size_t i = 0; i < n; ++i) m += X[r * n + i] / D;
          for (size_t i = 0; i < n; ++i) v += (X[r * n + i] - m) * (X[r * n + i] - m) / D;
          const double inv_want = 1 / std::sqrt(v + static_cast<double>(1e-5f));
          CHECK_NEAR(mean[r], m, 1e-6 * (1 + std::fabs(m)));
          // With a mean of 1000 the float inputs themselves carry ~6e-5 of rounding per unit of spread.
          const double tol = offset == 0 ? 1e-4 : 2e-2;
          CHECK_NEAR(inv[r] / inv_want, 1.0, tol);
          for (size_t i = 0; i < n; ++i) {
            const double want = (X[r * n + i] - m) * inv_want * scale.data_as<float>()[i] +
                                (with_bias ? bias.data_as<float>()[i] : 0.0);
            CHECK_NEAR(y[r * n + i], want, tol * (1 + std::fabs(want)));
          }
        }
      }
}

void layer_norm_broadcasts_scale_and_gives_statistics() {
  std::mt19937 rng(54);
  const Tensor x = random_tensor<float>({2, 3, 4}, rng);
  const Tensor scale = random_tensor<float>({1, 4}, rng);  // broadcasts to X.shape[1:] = [3, 4]
  const Tensor bias = random_tensor<float>({3, 1}, rng);
  const Node node = make_node("LayerNormalization", {attr_int("axis", 1), attr_float("epsilon", 1e-3f)});
  const std::vector<Tensor> r = run(node, 17, {x, scale, bias}, 2, {}, 3);
  CHECK(r[1].shape == (Shape{2, 1, 1}) && r[2].shape == (Shape{2, 1, 1}) && r[1].dtype == DType::f32);
  const std::vector<double> X = as_doubles(x);
  for (size_t n = 0; n < 2; ++n) {
    double m = 0, v = 0;
    for (size_t i = 0; i < 12; ++i) m += X[n * 12 + i] / 12;
    for (size_t i = 0; i < 12; ++i) v += (X[n * 12 + i] - m) * (X[n * 12 + i] - m) / 12;
    const double inv = 1 / std::sqrt(v + static_cast<double>(1e-3f));
    CHECK_NEAR(r[1].data_as<float>()[n], m, 1e-5);
    CHECK_NEAR(r[2].data_as<float>()[n], inv, 1e-4);
    for (size_t i = 0; i < 12; ++i)
      CHECK_NEAR(r[0].data_as<float>()[n * 12 + i],
                 (X[n * 12 + i] - m) * inv * scale.data_as<float>()[i % 4] + bias.data_as<float>()[i / 4], 1e-4);
  }
  // No B, double, statistics in double with stash_type 11.
  const Tensor xd = tensor<double>({1, 2}, {1, 3});
  const std::vector<Tensor> rd =
      run(make_node("LayerNormalization", {attr_int("stash_type", 11), attr_float("epsilon", 0)}), 17,
          {xd, tensor<double>({2}, {2, 1}), omitted()}, 1, {}, 2);
  CHECK(rd[1].dtype == DType::f64);
  CHECK(values_of<double>(rd[0]) == (std::vector<double>{-2, 1}));
  CHECK(values_of<double>(rd[1]) == (std::vector<double>{2}));
  CHECK_THROWS(infer(node, 17, {x, random_tensor<float>({5}, rng)}), ErrorKind::invalid_model,
               "input Scale of shape [5] does not broadcast to [3, 4] (the dims of X [2, 3, 4] from axis 1)");
  CHECK_THROWS(infer(make_node("LayerNormalization", {attr_int("axis", 3)}), 17, {x, scale}), ErrorKind::invalid_model,
               "attribute 'axis'");
  CHECK(SchemaRegistry::instance().find("", "LayerNormalization", 16) == nullptr);
}

// ---- Pad -----------------------------------------------------------------------------------------

// numpy.pad's index for position j of a run of n under each mode (reflect by repeated mirroring).
int64_t numpy_source(const std::string& mode, int64_t j, int64_t n) {
  if (mode == "edge") return std::clamp<int64_t>(j, 0, n - 1);
  if (mode == "wrap") return ((j % n) + n) % n;
  if (n == 1) return 0;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
  return j;
}

// Pad by definition: crop, then extend by the mode.
template <typename T>
std::vector<T> pad_reference(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, T value) {
  const size_t r = x.shape.size();
  Shape out(r);
  std::vector<int64_t> first(r), length(r), begin(r);
  for (size_t d = 0; d < r; ++d) {
    first[d] = std::max<int64_t>(0, -pads[d]);
    length[d] = x.shape[d] - first[d] - std::max<int64_t>(0, -pads[d + r]);
    begin[d] = std::max<int64_t>(0, pads[d]);
    out[d] = x.shape[d] + pads[d] + pads[d + r];
  }
  std::vector<T> y(static_cast<size_t>(shape_size(out)));
  for (int64_t i = 0; i < shape_size(out); ++i) {
    const std::vector<int64_t> o = unravel(i, out);
    int64_t index = 0;
    bool constant = false;
    for (size_t d = 0; d < r; ++d) {
      int64_t j = o[d] - begin[d];
      if (j < 0 || j >= length[d]) {
        if (mode == "constant") constant = true;
        else j = numpy_source(mode, j, length[d]);
      }
      index = index * x.shape[d] + first[d] + j;
    }
    y[static_cast<size_t>(i)] = constant ? value : x.data_as<T>()[constant ? 0 : index];
  }
  return y;
}

void pad_matches_numpy_in_every_mode() {
  std::mt19937 rng(61);
  for (int trial = 0; trial < 100; ++trial) {
    const size_t r = static_cast<size_t>(pick(rng, 1, 4));
    const char* modes[] = {"constant", "reflect", "edge", "wrap"};
    const std::string mode = modes[pick(rng, 0, 3)];
    Shape xs;
    std::vector<int64_t> pads(2 * r);
    for (size_t d = 0; d < r; ++d) xs.push_back(pick(rng, 1, 5));
    for (size_t d = 0; d < r; ++d) {
      // Crops leave at least one element; pads reach well past the input (reflect and wrap repeat).
      pads[d] = pick(rng, -(xs[d] - 1) / 2, 7);
      pads[d + r] = pick(rng, -(xs[d] - 1) / 2, 7);
    }
    const Tensor x = random_tensor<int32_t>(xs, rng, -100, 100);
    const Tensor pads_t = tensor<int64_t>({static_cast<int64_t>(2 * r)}, pads);
    const std::vector<int32_t> want = pad_reference<int32_t>(x, pads, mode, 42);
    const Tensor y = run1(make_node("Pad", {attr_string("mode", mode)}), 19, {x, pads_t, tensor<int32_t>({}, {42})}, 2);
    CHECK(values_of<int32_t>(y) == want);
    if (mode != "wrap") {
      // Opsets 2–10: pads and the (float) value are attributes.
      const Tensor y2 = run1(make_node("Pad", {attr_string("mode", mode), attr_ints("pads", pads), attr_float("value", 42)}), 2,
                             {x});
      CHECK(values_of<int32_t>(y2) == want);
    }
  }
}

void pad_forms_and_types() {
  // Opset 1 calls the attribute `paddings`.
  const Tensor x = tensor<float>({2, 2}, {1, 2, 3, 4});
  CHECK(values_of<float>(run1(make_node("Pad", {attr_ints("paddings", {0, 1, 0, 0}), attr_float("value", -1)}), 1, {x})) ==
        (std::vector<float>{-1, 1, 2, -1, 3, 4}));
  // Opset 18: axes (negative too) say which dims the pads cover.
  const Tensor x3 = tensor<int64_t>({1, 2, 2}, {1, 2, 3, 4});
  const Tensor y = run1(make_node("Pad", {attr_string("mode", "edge")}), 18,
                        {x3, tensor<int64_t>({2}, {1, 0}), omitted(), tensor<int64_t>({1}, {-1})});
  CHECK(y.shape == (Shape{1, 2, 3}));
  CHECK(values_of<int64_t>(y) == (std::vector<int64_t>{1, 1, 2, 3, 3, 4}));
  // bool (opset 13+), with and without a constant.
  const Tensor b = tensor<bool>({2}, {true, false});
  CHECK(values_of<bool>(run1(make_node("Pad"), 13, {b, tensor<int64_t>({2}, {1, 1})})) ==
        (std::vector<bool>{false, true, false, false}));
  CHECK(values_of<bool>(run1(make_node("Pad"), 13, {b, tensor<int64_t>({2}, {1, 0}), tensor<bool>({}, {true})})) ==
        (std::vector<bool>{true, true, false}));
  // Cropping to nothing is allowed; padding an empty dim by reflection is not.
  CHECK(infer(make_node("Pad"), 11, {x, tensor<int64_t>({4}, {0, -1, 0, -1})}).shapes[0] == (Shape{2, 0}));
  CHECK_THROWS(infer(make_node("Pad", {attr_string("mode", "reflect")}), 11, {x, tensor<int64_t>({4}, {0, -2, 0, 1})}),
               ErrorKind::invalid_model, "mode 'reflect' cannot pad dim 1, which is empty");
  CHECK_THROWS(infer(make_node("Pad"), 11, {x, tensor<int64_t>({2}, {1, 1})}), ErrorKind::invalid_model,
               "pads has 2 values; expected 4");
  CHECK_THROWS(infer(make_node("Pad", {attr_string("mode", "wrap")}), 18, {x, tensor<int64_t>({4}, {1, 1, 1, 1})}),
               ErrorKind::invalid_model, "attribute 'mode' is 'wrap'; expected constant, reflect, edge");
  CHECK_THROWS(infer(make_node("Pad"), 11, {x, tensor<int64_t>({4}, {-3, 0, 0, 0})}), ErrorKind::invalid_model,
               "crop dim 0 (of size 2) below zero");
  CHECK_THROWS(infer(make_node("Pad"), 18, {x, tensor<int64_t>({4}, {1, 1, 1, 1}), omitted(), tensor<int64_t>({2}, {0, -2})}),
               ErrorKind::invalid_model, "axes name dim 0 twice");
}

// ---- DepthToSpace and SpaceToDepth ---------------------------------------------------------------

void depth_space_move_blocks() {
  const int64_t b = 2, N = 2, C = 8, H = 2, W = 3;
  std::vector<int64_t> v(static_cast<size_t>(N * C * H * W));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i);
  const Tensor x = tensor<int64_t>({N, C, H, W}, v);
  const Tensor dcr = run1(make_node("DepthToSpace", {attr_int("blocksize", b)}), 13, {x}, 2);
  const Tensor crd = run1(make_node("DepthToSpace", {attr_int("blocksize", b), attr_string("mode", "CRD")}), 13, {x});
  CHECK(dcr.shape == (Shape{N, C / 4, H * b, W * b}));
  const int64_t Co = C / 4;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < Co; ++c)
      for (int64_t h = 0; h < H * b; ++h)
        for (int64_t w = 0; w < W * b; ++w) {
          const int64_t at = ((n * Co + c) * H * b + h) * W * b + w;
          const int64_t bh = h % b, bw = w % b;
          // DCR: the channel is (bh, bw, c); CRD: (c, bh, bw).
          const int64_t dcr_c = (bh * b + bw) * Co + c, crd_c = (c * b + bh) * b + bw;
          CHECK(dcr.data_as<int64_t>()[at] == v[static_cast<size_t>(((n * C + dcr_c) * H + h / b) * W + w / b)]);
          CHECK(crd.data_as<int64_t>()[at] == v[static_cast<size_t>(((n * C + crd_c) * H + h / b) * W + w / b)]);
        }
  // SpaceToDepth undoes DCR; before opset 11 DepthToSpace has no mode (DCR).
  const Tensor back = run1(make_node("SpaceToDepth", {attr_int("blocksize", b)}), 13, {dcr});
  CHECK(values_of<int64_t>(back) == v);
  CHECK(values_of<int64_t>(run1(make_node("DepthToSpace", {attr_int("blocksize", b)}), 1, {x})) == values_of<int64_t>(dcr));
  CHECK_THROWS(infer(make_node("DepthToSpace", {attr_int("blocksize", 3)}), 13, {x}), ErrorKind::invalid_model,
               "input channels 8 (shape [2, 8, 2, 3]) are not divisible by blocksize² = 9");
  CHECK_THROWS(infer(make_node("SpaceToDepth", {attr_int("blocksize", 2)}), 13, {x}), ErrorKind::invalid_model,
               "are not divisible by blocksize 2");
  CHECK_THROWS(infer(make_node("DepthToSpace", {attr_int("blocksize", 2), attr_string("mode", "RCD")}), 13, {x}),
               ErrorKind::invalid_model, "attribute 'mode' is 'RCD'");
  CHECK_THROWS(infer(make_node("SpaceToDepth"), 13, {x}), ErrorKind::invalid_model, "attribute 'blocksize' is required");
}

// ---- Resize --------------------------------------------------------------------------------------

// A literal transcription of onnx/reference/ops/op_resize.py (per output element, per dim: the n
// nearest indices of the edge-padded input and their coefficients), which the separable kernel is
// checked against.
struct ResizeSpec {
  std::string mode = "nearest", coordinate = "half_pixel", nearest = "round_prefer_floor";
  double cubic_a = -0.75, extrapolation = 0;
  bool exclude_outside = false, antialias = false;
};

std::vector<double> reference_coeffs(const ResizeSpec& r, double ratio, double scale) {
  if (r.mode == "nearest") {
    if (ratio == std::floor(ratio)) return {0, 1};
    if (r.nearest == "round_prefer_floor") return {double(ratio <= 0.5), double(ratio > 0.5)};
    if (r.nearest == "round_prefer_ceil") return {double(ratio < 0.5), double(ratio >= 0.5)};
    if (r.nearest == "floor") return {1, 0};
    return {0, 1};
  }
  if (r.mode == "linear") {
    if (!r.antialias) return {1 - ratio, ratio};
    const double s = std::min(scale, 1.0);
    const int64_t start = static_cast<int64_t>(std::floor(-1 / s) + 1), footprint = 2 - 2 * start;
    std::vector<double> c;
    double sum = 0;
    for (int64_t i = start; i < start + footprint; ++i) {
      c.push_back(std::clamp(1 - std::fabs((static_cast<double>(i) - ratio) * s), 0.0, 1.0));
      sum += c.back();
    }
    for (double& v : c) v /= sum;
    return c;
  }
  const double A = r.cubic_a;
  auto k = [A](double x) {
    x = std::fabs(x);
    if (x <= 1) return (A + 2) * x * x * x - (A + 3) * x * x + 1;
    if (x < 2) return A * x * x * x - 5 * A * x * x + 8 * A * x - 4 * A;
    return 0.0;
  };
  if (!r.antialias) return {k(ratio + 1), k(ratio), k(1 - ratio), k(2 - ratio)};
  const double s = std::min(scale, 1.0);
  const int64_t i_start = static_cast<int64_t>(std::floor(-2 / s) + 1), i_end = 2 - i_start;
  std::vector<double> c;
  double sum = 0;
  for (int64_t i = i_start; i < i_end; ++i) {
    c.push_back(k(s * (static_cast<double>(i) - ratio)));
    sum += c.back();
  }
  for (double& v : c) v /= sum;
  return c;
}

// For one dim: the (index into the unpadded input, coefficient) pairs, or empty for extrapolation.
std::vector<std::pair<int64_t, double>> reference_taps(const ResizeSpec& r, int64_t x, int64_t in, int64_t out_int,
                                                       double scale, double roi_start, double roi_end) {
  const double out_w = scale * static_cast<double>(in), xf = static_cast<double>(x), inf = static_cast<double>(in);
  double x_ori;
  if (r.coordinate == "align_corners") x_ori = out_w == 1 ? 0 : xf * (inf - 1) / (out_w - 1);
  else if (r.coordinate == "asymmetric") x_ori = xf / scale;
  else if (r.coordinate == "tf_half_pixel_for_nn") x_ori = (xf + 0.5) / scale;
  else if (r.coordinate == "tf_crop_and_resize") {
    x_ori = (out_w == 1 ? (roi_end - roi_start) * (inf - 1) / 2 : xf * (roi_end - roi_start) * (inf - 1) / (out_w - 1)) +
            roi_start * (inf - 1);
    if (x_ori < 0 || x_ori > inf - 1) return {};
  } else if (r.coordinate == "pytorch_half_pixel") x_ori = out_w == 1 ? -0.5 : (xf + 0.5) / scale - 0.5;
  else if (r.coordinate == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(out_int) / out_w, center = inf / 2;
    x_ori = center * (1 - adjustment) + (xf + 0.5) / scale - 0.5;
  } else x_ori = (xf + 0.5) / scale - 0.5;
  const double x_int = std::floor(x_ori);
  const double ratio = x_ori == x_int ? 1 : x_ori - x_int;
  std::vector<double> coeffs = reference_coeffs(r, ratio, scale);
  const int64_t n = static_cast<int64_t>(coeffs.size()), pad = (n + 1) / 2, padded = in + 2 * pad;
  // The n nearest indices of the padded array to x_ori + pad, ties to the smaller, in order.
  std::vector<int64_t> order(static_cast<size_t>(padded));
  for (int64_t i = 0; i < padded; ++i) order[static_cast<size_t>(i)] = i;
  const double centre = x_ori + static_cast<double>(pad);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::fabs(centre - static_cast<double>(a)) < std::fabs(centre - static_cast<double>(b));
  });
  order.resize(static_cast<size_t>(n));
  std::sort(order.begin(), order.end());
  std::vector<std::pair<int64_t, double>> taps;
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t idx = order[static_cast<size_t>(j)] - pad;
    if (r.exclude_outside && (idx < 0 || idx >= in)) coeffs[static_cast<size_t>(j)] = 0;
    sum += coeffs[static_cast<size_t>(j)];
    taps.emplace_back(std::clamp<int64_t>(idx, 0, in - 1), coeffs[static_cast<size_t>(j)]);
  }
  if (r.exclude_outside)
    for (auto& t : taps) t.second /= sum;
  return taps;
}

std::vector<double> resize_reference(const ResizeSpec& r, const Tensor& x, const Shape& y_shape,
                                     const std::vector<double>& scales, const std::vector<double>& roi) {
  const size_t rank = x.shape.size();
  const std::vector<double> X = as_doubles(x);
  std::vector<double> y(static_cast<size_t>(shape_size(y_shape)));
  for (int64_t i = 0; i < shape_size(y_shape); ++i) {
    const std::vector<int64_t> o = unravel(i, y_shape);
    std::vector<std::vector<std::pair<int64_t, double>>> taps(rank);
    bool outside = false;
    for (size_t d = 0; d < rank; ++d) {
      taps[d] = reference_taps(r, o[d], x.shape[d], y_shape[d], scales[d], roi.empty() ? 0 : roi[d],
                               roi.empty() ? 1 : roi[d + rank]);
      outside = outside || taps[d].empty();
    }
    if (outside) {
      y[static_cast<size_t>(i)] = r.extrapolation;
      continue;
    }
    // Σ over every combination of taps of Π coefficients · x.
    std::vector<size_t> k(rank, 0);
    double sum = 0;
    while (true) {
      double w = 1;
      int64_t index = 0;
      for (size_t d = 0; d < rank; ++d) {
        w *= taps[d][k[d]].second;
        index = index * x.shape[d] + taps[d][k[d]].first;
      }
      sum += w * X[static_cast<size_t>(index)];
      size_t d = rank;
      while (d-- > 0) {
        if (++k[d] < taps[d].size()) break;
        k[d] = 0;
      }
      if (d == static_cast<size_t>(-1)) break;
    }
    y[static_cast<size_t>(i)] = sum;
  }
  return y;
}

void resize_matches_the_reference_on_random_sizes() {
  std::mt19937 rng(71);
  const char* modes[] = {"nearest", "linear", "cubic"};
  const char* coordinates[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                               "tf_crop_and_resize"};
  const char* roundings[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  for (int trial = 0; trial < 150; ++trial) {
    ResizeSpec r;
    r.mode = modes[pick(rng, 0, 2)];
    r.coordinate = coordinates[pick(rng, 0, 5)];
    r.nearest = roundings[pick(rng, 0, 3)];
    r.cubic_a = pick(rng, 0, 1) ? -0.75 : -0.5;
    r.exclude_outside = r.mode == "cubic" && pick(rng, 0, 1);
    r.antialias = r.mode != "nearest" && pick(rng, 0, 1);
    r.extrapolation = 7.5;
    const size_t rank = static_cast<size_t>(pick(rng, 1, 4));
    Shape xs;
    for (size_t d = 0; d < rank; ++d) xs.push_back(pick(rng, 1, rank > 2 ? 4 : 7));
    const Tensor x = random_tensor<float>(xs, rng);
    // By scales (up to 3x either way, some exactly 1) or by sizes.
    const bool by_sizes = pick(rng, 0, 1);
    std::vector<double> scales(rank);
    std::vector<float> scale_values;
    std::vector<int64_t> sizes;
    Shape ys;
    for (size_t d = 0; d < rank; ++d) {
      if (by_sizes) {
        sizes.push_back(pick(rng, 1, 9));
        ys.push_back(sizes.back());
        scales[d] = static_cast<double>(sizes.back()) / static_cast<double>(xs[d]);
      } else {
        const float s = pick(rng, 0, 3) == 0 ? 1.0f : static_cast<float>(pick(rng, 3, 30)) / 10.0f;
        scale_values.push_back(s);
        scales[d] = s;
        ys.push_back(static_cast<int64_t>(std::floor(static_cast<double>(xs[d]) * static_cast<double>(s))));
        if (ys.back() == 0) {
          scale_values.back() = 1.0f;
          scales[d] = 1.0;
          ys.back() = xs[d];
        }
      }
    }
    std::vector<float> roi_values;
    std::vector<double> roi(2 * rank);
    for (size_t d = 0; d < rank; ++d) {
      roi_values.push_back(static_cast<float>(pick(rng, -2, 5)) / 10.0f);
      roi_values.push_back(0);
    }
    for (size_t d = 0; d < rank; ++d) roi_values[rank + d] = static_cast<float>(pick(rng, 6, 13)) / 10.0f;
    roi_values.resize(2 * rank);
    for (size_t i = 0; i < 2 * rank; ++i) roi[i] = roi_values[i];
    std::vector<Attribute> attrs{attr_string("mode", r.mode), attr_string("coordinate_transformation_mode", r.coordinate),
                                 attr_string("nearest_mode", r.nearest), attr_float("cubic_coeff_a", static_cast<float>(r.cubic_a)),
                                 attr_int("exclude_outside", r.exclude_outside), attr_int("antialias", r.antialias),
                                 attr_float("extrapolation_value", static_cast<float>(r.extrapolation))};
    const Tensor roi_t = r.coordinate == "tf_crop_and_resize" ? tensor<float>({static_cast<int64_t>(2 * rank)}, roi_values) : omitted();
    const std::vector<Tensor> inputs =
        by_sizes ? std::vector<Tensor>{x, roi_t, omitted(), tensor<int64_t>({static_cast<int64_t>(rank)}, sizes)}
                 : std::vector<Tensor>{x, roi_t, tensor<float>({static_cast<int64_t>(rank)}, scale_values)};
    const Tensor y = run1(make_node("Resize", attrs), 19, inputs, 2);
    CHECK(y.shape == ys);
    char what[200];
    std::snprintf(what, sizeof what, "Resize trial %d (%s %s %s antialias=%d exclude=%d sizes=%d)", trial, r.mode.c_str(),
                  r.coordinate.c_str(), r.nearest.c_str(), r.antialias, r.exclude_outside, by_sizes);
    CHECK(close(as_doubles(y), resize_reference(r, x, ys, scales, r.coordinate == "tf_crop_and_resize" ? roi : std::vector<double>{}),
                1e-4, 1e-5, what));
  }
}

void resize_opset_10_and_11_modes() {
  const Tensor x = tensor<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  // Opset 10 is the old Upsample: asymmetric coordinates, nearest rounding down (its spec example).
  const Tensor y = run1(make_node("Resize", {attr_string("mode", "nearest")}), 10, {x, tensor<float>({4}, {1, 1, 2, 3})});
  CHECK(y.shape == (Shape{1, 1, 4, 6}));
  CHECK(values_of<float>(y) == (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  const Tensor l = run1(make_node("Resize", {attr_string("mode", "linear")}), 10, {x, tensor<float>({4}, {1, 1, 2, 4})});
  CHECK(values_of<float>(l) == (std::vector<float>{1, 1.25, 1.5, 1.75, 2, 2, 2, 2, 2, 2.25, 2.5, 2.75, 3, 3, 3, 3,
                                                   3, 3.25, 3.5, 3.75, 4, 4, 4, 4, 3, 3.25, 3.5, 3.75, 4, 4, 4, 4}));
  // Opsets 11–12: tf_half_pixel_for_nn maps o to (o + ½)/scale; roi and scales are required inputs
  // but may be empty when sizes is given.
  const Tensor v = tensor<float>({1, 4}, {10, 20, 30, 40});
  const Tensor t = run1(make_node("Resize", {attr_string("coordinate_transformation_mode", "tf_half_pixel_for_nn")}), 11,
                        {v, tensor<float>({0}, {}), tensor<float>({0}, {}), tensor<int64_t>({2}, {1, 3})});
  CHECK(values_of<float>(t) == (std::vector<float>{20, 30, 40}));  // x = 0.67, 2, 3.33, rounded
  CHECK_THROWS(infer(make_node("Resize", {attr_string("coordinate_transformation_mode", "tf_half_pixel_for_nn")}), 13,
                     {v, omitted(), omitted(), tensor<int64_t>({2}, {1, 3})}),
               ErrorKind::invalid_model, "attribute 'coordinate_transformation_mode' is 'tf_half_pixel_for_nn'");
  CHECK_THROWS(infer(make_node("Resize", {attr_string("mode", "cubic")}), 10, {x, tensor<float>({4}, {1, 1, 2, 2})}),
               ErrorKind::invalid_model, "attribute 'mode' is 'cubic'; expected one of nearest, linear");
}

void resize_nearest_takes_every_type() {
  const Tensor x = tensor<int64_t>({2, 2}, {1, 2, 3, 4});
  const Tensor y = run1(make_node("Resize", {attr_string("coordinate_transformation_mode", "asymmetric")}), 13,
                        {x, omitted(), tensor<float>({2}, {1.5f, 2})});
  CHECK(y.shape == (Shape{3, 4}));
  // Rows at x = 0, 0.67, 1.33 → 0, 1, 1; columns at 0, 0.5, 1, 1.5 → 0, 0, 1, 1 (ties round down).
  CHECK(values_of<int64_t>(y) == (std::vector<int64_t>{1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // tf_crop_and_resize writes the extrapolation value, converted, outside the region.
  const Tensor u = tensor<uint8_t>({1, 3}, {10, 20, 30});
  const Tensor c = run1(make_node("Resize", {attr_string("coordinate_transformation_mode", "tf_crop_and_resize"),
                                             attr_float("extrapolation_value", 255)}),
                        13, {u, tensor<float>({4}, {0, 0.5f, 1, 1.5f}), omitted(), tensor<int64_t>({2}, {1, 3})});
  CHECK(values_of<uint8_t>(c) == (std::vector<uint8_t>{20, 30, 255}));
  // Axes (opset 18) with keep_aspect_ratio_policy: one scale for both resized dims.
  const Tensor f = Tensor::allocate(DType::f32, {1, 1, 4, 6});
  CHECK(infer(make_node("Resize", {attr_ints("axes", {2, 3}), attr_string("keep_aspect_ratio_policy", "not_larger")}), 18,
              {f, omitted(), omitted(), tensor<int64_t>({2}, {2, 2})})
            .shapes[0] == (Shape{1, 1, 1, 2}));
  CHECK(infer(make_node("Resize", {attr_ints("axes", {-1}), attr_string("keep_aspect_ratio_policy", "not_smaller")}), 18,
              {f, omitted(), omitted(), tensor<int64_t>({1}, {3})})
            .shapes[0] == (Shape{1, 1, 4, 3}));
}

void resize_rejects_bad_models() {
  const Tensor x = Tensor::allocate(DType::f32, {1, 1, 2, 2});
  CHECK_THROWS(infer(make_node("Resize", {attr_int("antialias", 1)}), 18, {x, omitted(), tensor<float>({4}, {1, 1, 2, 2})}),
               ErrorKind::invalid_model, "attribute 'antialias' applies to linear and cubic modes only");
  CHECK_THROWS(infer(make_node("Resize", {attr_string("mode", "linear")}), 13,
                     {Tensor::allocate(DType::i32, {2, 2}), omitted(), tensor<float>({2}, {2, 2})}),
               ErrorKind::unsupported, "mode 'linear' on type int32 is not supported");
  CHECK_THROWS(infer(make_node("Resize"), 13, {x, omitted(), tensor<float>({4}, {1, 1, 2, 2}), tensor<int64_t>({4}, {1, 1, 4, 4})}),
               ErrorKind::invalid_model, "takes either scales or sizes, not both");
  CHECK_THROWS(infer(make_node("Resize"), 13, {x}), ErrorKind::invalid_model, "needs scales or sizes");
  CHECK_THROWS(infer(make_node("Resize"), 13, {x, omitted(), tensor<float>({4}, {1, 1, 0, 2})}), ErrorKind::invalid_model,
               "scales entry 2 is 0; scales must be positive");
  CHECK_THROWS(infer(make_node("Resize"), 13, {x, omitted(), tensor<float>({2}, {2, 2})}), ErrorKind::invalid_model,
               "scales of shape [2] must have one value per resized dim (4)");
  CHECK_THROWS(infer(make_node("Resize", {attr_string("coordinate_transformation_mode", "half_pixel_symmetric")}), 18,
                     {x, omitted(), tensor<float>({4}, {1, 1, 2, 2})}),
               ErrorKind::invalid_model, "'half_pixel_symmetric'");
  CHECK(SchemaRegistry::instance().find("", "Resize", 9) == nullptr);
}

}  // namespace

int main() {
  conv_matches_the_reference_on_random_geometries();
  conv_auto_pad_splits_the_padding();
  conv_large_images_split_into_chunks();
  conv_rejects_bad_models();
  fused_conv_applies_residual_and_activation_on_every_path();
  conv_direct_matches_the_reference_at_its_edges();
  fused_conv_rejects_a_residual_of_another_shape();
  conv_transpose_matches_the_reference();
  im2col_matches_its_reference();
  pools_match_the_reference();
  max_pool_takes_integers_and_old_opsets();
  global_pools_reduce_the_spatial_dims();
  pools_reject_bad_models();
  batch_norm_per_channel_and_per_position();
  batch_norm_training_mode_uses_the_batch();
  instance_norm_per_plane();
  layer_norm_broadcasts_scale_and_gives_statistics();
  layer_norm_rows_kernel();
  pad_matches_numpy_in_every_mode();
  pad_forms_and_types();
  depth_space_move_blocks();
  resize_matches_the_reference_on_random_sizes();
  resize_opset_10_and_11_modes();
  resize_nearest_takes_every_type();
  resize_rejects_bad_models();
  if (test::failures()) std::fprintf(stderr, "%d check(s) failed\n", test::failure_count());
  return test::failures();
}
