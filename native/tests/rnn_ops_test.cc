// LSTM and GRU through their shape functions and CPU kernels against a plain double-precision
// reference of the spec's equations written here: every direction, both layouts and the opsets
// around them, every optional input and output, sequence_lens (int32 and int64, 0 and partial),
// clip, input_forget, linear_before_reset, every activation function with its alpha/beta, weights
// constant (pre-packed) and not, one to four threads; then the errors the schemas and kernels raise.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/op_schema.h"
#include "core/thread_pool.h"
#include "support/check.h"
#include "support/op_harness.h"
#include "support/random.h"

using namespace inferd;
using inferd::test::random_floats;
using inferd::test::random_int;

using inferd::test::attr_int;
using inferd::test::attr_float;
using inferd::test::attr_string;
using inferd::test::attr_floats;
using inferd::test::make_node;

namespace {

std::mt19937 rng(20240611);

bool coin() { return random_int(rng, 0, 1) != 0; }


// ---- Nodes, tensors, running an op ---------------------------------------------------------------

Attribute attr_strings(const std::string& name, std::vector<std::string> v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::strings;
  a.strings = std::move(v);
  return a;
}

template <typename T> Tensor tensor(Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  CHECK(static_cast<size_t>(t.size()) == values.size());
  std::copy(values.begin(), values.end(), t.data_as<T>());
  return t;
}

Tensor random_tensor(Shape shape, float lo = -0.6f, float hi = 0.6f) {
  const size_t n = static_cast<size_t>(shape_size(shape));
  return tensor<float>(std::move(shape), random_floats(rng, n, lo, hi));
}

struct Input {
  Tensor tensor;
  bool known = false;
};
Input data(Tensor t) { return {std::move(t), false}; }
Input constant(Tensor t) { return {std::move(t), true}; }
Input omitted() { return {}; }

// A node ready to run: outputs inferred by the op's schema, its CPU kernel made (weights packed),
// output tensors allocated. Points into the inputs it was prepared from, which must outlive it.
struct Prepared {
  std::unique_ptr<Kernel> kernel;
  std::vector<const Tensor*> inputs;
  std::vector<Tensor> outputs;
  std::vector<Tensor*> output_ptrs;

  void run(ThreadPool& pool) {
    // NaN everywhere first: every element must be written.
    for (Tensor& t : outputs) std::fill(t.data_as<float>(), t.data_as<float>() + t.size(), NAN);
    KernelContext ctx;
    ctx.inputs = inputs.data();
    ctx.input_count = inputs.size();
    ctx.outputs = output_ptrs.data();
    ctx.output_count = output_ptrs.size();
    ctx.threads = &pool;
    kernel->run(ctx);
  }
};

Prepared prepare(const Node& node, int opset, const std::vector<Input>& inputs, size_t output_count) {
  const OpSchema* schema = SchemaRegistry::instance().find("", node.op_type, opset);
  if (!schema) fail(ErrorKind::unsupported, "no schema for ", node.op_type, " at opset ", opset);
  std::vector<DType> dtypes;
  std::vector<const Shape*> shapes;
  std::vector<const Tensor*> values;
  Prepared p;
  for (const Input& in : inputs) {
    const bool given = in.tensor.dtype != DType::undefined;
    dtypes.push_back(in.tensor.dtype);
    shapes.push_back(given ? &in.tensor.shape : nullptr);
    values.push_back(given && in.known ? &in.tensor : nullptr);
    p.inputs.push_back(given ? &in.tensor : nullptr);
  }
  std::vector<DType> out_dtypes(output_count, DType::undefined);
  std::vector<Shape> out_shapes(output_count);
  std::vector<Tensor> out_values(output_count);
  ShapeContext sctx(node, opset, dtypes.data(), shapes.data(), values.data(), inputs.size(), out_dtypes.data(),
                    out_shapes.data(), out_values.data(), output_count);
  schema->infer(sctx);

  const KernelDef* def = KernelRegistry::instance().find("cpu", "", node.op_type, opset);
  if (!def) fail(ErrorKind::unsupported, "no CPU kernel for ", node.op_type, " at opset ", opset);
  KernelInit init{node, opset, {}};
  for (const Input& in : inputs) init.constant_inputs.push_back(in.known ? &in.tensor : nullptr);
  p.kernel = def->make(init);
  p.outputs.reserve(output_count);
  for (size_t i = 0; i < output_count; ++i) p.outputs.push_back(Tensor::allocate(out_dtypes[i], out_shapes[i]));
  for (Tensor& t : p.outputs) p.output_ptrs.push_back(&t);
  return p;
}

// Infers, makes the kernel and runs it once; returns the outputs.
std::vector<Tensor> run(const Node& node, int opset, const std::vector<Input>& inputs, size_t output_count,
                        int threads = 1) {
  Prepared p = prepare(node, opset, inputs, output_count);
  ThreadPool pool(threads);
  p.run(pool);
  return std::move(p.outputs);
}

bool all_close(const Tensor& actual, const Shape& shape, const std::vector<double>& expected, const char* what,
               double rtol = 1e-4, double atol = 1e-5) {
  if (actual.shape != shape) {
    std::fprintf(stderr, "%s: shape %s, expected %s\n", what, shape_to_string(actual.shape).c_str(),
                 shape_to_string(shape).c_str());
    return false;
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const float a = actual.data_as<float>()[i];
    if (!(std::fabs(a - expected[i]) <= atol + rtol * std::fabs(expected[i]))) {
      std::fprintf(stderr, "%s: element %zu: got %.9g, expected %.9g\n", what, i, a, expected[i]);
      return false;
    }
  }
  return true;
}

// ---- The reference -------------------------------------------------------------------------------

struct Act {
  std::string name;
  double alpha = 0, beta = 0;
};

double apply(const Act& a, double x) {
  const std::string& n = a.name;
  if (n == "Sigmoid") return 1 / (1 + std::exp(-x));
  if (n == "Tanh") return std::tanh(x);
  if (n == "Relu") return std::max(0.0, x);
  if (n == "Affine") return a.alpha * x + a.beta;
  if (n == "LeakyRelu") return x >= 0 ? x : a.alpha * x;
  if (n == "ThresholdedRelu") return x > a.alpha ? x : 0;
  if (n == "ScaledTanh") return a.alpha * std::tanh(a.beta * x);
  if (n == "HardSigmoid") return std::min(1.0, std::max(0.0, a.alpha * x + a.beta));
  if (n == "Elu") return x >= 0 ? x : a.alpha * (std::exp(x) - 1);
  if (n == "Softsign") return x / (1 + std::fabs(x));
  if (n == "Softplus") return std::log1p(std::exp(x));
  std::fprintf(stderr, "unknown activation %s\n", n.c_str());
  std::abort();
}

struct Case {
  bool lstm = true;
  int opset = 22;
  std::string direction = "forward";
  int64_t S = 3, N = 2, I = 4, H = 5;
  bool batch_first = false;
  bool bias = false, lens = false, lens_int64 = false, init_h = false, init_c = false, peepholes = false;
  bool clip = false;
  float clip_value = 0.8f;
  bool input_forget = false, linear_before_reset = false;
  bool constant_weights = false;
  bool custom_activations = false;
  std::vector<Act> acts;  // per direction f, g(, h) when custom
  size_t outputs = 2;
  int threads = 1;

  int64_t D() const { return direction == "bidirectional" ? 2 : 1; }
  int64_t G() const { return lstm ? 4 : 3; }
};

struct Data {
  Tensor X, W, R, B, lens, init_h, init_c, P;
};

Data make_data(const Case& c) {
  const int64_t D = c.D(), G = c.G();
  Data d;
  d.X = random_tensor(c.batch_first ? Shape{c.N, c.S, c.I} : Shape{c.S, c.N, c.I}, -1.5f, 1.5f);
  d.W = random_tensor({D, G * c.H, c.I});
  d.R = random_tensor({D, G * c.H, c.H});
  d.B = random_tensor({D, 2 * G * c.H});
  std::vector<int64_t> lens(static_cast<size_t>(c.N));
  for (int64_t& l : lens) l = random_int(rng, 0, c.S);
  if (c.N > 0) lens[0] = c.S;  // one full row, so that max length is S
  if (c.lens_int64) {
    d.lens = tensor<int64_t>({c.N}, lens);
  } else {
    std::vector<int32_t> l32(lens.begin(), lens.end());
    d.lens = tensor<int32_t>({c.N}, l32);
  }
  const Shape state = c.batch_first ? Shape{c.N, D, c.H} : Shape{D, c.N, c.H};
  d.init_h = random_tensor(state);
  d.init_c = random_tensor(state);
  d.P = random_tensor({D, 3 * c.H});
  return d;
}

struct Expected {
  Shape y_shape, state_shape;
  std::vector<double> Y, Y_h, Y_c;
};

Expected reference(const Case& c, const Data& d) {
  const int64_t S = c.S, N = c.N, I = c.I, H = c.H, D = c.D(), G = c.G();
  Expected e;
  e.y_shape = c.batch_first ? Shape{N, S, D, H} : Shape{S, D, N, H};
  e.state_shape = c.batch_first ? Shape{N, D, H} : Shape{D, N, H};
  e.Y.assign(static_cast<size_t>(S * D * N * H), 0.0);
  e.Y_h.assign(static_cast<size_t>(D * N * H), 0.0);
  e.Y_c.assign(static_cast<size_t>(D * N * H), 0.0);
  const float* X = d.X.data_as<float>();
  const float* W = d.W.data_as<float>();
  const float* R = d.R.data_as<float>();
  const float* B = d.B.data_as<float>();
  const float* P = d.P.data_as<float>();
  auto x_at = [&](int64_t t, int64_t b, int64_t i) {
    return static_cast<double>(c.batch_first ? X[(b * S + t) * I + i] : X[(t * N + b) * I + i]);
  };
  auto state_at = [&](int64_t dir, int64_t b) { return (c.batch_first ? b * D + dir : dir * N + b) * H; };
  auto y_at = [&](int64_t t, int64_t dir, int64_t b) {
    return (c.batch_first ? (b * S + t) * D + dir : (t * D + dir) * N + b) * H;
  };
  const int nf = c.lstm ? 3 : 2;
  for (int64_t dir = 0; dir < D; ++dir) {
    Act f{"Sigmoid"}, g{"Tanh"}, h_act{"Tanh"};
    if (c.custom_activations) {
      f = c.acts[static_cast<size_t>(dir * nf)];
      g = c.acts[static_cast<size_t>(dir * nf + 1)];
      if (c.lstm) h_act = c.acts[static_cast<size_t>(dir * nf + 2)];
    }
    const bool rev = c.direction == "reverse" || dir == 1;
    const float* Wd = W + dir * G * H * I;
    const float* Rd = R + dir * G * H * H;
    const float* Wb = B + dir * 2 * G * H;
    const float* Rb = Wb + G * H;
    const float* Pd = P + dir * 3 * H;
    auto bias = [&](int64_t k) { return c.bias ? static_cast<double>(Wb[k]) + Rb[k] : 0.0; };
    auto clip = [&](double v) { return c.clip ? std::min<double>(c.clip_value, std::max<double>(-c.clip_value, v)) : v; };
    for (int64_t b = 0; b < N; ++b) {
      std::vector<double> h(static_cast<size_t>(H), 0.0), cs(static_cast<size_t>(H), 0.0);
      for (int64_t j = 0; j < H; ++j) {
        if (c.init_h) h[j] = d.init_h.data_as<float>()[state_at(dir, b) + j];
        if (c.init_c && c.lstm) cs[j] = d.init_c.data_as<float>()[state_at(dir, b) + j];
      }
      const int64_t L = c.lens ? (d.lens.dtype == DType::i32 ? d.lens.data_as<int32_t>()[b] : d.lens.data_as<int64_t>()[b]) : S;
      for (int64_t s = 0; s < L; ++s) {
        const int64_t t = rev ? L - 1 - s : s;
        // xw[k] = x·W_kᵀ, hr[k] = h·R_kᵀ for every gate row k.
        std::vector<double> xw(static_cast<size_t>(G * H), 0.0), hr(static_cast<size_t>(G * H), 0.0);
        for (int64_t k = 0; k < G * H; ++k) {
          for (int64_t i = 0; i < I; ++i) xw[k] += x_at(t, b, i) * Wd[k * I + i];
          for (int64_t j = 0; j < H; ++j) hr[k] += h[j] * Rd[k * H + j];
        }
        std::vector<double> next(static_cast<size_t>(H));
        if (c.lstm) {
          for (int64_t j = 0; j < H; ++j) {
            const double pi = c.peepholes ? Pd[j] : 0, po = c.peepholes ? Pd[H + j] : 0, pf = c.peepholes ? Pd[2 * H + j] : 0;
            const double it = apply(f, clip(xw[j] + hr[j] + bias(j) + pi * cs[j]));
            const double ft = c.input_forget ? 1 - it : apply(f, clip(xw[2 * H + j] + hr[2 * H + j] + bias(2 * H + j) + pf * cs[j]));
            const double ct = apply(g, clip(xw[3 * H + j] + hr[3 * H + j] + bias(3 * H + j)));
            cs[j] = ft * cs[j] + it * ct;
            const double ot = apply(f, clip(xw[H + j] + hr[H + j] + bias(H + j) + po * cs[j]));
            next[j] = ot * apply(h_act, cs[j]);
          }
        } else {
          std::vector<double> z(static_cast<size_t>(H)), r(static_cast<size_t>(H));
          for (int64_t j = 0; j < H; ++j) {
            z[j] = apply(f, clip(xw[j] + hr[j] + bias(j)));
            r[j] = apply(f, clip(xw[H + j] + hr[H + j] + bias(H + j)));
          }
          for (int64_t j = 0; j < H; ++j) {
            const double wbh = c.bias ? Wb[2 * H + j] : 0, rbh = c.bias ? Rb[2 * H + j] : 0;
            double pre;
            if (c.linear_before_reset) {
              pre = xw[2 * H + j] + wbh + r[j] * (hr[2 * H + j] + rbh);
            } else {
              double rh = 0;
              for (int64_t k = 0; k < H; ++k) rh += r[k] * h[k] * Rd[(2 * H + j) * H + k];
              pre = xw[2 * H + j] + rh + rbh + wbh;
            }
            const double ht = apply(g, clip(pre));
            next[j] = (1 - z[j]) * ht + z[j] * h[j];
          }
        }
        h = next;
        for (int64_t j = 0; j < H; ++j) e.Y[static_cast<size_t>(y_at(t, dir, b) + j)] = h[j];
      }
      for (int64_t j = 0; j < H; ++j) {
        e.Y_h[static_cast<size_t>(state_at(dir, b) + j)] = L == 0 ? 0 : h[j];
        e.Y_c[static_cast<size_t>(state_at(dir, b) + j)] = L == 0 ? 0 : cs[j];
      }
    }
  }
  return e;
}

Node node_for(const Case& c) {
  std::vector<Attribute> attrs = {attr_int("hidden_size", c.H)};
  if (c.direction != "forward" || coin()) attrs.push_back(attr_string("direction", c.direction));
  if (c.opset >= 14 && (c.batch_first || coin())) attrs.push_back(attr_int("layout", c.batch_first));
  if (c.clip) attrs.push_back(attr_float("clip", c.clip_value));
  if (c.lstm && c.input_forget) attrs.push_back(attr_int("input_forget", 1));
  if (!c.lstm && c.linear_before_reset) attrs.push_back(attr_int("linear_before_reset", 1));
  if (c.custom_activations) {
    // Only the functions that take an alpha (beta) consume one from the lists, in order.
    std::vector<std::string> names;
    std::vector<float> alphas, betas;
    for (const Act& a : c.acts) {
      names.push_back(a.name);
      const std::string& n = a.name;
      if (n == "Affine" || n == "LeakyRelu" || n == "ThresholdedRelu" || n == "ScaledTanh" || n == "HardSigmoid" || n == "Elu")
        alphas.push_back(static_cast<float>(a.alpha));
      if (n == "Affine" || n == "ScaledTanh" || n == "HardSigmoid") betas.push_back(static_cast<float>(a.beta));
    }
    attrs.push_back(attr_strings("activations", names));
    if (!alphas.empty()) attrs.push_back(attr_floats("activation_alpha", alphas));
    if (!betas.empty()) attrs.push_back(attr_floats("activation_beta", betas));
  }
  return make_node(c.lstm ? "LSTM" : "GRU", std::move(attrs));
}

std::vector<Input> inputs_for(const Case& c, const Data& d) {
  std::vector<Input> in;
  in.push_back(data(d.X));
  in.push_back(c.constant_weights ? constant(d.W) : data(d.W));
  in.push_back(c.constant_weights ? constant(d.R) : data(d.R));
  in.push_back(c.bias ? (c.constant_weights ? constant(d.B) : data(d.B)) : omitted());
  in.push_back(c.lens ? data(d.lens) : omitted());
  in.push_back(c.init_h ? data(d.init_h) : omitted());
  if (c.lstm) {
    in.push_back(c.init_c ? data(d.init_c) : omitted());
    in.push_back(c.peepholes ? data(d.P) : omitted());
  }
  // Trailing omitted inputs may also be left out altogether.
  while (!in.empty() && in.back().tensor.dtype == DType::undefined && coin()) in.pop_back();
  return in;
}

std::string describe(const Case& c) {
  char text[512];
  std::snprintf(text, sizeof(text),
                "%s opset %d %s S=%lld N=%lld I=%lld H=%lld layout=%d B=%d lens=%d h0=%d c0=%d P=%d clip=%d if=%d "
                "lbr=%d const=%d acts=%d outputs=%zu threads=%d",
                c.lstm ? "LSTM" : "GRU", c.opset, c.direction.c_str(), static_cast<long long>(c.S),
                static_cast<long long>(c.N), static_cast<long long>(c.I), static_cast<long long>(c.H), c.batch_first,
                c.bias, c.lens, c.init_h, c.init_c, c.peepholes, c.clip, c.input_forget, c.linear_before_reset,
                c.constant_weights, c.custom_activations, c.outputs, c.threads);
  return text;
}

bool check_case(const Case& c) {
  const Data d = make_data(c);
  const Expected e = reference(c, d);
  std::vector<Tensor> out;
  try {
    out = run(node_for(c), c.opset, inputs_for(c, d), c.outputs, c.threads);
  } catch (const Error& err) {
    std::fprintf(stderr, "%s: %s\n", describe(c).c_str(), err.what());
    return false;
  }
  bool ok = all_close(out[0], e.y_shape, e.Y, "Y");
  if (ok && c.outputs > 1) ok = all_close(out[1], e.state_shape, e.Y_h, "Y_h");
  if (ok && c.outputs > 2) ok = all_close(out[2], e.state_shape, e.Y_c, "Y_c");
  if (!ok) std::fprintf(stderr, "  in case %s\n", describe(c).c_str());
  return ok;
}

const char* const kActivationNames[] = {"Sigmoid", "Tanh", "Relu", "Affine", "LeakyRelu", "ThresholdedRelu",
                                        "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"};

Act random_act() {
  Act a{kActivationNames[random_int(rng, 0, 10)]};
  a.alpha = std::uniform_real_distribution<double>(0.1, 0.9)(rng);
  a.beta = std::uniform_real_distribution<double>(0.1, 0.9)(rng);
  return a;
}

Case random_case(bool lstm) {
  Case c;
  c.lstm = lstm;
  const int opsets_lstm[] = {7, 9, 13, 14, 21, 22};
  const int opsets_gru[] = {3, 7, 13, 14, 22};
  c.opset = lstm ? opsets_lstm[random_int(rng, 0, 5)] : opsets_gru[random_int(rng, 0, 4)];
  const char* dirs[] = {"forward", "reverse", "bidirectional"};
  c.direction = dirs[random_int(rng, 0, 2)];
  c.S = random_int(rng, 1, 6);
  c.N = random_int(rng, 1, 5);
  c.I = random_int(rng, 1, 9);
  c.H = random_int(rng, 1, 12);
  c.batch_first = c.opset >= 14 && coin();
  c.bias = coin();
  c.lens = coin();
  c.lens_int64 = coin();
  c.init_h = coin();
  c.init_c = lstm && coin();
  c.peepholes = lstm && coin();
  c.clip = random_int(rng, 0, 3) == 0;
  c.input_forget = lstm && random_int(rng, 0, 3) == 0;
  c.linear_before_reset = !lstm && coin();
  c.constant_weights = coin();
  c.custom_activations = random_int(rng, 0, 2) == 0;
  if (c.custom_activations)
    for (int64_t k = 0; k < c.D() * (lstm ? 3 : 2); ++k) c.acts.push_back(random_act());
  c.outputs = static_cast<size_t>(random_int(rng, 1, lstm ? 3 : 2));
  c.threads = static_cast<int>(random_int(rng, 1, 3));
  return c;
}

// ---- Tests ---------------------------------------------------------------------------------------

void random_cases() {
  int cases = 0;
  for (int i = 0; i < 400; ++i)
    for (bool lstm : {true, false}) {
      if (!check_case(random_case(lstm))) {
        ++test::failure_count();
        return;
      }
      ++cases;
    }
  std::printf("LSTM, GRU: %d random cases against the reference\n", cases);
}

// Every activation function in every position, each with its own alpha and beta.
void every_activation() {
  for (bool lstm : {true, false})
    for (const char* name : kActivationNames)
      for (int position = 0; position < (lstm ? 3 : 2); ++position) {
        Case c;
        c.lstm = lstm;
        c.direction = "bidirectional";
        c.bias = true;
        c.custom_activations = true;
        c.outputs = lstm ? 3 : 2;
        for (int d = 0; d < 2; ++d)
          for (int k = 0; k < (lstm ? 3 : 2); ++k) {
            Act a = random_act();
            if (k == position) a.name = name;
            c.acts.push_back(a);
          }
        CHECK(check_case(c));
      }
}

// Defaults of alpha and beta when the lists run out, and names in any case.
void activation_defaults() {
  for (bool lstm : {true, false}) {
    Case c;
    c.lstm = lstm;
    c.bias = true;
    c.outputs = lstm ? 3 : 2;
    c.custom_activations = true;
    c.acts = {{"HardSigmoid", 0.2, 0.5}, {"LeakyRelu", 0.01, 0}};
    if (lstm) c.acts.push_back({"Elu", 1.0, 0});
    const Data d = make_data(c);
    const Expected e = reference(c, d);
    std::vector<std::string> names = {"hardsigmoid", "LEAKYRELU"};
    if (lstm) names.push_back("elu");
    const Node node = make_node(lstm ? "LSTM" : "GRU", {attr_int("hidden_size", c.H), attr_strings("activations", names)});
    const std::vector<Tensor> out = run(node, 22, inputs_for(c, d), c.outputs);
    CHECK(all_close(out[0], e.y_shape, e.Y, "Y"));
    CHECK(all_close(out[1], e.state_shape, e.Y_h, "Y_h"));
    // ThresholdedRelu's alpha defaults to 1, Affine's to (1, 0), ScaledTanh's to (1, 1).
    Case t = c;
    t.acts = {{"ThresholdedRelu", 1.0, 0}, {"Affine", 1.0, 0.0}};
    if (lstm) t.acts.push_back({"ScaledTanh", 1.0, 1.0});
    const Expected te = reference(t, d);
    std::vector<std::string> tnames = {"ThresholdedRelu", "Affine"};
    if (lstm) tnames.push_back("ScaledTanh");
    const Node tnode = make_node(lstm ? "LSTM" : "GRU", {attr_int("hidden_size", c.H), attr_strings("activations", tnames)});
    const std::vector<Tensor> tout = run(tnode, 22, inputs_for(t, d), t.outputs);
    CHECK(all_close(tout[0], te.y_shape, te.Y, "Y"));
  }
}

// Sizes where the products are blocked and threaded: several threads, both layouts, big batches,
// one row (the GEMV path), packed weights and not.
void larger_cases() {
  for (bool lstm : {true, false})
    for (int threads : {1, 2, 4})
      for (int64_t N : {1, 7, 40}) {
        Case c;
        c.lstm = lstm;
        c.opset = 22;
        c.direction = N == 7 ? "reverse" : "bidirectional";
        c.S = 5;
        c.N = N;
        c.I = 70;
        c.H = 48;
        c.batch_first = N == 40;
        c.bias = true;
        c.lens = N > 1;
        c.init_h = true;
        c.init_c = lstm;
        c.peepholes = lstm;
        c.linear_before_reset = !lstm && threads == 2;
        c.constant_weights = threads != 1 || N == 40;
        c.outputs = lstm ? 3 : 2;
        c.threads = threads;
        CHECK(check_case(c));
      }
  // Too few rows to spread over four threads, but each step's product big enough to split over them.
  for (bool lstm : {true, false}) {
    Case c;
    c.lstm = lstm;
    c.direction = lstm ? "forward" : "reverse";
    c.S = 3;
    c.N = 8;
    c.I = 20;
    c.H = 300;
    c.bias = true;
    c.lens = true;
    c.linear_before_reset = true;
    c.constant_weights = true;
    c.outputs = lstm ? 3 : 2;
    c.threads = 4;
    CHECK(check_case(c));
  }
}

// Empty batches and sequences, and sequence_lens of all zeros.
void degenerate_cases() {
  for (bool lstm : {true, false}) {
    Case c;
    c.lstm = lstm;
    c.outputs = lstm ? 3 : 2;
    c.N = 0;
    CHECK(check_case(c));
    c.N = 3;
    c.S = 0;
    CHECK(check_case(c));
    c.S = 4;
    c.direction = "bidirectional";
    c.init_h = true;
    const Data d = make_data(c);
    Data zero = d;
    zero.lens = tensor<int32_t>({3}, {0, 0, 0});
    Case z = c;
    z.lens = true;
    const std::vector<Tensor> out = run(node_for(z), 22, inputs_for(z, zero), z.outputs);
    for (const Tensor& t : out)
      for (int64_t i = 0; i < t.size(); ++i) CHECK(t.data_as<float>()[i] == 0.0f);
  }
}

// The conformance case test_lstm_defaults' shapes at opset 7 and 14 with its own numbers: X = 1..6,
// W = R = 0.1, no bias — a fixed point for the reference's conventions.
void fixed_values() {
  const Tensor X = tensor<float>({1, 3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor W = tensor<float>({1, 12, 2}, std::vector<float>(24, 0.1f));
  const Tensor R = tensor<float>({1, 12, 3}, std::vector<float>(36, 0.1f));
  // Each row b: x·Wᵀ = 0.1·(x0 + x1) on every gate, h0 = c0 = 0, so one step gives
  // c = σ(a)·tanh(a), h = σ(a)·tanh(c) with a = 0.1·(x0 + x1).
  std::vector<double> expected;
  for (int b = 0; b < 3; ++b) {
    const double a = 0.1 * (2 * b + 1 + 2 * b + 2);
    const double s = 1 / (1 + std::exp(-a)), c = s * std::tanh(a);
    for (int j = 0; j < 3; ++j) expected.push_back(s * std::tanh(c));
  }
  for (int opset : {7, 14}) {
    const std::vector<Tensor> out = run(make_node("LSTM", {attr_int("hidden_size", 3)}), opset, {data(X), data(W), data(R)}, 2);
    CHECK(all_close(out[1], {1, 3, 3}, expected, "Y_h"));
    CHECK(all_close(out[0], {1, 1, 3, 3}, expected, "Y"));
  }
  // hidden_size may be left out: R says it.
  const std::vector<Tensor> out = run(make_node("LSTM"), 22, {data(X), data(W), data(R)}, 2);
  CHECK(all_close(out[1], {1, 3, 3}, expected, "Y_h"));
  // GRU opset 1 (no linear_before_reset) is the same function as opset 3's default.
  const Tensor GW = tensor<float>({1, 9, 2}, std::vector<float>(18, 0.1f));
  const Tensor GR = tensor<float>({1, 9, 3}, std::vector<float>(27, 0.1f));
  const std::vector<Tensor> g1 = run(make_node("GRU", {attr_int("hidden_size", 3)}), 1, {data(X), data(GW), data(GR)}, 2);
  const std::vector<Tensor> g3 = run(make_node("GRU", {attr_int("hidden_size", 3)}), 3, {data(X), data(GW), data(GR)}, 2);
  for (int64_t i = 0; i < g1[1].size(); ++i) CHECK(g1[1].data_as<float>()[i] == g3[1].data_as<float>()[i]);
}

void errors() {
  const Tensor X = random_tensor({3, 2, 4});
  const Tensor W = random_tensor({1, 20, 4}), R = random_tensor({1, 20, 5});
  const Tensor GW = random_tensor({1, 15, 4}), GR = random_tensor({1, 15, 5});
  auto lstm = [](std::vector<Attribute> attrs) { return make_node("LSTM", std::move(attrs)); };
  const auto bad = ErrorKind::invalid_model;

  CHECK_THROWS(run(lstm({attr_string("direction", "sideways")}), 22, {data(X), data(W), data(R)}, 2), bad,
               "LSTM node 'n': attribute 'direction' is 'sideways'; expected forward, reverse or bidirectional");
  CHECK_THROWS(run(lstm({attr_int("hidden_size", 4)}), 22, {data(X), data(W), data(R)}, 2), bad,
               "input W has shape [1, 20, 4]; expected [1, 16, 4]");
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(random_tensor({1, 20, 3})), data(R)}, 2), bad,
               "input W has shape [1, 20, 3]; expected [1, 20, 4]");
  CHECK_THROWS(run(lstm({attr_string("direction", "bidirectional")}), 22, {data(X), data(W), data(R)}, 2), bad,
               "input W has shape [1, 20, 4]; expected [2, 20, 4]");
  CHECK_THROWS(run(lstm({}), 22, {data(random_tensor({3, 4})), data(W), data(R)}, 2), bad, "input X must be 3-D");
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(W), data(R), data(random_tensor({1, 20}))}, 2), bad,
               "input B has shape [1, 20]; expected [1, 40]");
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(W), data(R), omitted(), omitted(), data(random_tensor({1, 3, 5}))}, 2),
               bad, "input initial_h has shape [1, 3, 5]; expected [1, 2, 5]");
  // layout 1 puts the batch first in initial_h too.
  CHECK_THROWS(run(lstm({attr_int("layout", 1)}), 22,
                   {data(random_tensor({2, 3, 4})), data(W), data(R), omitted(), omitted(), data(random_tensor({1, 2, 5}))}, 2),
               bad, "input initial_h has shape [1, 2, 5]; expected [2, 1, 5]");
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(W), data(R), omitted(), omitted(), omitted(), omitted(), data(random_tensor({1, 5}))}, 3),
               bad, "input P has shape [1, 5]; expected [1, 15]");
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(W), data(R), omitted(), data(tensor<int32_t>({3}, {1, 2, 3}))}, 2), bad,
               "input sequence_lens has shape [3]; expected [2]");
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(W), data(R), omitted(), data(tensor<float>({2}, {1, 2}))}, 2),
               ErrorKind::unsupported, "input 4 has type float; supported: int32, int64");
  CHECK_THROWS(run(lstm({attr_int("layout", 1)}), 13, {data(X), data(W), data(R)}, 2), bad,
               "attribute 'layout' exists from opset 14 (the model's opset is 13)");
  CHECK_THROWS(run(lstm({attr_int("layout", 2)}), 14, {data(X), data(W), data(R)}, 2), bad,
               "attribute 'layout' is 2; expected 0 or 1");
  CHECK_THROWS(run(lstm({attr_float("clip", 0.0f)}), 22, {data(X), data(W), data(R)}, 2), bad,
               "attribute 'clip' is 0; expected a positive threshold");
  CHECK_THROWS(run(lstm({attr_strings("activations", {"Sigmoid", "Tanh"})}), 22, {data(X), data(W), data(R)}, 2), bad,
               "attribute 'activations' has 2 functions; expected 3 (3 per direction, 1 direction)");
  CHECK_THROWS(run(lstm({attr_strings("activations", {"Sigmoid", "Tanh", "Gelu"})}), 22, {data(X), data(W), data(R)}, 2),
               ErrorKind::unsupported, "activation 'Gelu' is not one of");
  CHECK_THROWS(run(lstm({attr_int("activations", 1)}), 22, {data(X), data(W), data(R)}, 2), bad,
               "attribute 'activations' must be a list of strings");
  CHECK_THROWS(run(lstm({}), 22, {data(tensor<double>({1, 1, 1}, {1.0})), data(W), data(R)}, 2), ErrorKind::unsupported,
               "input 0 has type double; supported: float");
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(W)}, 2), bad, "input 2 is required");
  CHECK_THROWS(run(make_node("GRU", {attr_int("linear_before_reset", 1)}), 1, {data(X), data(GW), data(GR)}, 2), bad,
               "attribute 'linear_before_reset' exists from opset 3");
  CHECK_THROWS(run(make_node("GRU"), 22, {data(X), data(W), data(R)}, 2), bad,
               "GRU node 'n': input W has shape [1, 20, 4]; expected [1, 15, 4]");
  // A length beyond the sequence is found in the data, when running.
  CHECK_THROWS(run(lstm({}), 22, {data(X), data(W), data(R), omitted(), data(tensor<int32_t>({2}, {3, 9}))}, 2),
               ErrorKind::runtime, "LSTM node 'n': sequence_lens[1] is 9; expected a length in [0, 3]");
  CHECK_THROWS(run(make_node("GRU"), 22, {data(X), data(GW), data(GR), omitted(), data(tensor<int64_t>({2}, {-1, 2}))}, 2),
               ErrorKind::runtime, "GRU node 'n': sequence_lens[0] is -1");
}

// Printed, not asserted: a model-sized layer, weights packed once, per run.
void speed() {
  for (bool lstm : {true, false}) {
    const int64_t S = 32, N = 4, I = 256, H = 256, G = lstm ? 4 : 3;
    const Tensor X = random_tensor({S, N, I}), W = random_tensor({2, G * H, I}, -0.05f, 0.05f);
    const Tensor R = random_tensor({2, G * H, H}, -0.05f, 0.05f);
    const Node node = make_node(lstm ? "LSTM" : "GRU", {attr_string("direction", "bidirectional")});
    const std::vector<Input> inputs = {data(X), constant(W), constant(R)};
    Prepared p = prepare(node, 22, inputs, 2);
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      p.run(pool);
      std::vector<double> seconds;
      for (int rep = 0; rep < 21; ++rep) {
        const auto start = std::chrono::steady_clock::now();
        p.run(pool);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      std::sort(seconds.begin(), seconds.end());
      std::printf("%s bidirectional S=%lld N=%lld I=%lld H=%lld, %d thread%s: %.3f ms per run (median of 21)\n",
                  lstm ? "LSTM" : "GRU", static_cast<long long>(S), static_cast<long long>(N),
                  static_cast<long long>(I), static_cast<long long>(H), threads, threads == 1 ? "" : "s",
                  seconds[10] * 1e3);
    }
  }
}

}  // namespace

int main() {
  fixed_values();
  random_cases();
  every_activation();
  activation_defaults();
  larger_cases();
  degenerate_cases();
  errors();
  speed();
  if (test::failures()) std::fprintf(stderr, "rnn_ops_test: %d failures\n", test::failure_count());
  else std::printf("rnn_ops_test: all passed\n");
  return test::failures();
}
