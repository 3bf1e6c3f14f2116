// The unary math, Mod, comparison, logical, Where, variadic (Min, Max, Sum, Mean) and the HardSigmoid,
// HardSwish, Elu, Selu, Softplus activation ops, each through its shape function and its CPU kernel:
// what the ONNX conformance cases leave out — the dtypes they do not use, NaN, wrapping integers,
// broadcasting of three and more inputs against a naive reference on random shapes (and on several
// threads), the opset variants, and the errors that bad models and bad data get — plus the accuracy
// of the vectorised float log, expm1 and log1p against double-precision std::.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "cpu/kernels/elementwise_math.h"
#include "support/check.h"
#include "support/op_harness.h"

using namespace inferd;

using inferd::test::attr_int;
using inferd::test::attr_float;
using inferd::test::make_node;

namespace {

// ---- Building nodes and tensors ------------------------------------------------------------------

template <typename T> Tensor tensor(Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  CHECK(static_cast<size_t>(t.size()) == values.size());
  for (size_t i = 0; i < values.size(); ++i) t.data_as<T>()[i] = values[i];
  return t;
}

Tensor half_tensor(Shape shape, const std::vector<float>& values) {
  Tensor t = Tensor::allocate(DType::f16, std::move(shape));
  CHECK(static_cast<size_t>(t.size()) == values.size());
  for (size_t i = 0; i < values.size(); ++i) t.data_as<uint16_t>()[i] = float_to_half(values[i]);
  return t;
}

std::vector<float> half_values(const Tensor& t) {
  CHECK(t.dtype == DType::f16);
  std::vector<float> out;
  for (int64_t i = 0; i < t.size(); ++i) out.push_back(half_to_float(t.data_as<uint16_t>()[i]));
  return out;
}

Tensor typed(DType dtype, Shape shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  return t;
}

// Whole numbers in [lo, hi] from a fixed seed, so that every type holds them exactly.
template <typename T> Tensor random_tensor(Shape shape, std::mt19937& rng, int lo = -6, int hi = 6) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  std::uniform_int_distribution<int> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) t.data_as<T>()[i] = static_cast<T>(dist(rng));
  return t;
}

template <typename T> std::vector<T> values_of(const Tensor& t) {
  CHECK(t.dtype == dtype_of<T>);
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.size());
}

// ---- Running an op -------------------------------------------------------------------------------

struct Result {
  DType dtype = DType::undefined;
  Shape shape;
  Tensor output;
};

Result infer(const Node& node, int opset, const std::vector<Tensor>& inputs) {
  const OpSchema* schema = SchemaRegistry::instance().find("", node.op_type, opset);
  if (!schema) fail(ErrorKind::unsupported, "no schema for ", node.op_type, " at opset ", opset);
  std::vector<DType> dtypes;
  std::vector<const Shape*> shapes;
  std::vector<const Tensor*> values;
  for (const Tensor& in : inputs) {
    dtypes.push_back(in.dtype);
    shapes.push_back(in.dtype != DType::undefined ? &in.shape : nullptr);
    values.push_back(nullptr);
  }
  Result r;
  Tensor value;
  ShapeContext ctx(node, opset, dtypes.data(), shapes.data(), values.data(), inputs.size(), &r.dtype, &r.shape,
                   &value, 1);
  schema->infer(ctx);
  return r;
}

// Runs the CPU kernel on a pool of `threads` into an output of the given type and shape.
Tensor run_kernel(const Node& node, int opset, const std::vector<Tensor>& inputs, DType dtype, const Shape& shape,
                  int threads = 1) {
  const KernelDef* def = KernelRegistry::instance().find("cpu", "", node.op_type, opset);
  if (!def) fail(ErrorKind::unsupported, "no CPU kernel for ", node.op_type, " at opset ", opset);
  KernelInit init{node, opset, {}};
  std::unique_ptr<Kernel> kernel = def->make(init);
  std::vector<const Tensor*> in_ptrs;
  for (const Tensor& in : inputs) in_ptrs.push_back(in.dtype == DType::undefined ? nullptr : &in);
  Tensor out = Tensor::allocate(dtype, shape);
  Tensor* out_ptr = &out;
  ThreadPool pool(threads);
  KernelContext ctx;
  ctx.inputs = in_ptrs.data();
  ctx.input_count = in_ptrs.size();
  ctx.outputs = &out_ptr;
  ctx.output_count = 1;
  ctx.threads = &pool;
  kernel->run(ctx);
  return out;
}

// Infers, then runs the kernel into a freshly allocated output.
Result run(const Node& node, int opset, const std::vector<Tensor>& inputs, int threads = 1) {
  Result r = infer(node, opset, inputs);
  r.output = run_kernel(node, opset, inputs, r.dtype, r.shape, threads);
  return r;
}

// ---- A naive reference for broadcasting ----------------------------------------------------------

// The flat index into `in` of the element that output index `flat` reads under numpy broadcasting.
int64_t source_index(const Shape& in, const Shape& out, int64_t flat) {
  int64_t index = 0, step = 1;
  for (size_t d = out.size(); d-- > 0;) {
    const int64_t coord = flat % out[d];
    flat /= out[d];
    const size_t offset = out.size() - in.size();
    if (d < offset) continue;
    const int64_t dim = in[d - offset];
    if (dim != 1) index += coord * step;
    step *= dim;
  }
  return index;
}

Shape random_shape(std::mt19937& rng, int max_rank) {
  Shape s(std::uniform_int_distribution<int>(0, max_rank)(rng));
  for (int64_t& d : s) d = std::uniform_int_distribution<int>(1, 4)(rng);
  return s;
}

// A shape that broadcasts to `s`: some dims kept, some 1, some leading ones dropped.
Shape partner_shape(const Shape& s, std::mt19937& rng) {
  Shape p = s;
  for (int64_t& d : p)
    if (rng() % 3 == 0) d = 1;
  const size_t drop = std::uniform_int_distribution<size_t>(0, p.size())(rng);
  return Shape(p.begin() + static_cast<long>(drop), p.end());
}

Shape broadcast_all(const std::vector<Tensor>& inputs) {
  Shape out = inputs[0].shape;
  for (size_t i = 1; i < inputs.size(); ++i) {
    Shape next;
    CHECK(broadcast_shapes(out, inputs[i].shape, &next));
    out = next;
  }
  return out;
}

// ---- Unary math ----------------------------------------------------------------------------------

void check_close(const std::vector<float>& actual, const std::vector<float>& expected, double rtol = 1e-6) {
  CHECK(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    if (std::isnan(expected[i])) {
      CHECK(std::isnan(actual[i]));
      continue;
    }
    if (std::isinf(expected[i])) {
      CHECK(actual[i] == expected[i]);
      continue;
    }
    CHECK_NEAR(actual[i], expected[i], 1e-30 + rtol * std::fabs(expected[i]));
  }
}

template <typename F> std::vector<float> apply(const std::vector<float>& x, F f) {
  std::vector<float> y;
  for (float v : x) y.push_back(static_cast<float>(f(static_cast<double>(v))));
  return y;
}

std::vector<float> run_float(const char* op, const std::vector<float>& xs, int opset = 13,
                             std::vector<Attribute> attributes = {}) {
  return values_of<float>(run(make_node(op, std::move(attributes)), opset, {tensor<float>({static_cast<int64_t>(xs.size())}, xs)}).output);
}

void unary_math_matches_std() {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> xs = {-20, -3.5f, -1, -0.3f, -1e-4f, 0, 1e-4f, 0.3f, 1, 2.5f, 20, 80};
  check_close(run_float("Exp", xs), apply(xs, [](double v) { return std::exp(v); }));
  const std::vector<float> positive = {1e-30f, 1e-5f, 0.3f, 0.7071f, 0.7072f, 1, 1.0001f, 2, 10, 3e38f};
  check_close(run_float("Log", positive), apply(positive, [](double v) { return std::log(v); }));
  check_close(run_float("Log", {0, -1, inf, NAN}), {-inf, NAN, inf, NAN});
  check_close(run_float("Reciprocal", {2, -4, 0.5f, 0}), {0.5f, -0.25f, 2, inf});
  check_close(run_float("Neg", {1.5f, -2, 0}), {-1.5f, 2, 0});
  check_close(run_float("Abs", {1.5f, -2, -inf}), {1.5f, 2, inf});
  check_close(run_float("Floor", {1.5f, -1.5f, -0.0f, 3}), {1, -2, 0, 3});
  check_close(run_float("Ceil", {1.5f, -1.5f, 2.0001f, 3}), {2, -1, 3, 3});
  // Round: halves to even (test_round's cases and more).
  check_close(run_float("Round", {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, 2.6f, 1e9f}, 22),
              {0, 2, 2, -0, -2, -2, 2, 3, 1e9f});
  check_close(run_float("Sign", {-3, -0.0f, 0, 1e-30f, inf, NAN}), {-1, 0, 0, 1, 1, NAN});
  check_close(run_float("Sin", xs, 22), apply(xs, [](double v) { return std::sin(v); }), 1e-5);
  check_close(run_float("Cos", xs, 7), apply(xs, [](double v) { return std::cos(v); }), 1e-5);
  // Doubles, through std::.
  CHECK(values_of<double>(run(make_node("Log"), 13, {tensor<double>({1}, {0.5})}).output)[0] == std::log(0.5));
  CHECK(values_of<double>(run(make_node("Exp"), 13, {tensor<double>({1}, {0.5})}).output)[0] == std::exp(0.5));
}

void integer_unary_ops_wrap() {
  CHECK(values_of<int8_t>(run(make_node("Neg"), 13, {tensor<int8_t>({3}, {-128, 5, 0})}).output) ==
        (std::vector<int8_t>{-128, -5, 0}));
  CHECK(values_of<int64_t>(run(make_node("Neg"), 13, {tensor<int64_t>({1}, {7})}).output) == (std::vector<int64_t>{-7}));
  const int32_t min = std::numeric_limits<int32_t>::min();
  CHECK(values_of<int32_t>(run(make_node("Abs"), 13, {tensor<int32_t>({3}, {min, -3, 4})}).output) ==
        (std::vector<int32_t>{min, 3, 4}));
  CHECK(values_of<uint16_t>(run(make_node("Abs"), 13, {tensor<uint16_t>({2}, {65535, 0})}).output) ==
        (std::vector<uint16_t>{65535, 0}));
  CHECK(values_of<int16_t>(run(make_node("Sign"), 13, {tensor<int16_t>({3}, {-300, 0, 2})}).output) ==
        (std::vector<int16_t>{-1, 0, 1}));
  CHECK(values_of<uint32_t>(run(make_node("Sign"), 13, {tensor<uint32_t>({2}, {0, 9})}).output) ==
        (std::vector<uint32_t>{0, 1}));
  // Opset ranges: Neg and Abs took integers from opset 6, Sign exists from 9, Round from 11.
  CHECK_THROWS(infer(make_node("Neg"), 5, {tensor<int32_t>({1}, {1})}), ErrorKind::unsupported,
               "Neg node 'n': input 0 has type int32");
  CHECK_THROWS(infer(make_node("Neg"), 13, {tensor<uint8_t>({1}, {1})}), ErrorKind::unsupported, "uint8");
  CHECK_THROWS(infer(make_node("Abs"), 1, {tensor<int32_t>({1}, {1})}), ErrorKind::unsupported, "int32");
  CHECK(SchemaRegistry::instance().find("", "Sign", 8) == nullptr);
  CHECK(SchemaRegistry::instance().find("", "Round", 10) == nullptr);
  CHECK_THROWS(infer(make_node("Exp"), 13, {tensor<int64_t>({1}, {1})}), ErrorKind::unsupported,
               "Exp node 'n': input 0 has type int64; supported: float, double");
  CHECK_THROWS(infer(make_node("Floor"), 13, {}), ErrorKind::invalid_model, "input 0 is required");
}

// ---- Mod -----------------------------------------------------------------------------------------

void mod_follows_the_divisor_or_the_dividend() {
  // fmod = 0: Python's %, the divisor's sign (test_mod_mixed_sign_int*).
  const Tensor a = tensor<int32_t>({6}, {-4, 7, 5, 4, -7, 8}), b = tensor<int32_t>({6}, {2, -3, 8, -2, 3, 5});
  CHECK(values_of<int32_t>(run(make_node("Mod"), 13, {a, b}).output) == (std::vector<int32_t>{0, -2, 5, 0, 2, 3}));
  // fmod = 1: C's, the dividend's sign.
  CHECK(values_of<int32_t>(run(make_node("Mod", {attr_int("fmod", 1)}), 13, {a, b}).output) ==
        (std::vector<int32_t>{0, 1, 5, 0, -1, 3}));
  CHECK(values_of<int8_t>(run(make_node("Mod"), 10, {tensor<int8_t>({3}, {-128, -128, 127}), tensor<int8_t>({3}, {-1, 3, -128})})
                              .output) == (std::vector<int8_t>{0, 1, -1}));
  CHECK(values_of<int64_t>(run(make_node("Mod", {attr_int("fmod", 1)}), 13,
                               {tensor<int64_t>({2}, {std::numeric_limits<int64_t>::min(), -7}), tensor<int64_t>({1}, {-1})})
                               .output) == (std::vector<int64_t>{0, 0}));
  CHECK(values_of<uint8_t>(run(make_node("Mod"), 13, {tensor<uint8_t>({2}, {255, 7}), tensor<uint8_t>({1}, {10})}).output) ==
        (std::vector<uint8_t>{5, 7}));
  // Floats need fmod = 1; float16 computes in float.
  const std::vector<float> f = values_of<float>(
      run(make_node("Mod", {attr_int("fmod", 1)}), 13, {tensor<float>({3}, {-4.3f, 7.5f, 5}), tensor<float>({3}, {2.1f, -3, 0})})
          .output);
  CHECK(f[0] == std::fmod(-4.3f, 2.1f) && f[1] == 1.5f && std::isnan(f[2]));
  const Result h = run(make_node("Mod", {attr_int("fmod", 1)}), 13, {half_tensor({2}, {-4.5f, 7}), half_tensor({1}, {2})});
  CHECK(h.dtype == DType::f16 && half_values(h.output) == (std::vector<float>{-0.5f, 1}));
  // Broadcasting (test_mod_broadcast).
  const Result r = run(make_node("Mod"), 13, {tensor<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6}), tensor<int32_t>({3}, {4, 3, 2})});
  CHECK(r.shape == (Shape{2, 3}) && values_of<int32_t>(r.output) == (std::vector<int32_t>{1, 2, 1, 0, 2, 0}));
  CHECK_THROWS(run(make_node("Mod"), 13, {a, tensor<int32_t>({1}, {0})}), ErrorKind::runtime,
               "Mod node 'n': integer division by zero");
  CHECK_THROWS(infer(make_node("Mod"), 13, {tensor<float>({1}, {1}), tensor<float>({1}, {1})}), ErrorKind::invalid_model,
               "attribute 'fmod' must be 1 for float inputs");
  CHECK_THROWS(infer(make_node("Mod", {attr_int("fmod", 2)}), 13, {a, b}), ErrorKind::invalid_model,
               "attribute 'fmod' must be 0 or 1, got 2");
  CHECK_THROWS(infer(make_node("Mod"), 13, {a, tensor<int64_t>({1}, {1})}), ErrorKind::invalid_model,
               "inputs 0 and 1 must have the same type, got int32 and int64");
  CHECK(SchemaRegistry::instance().find("", "Mod", 9) == nullptr);
}

// ---- Comparisons and logic -----------------------------------------------------------------------

template <typename T>
void check_compare(const char* op, std::function<bool(T, T)> f, int threads, int rounds, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    Shape sa = random_shape(rng, 5), sb = partner_shape(sa, rng);
    if (rng() % 2) std::swap(sa, sb);
    const Tensor a = random_tensor<T>(sa, rng, 0, 3), b = random_tensor<T>(sb, rng, 0, 3);
    const Result r = run(make_node(op), 13, {a, b}, threads);
    CHECK(r.dtype == DType::boolean && r.shape == broadcast_all({a, b}));
    for (int64_t i = 0; i < r.output.size(); ++i) {
      const bool want = f(a.data_as<T>()[source_index(a.shape, r.shape, i)], b.data_as<T>()[source_index(b.shape, r.shape, i)]);
      if (r.output.data_as<bool>()[i] != want) {
        std::fprintf(stderr, "%s %s %s: wrong at %lld\n", op, shape_to_string(sa).c_str(), shape_to_string(sb).c_str(),
                     static_cast<long long>(i));
        CHECK(false);
        break;
      }
    }
  }
}

void comparisons_broadcast() {
  check_compare<float>("Equal", [](float x, float y) { return x == y; }, 1, 100, 1);
  check_compare<float>("Less", [](float x, float y) { return x < y; }, 1, 100, 2);
  check_compare<int64_t>("Greater", [](int64_t x, int64_t y) { return x > y; }, 1, 100, 3);
  check_compare<uint8_t>("LessOrEqual", [](uint8_t x, uint8_t y) { return x <= y; }, 1, 100, 4);
  check_compare<double>("GreaterOrEqual", [](double x, double y) { return x >= y; }, 1, 100, 5);
  check_compare<int16_t>("Equal", [](int16_t x, int16_t y) { return x == y; }, 3, 50, 6);
  check_compare<bool>("Equal", [](bool x, bool y) { return x == y; }, 1, 50, 7);
  check_compare<bool>("Xor", [](bool x, bool y) { return x != y; }, 1, 50, 8);
  // NaN compares false, except that it is not equal to itself.
  const Tensor x = tensor<float>({3}, {NAN, 1, NAN}), y = tensor<float>({3}, {1, NAN, NAN});
  for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"})
    CHECK(values_of<bool>(run(make_node(op), 16, {x, y}).output) == (std::vector<bool>{false, false, false}));
  // A large walk split across threads.
  std::mt19937 rng(9);
  const Tensor big = random_tensor<int32_t>({300, 500}, rng), row = random_tensor<int32_t>({500}, rng);
  const Result r = run(make_node("Less"), 13, {big, row}, 4);
  bool ok = true;
  for (int64_t i = 0; i < r.output.size(); ++i)
    ok = ok && r.output.data_as<bool>()[i] == (big.data_as<int32_t>()[i] < row.data_as<int32_t>()[i % 500]);
  CHECK(ok);
}

void comparison_opsets_and_errors() {
  const Tensor i = tensor<int32_t>({2}, {1, 2}), f = tensor<float>({2}, {1, 2});
  // Equal took floats from 11; Less and Greater took integers from 9; LessOrEqual exists from 12.
  CHECK_THROWS(infer(make_node("Equal"), 10, {f, f}), ErrorKind::unsupported, "input 0 has type float");
  CHECK(infer(make_node("Equal"), 7, {i, i}).dtype == DType::boolean);
  CHECK_THROWS(infer(make_node("Less"), 8, {i, i}), ErrorKind::unsupported, "input 0 has type int32");
  CHECK(SchemaRegistry::instance().find("", "LessOrEqual", 11) == nullptr);
  CHECK_THROWS(infer(make_node("Greater"), 13, {f, i}), ErrorKind::invalid_model,
               "Greater node 'n': inputs 0 and 1 must have the same type, got float and int32");
  CHECK_THROWS(infer(make_node("Equal"), 13, {f, tensor<float>({3}, {1, 2, 3})}), ErrorKind::invalid_model,
               "Equal node 'n': input shapes [2] and [3] do not broadcast");
  CHECK_THROWS(infer(make_node("Equal"), 19, {typed(DType::string, {2}), typed(DType::string, {2})}),
               ErrorKind::unsupported, "input 0 has type string; the engine holds no string tensors");
  CHECK_THROWS(infer(make_node("Less"), 13, {typed(DType::f16, {2}), typed(DType::f16, {2})}), ErrorKind::unsupported,
               "float16");
  CHECK_THROWS(infer(make_node("And"), 7, {i, i}), ErrorKind::unsupported, "And node 'n': input 0 has type int32");
  // Opsets 1–6 broadcast B onto A only with broadcast = 1, along `axis`.
  const Tensor a = tensor<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Result legacy =
      run(make_node("Equal", {attr_int("broadcast", 1), attr_int("axis", 0)}), 1, {a, tensor<int32_t>({2}, {2, 5})});
  CHECK(legacy.shape == (Shape{2, 3}) &&
        values_of<bool>(legacy.output) == (std::vector<bool>{false, true, false, false, true, false}));
  CHECK(values_of<bool>(run(make_node("Greater", {attr_int("broadcast", 1)}), 6,
                            {tensor<float>({2, 2}, {1, 5, 3, 0}), tensor<float>({2}, {2, 1})})
                            .output) == (std::vector<bool>{false, true, true, false}));
  CHECK_THROWS(infer(make_node("Equal"), 6, {a, tensor<int32_t>({3}, {1, 2, 3})}), ErrorKind::invalid_model,
               "differ and attribute 'broadcast' is 0");
}

void logical_ops() {
  const Tensor a = tensor<bool>({4}, {false, false, true, true}), b = tensor<bool>({4}, {false, true, false, true});
  CHECK(values_of<bool>(run(make_node("And"), 7, {a, b}).output) == (std::vector<bool>{false, false, false, true}));
  CHECK(values_of<bool>(run(make_node("Or"), 7, {a, b}).output) == (std::vector<bool>{false, true, true, true}));
  CHECK(values_of<bool>(run(make_node("Xor"), 7, {a, b}).output) == (std::vector<bool>{false, true, true, false}));
  CHECK(values_of<bool>(run(make_node("Not"), 1, {a}).output) == (std::vector<bool>{true, true, false, false}));
  // Broadcasting, and the legacy rule.
  const Tensor m = tensor<bool>({2, 2}, {true, false, true, true});
  CHECK(values_of<bool>(run(make_node("And"), 7, {m, tensor<bool>({2, 1}, {true, false})}).output) ==
        (std::vector<bool>{true, false, false, false}));
  CHECK(values_of<bool>(run(make_node("Or", {attr_int("broadcast", 1)}), 1, {m, tensor<bool>({}, {false})}).output) ==
        values_of<bool>(m));
  CHECK_THROWS(infer(make_node("Not"), 1, {tensor<float>({1}, {1})}), ErrorKind::unsupported,
               "Not node 'n': input 0 has type float");
}

// ---- Where ---------------------------------------------------------------------------------------

template <typename T> void check_where(int threads, int rounds, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    const Shape full = random_shape(rng, 6);
    std::vector<Shape> shapes = {partner_shape(full, rng), partner_shape(full, rng), partner_shape(full, rng)};
    shapes[rng() % 3] = full;
    Tensor condition = Tensor::allocate(DType::boolean, shapes[0]);
    for (int64_t i = 0; i < condition.size(); ++i) condition.data_as<bool>()[i] = rng() % 2;
    const Tensor x = random_tensor<T>(shapes[1], rng), y = random_tensor<T>(shapes[2], rng);
    const Result r = run(make_node("Where"), 16, {condition, x, y}, threads);
    CHECK(r.dtype == dtype_of<T> && r.shape == full);
    for (int64_t i = 0; i < r.output.size(); ++i) {
      const bool c = condition.data_as<bool>()[source_index(condition.shape, full, i)];
      const T want = c ? x.data_as<T>()[source_index(x.shape, full, i)] : y.data_as<T>()[source_index(y.shape, full, i)];
      if (r.output.data_as<T>()[i] != want) {
        std::fprintf(stderr, "Where %s %s %s: wrong at %lld\n", shape_to_string(shapes[0]).c_str(),
                     shape_to_string(shapes[1]).c_str(), shape_to_string(shapes[2]).c_str(), static_cast<long long>(i));
        CHECK(false);
        break;
      }
    }
  }
}

void where_broadcasts_three_inputs() {
  check_where<float>(1, 200, 11);
  check_where<int64_t>(1, 100, 12);
  check_where<int8_t>(1, 100, 13);
  check_where<int16_t>(2, 50, 14);
  check_where<double>(3, 50, 15);
  // Large enough to split across threads, flat and by rows.
  {
    std::mt19937 rng(16);
    Tensor condition = Tensor::allocate(DType::boolean, {400, 1});
    for (int64_t i = 0; i < 400; ++i) condition.data_as<bool>()[i] = i % 3 == 0;
    const Tensor x = random_tensor<float>({400, 600}, rng), y = random_tensor<float>({600}, rng);
    const Result r = run(make_node("Where"), 16, {condition, x, y}, 4);
    bool ok = true;
    for (int64_t i = 0; i < r.output.size(); ++i)
      ok = ok && r.output.data_as<float>()[i] == ((i / 600) % 3 == 0 ? x.data_as<float>()[i] : y.data_as<float>()[i % 600]);
    CHECK(ok);
  }
  // Any type the engine holds: bool, float16.
  const Tensor c = tensor<bool>({3}, {true, false, true});
  CHECK(values_of<bool>(run(make_node("Where"), 9, {c, tensor<bool>({1}, {false}), tensor<bool>({3}, {true, true, false})})
                            .output) == (std::vector<bool>{false, true, false}));
  const Result h = run(make_node("Where"), 16, {c, half_tensor({3}, {1, 2, 3}), half_tensor({}, {-1})});
  CHECK(h.dtype == DType::f16 && half_values(h.output) == (std::vector<float>{1, -1, 3}));
  CHECK_THROWS(infer(make_node("Where"), 16, {tensor<int32_t>({3}, {1, 0, 1}), c, c}), ErrorKind::invalid_model,
               "Where node 'n': input 'condition' has type int32, expected bool");
  CHECK_THROWS(infer(make_node("Where"), 16, {c, tensor<float>({1}, {1}), tensor<double>({1}, {1})}),
               ErrorKind::invalid_model, "inputs 1 and 2 must have the same type, got float and double");
  CHECK_THROWS(infer(make_node("Where"), 16, {c, tensor<float>({2}, {1, 2}), tensor<float>({1}, {1})}),
               ErrorKind::invalid_model, "input shapes [3], [2] and [1] do not broadcast");
  CHECK_THROWS(infer(make_node("Where"), 16, {c, typed(DType::string, {3}), typed(DType::string, {3})}),
               ErrorKind::unsupported, "the engine holds no string tensors");
  // A kernel given shapes the plan did not promise fails naming them, without touching memory.
  CHECK_THROWS(run_kernel(make_node("Where"), 16, {c, tensor<float>({2}, {1, 2}), tensor<float>({1}, {1})}, DType::f32, {3}),
               ErrorKind::out_of_range, "do not broadcast to the output shape [3]");
}

// ---- Min, Max, Sum, Mean -------------------------------------------------------------------------

template <typename T>
void check_variadic(const char* op, std::function<double(const std::vector<double>&)> f, int threads, int rounds,
                    uint32_t seed) {
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    const Shape full = random_shape(rng, 5);
    const size_t count = 1 + rng() % 4;
    std::vector<Tensor> inputs;
    for (size_t k = 0; k < count; ++k) inputs.push_back(random_tensor<T>(k == 0 ? full : partner_shape(full, rng), rng));
    if (count == 1) inputs[0] = random_tensor<T>(full, rng);
    const Result r = run(make_node(op), 13, inputs, threads);
    CHECK(r.shape == broadcast_all(inputs));
    for (int64_t i = 0; i < r.output.size(); ++i) {
      std::vector<double> column;
      for (const Tensor& in : inputs) column.push_back(static_cast<double>(in.data_as<T>()[source_index(in.shape, r.shape, i)]));
      if (static_cast<double>(r.output.data_as<T>()[i]) != static_cast<double>(static_cast<T>(f(column)))) {
        std::fprintf(stderr, "%s of %zu inputs: wrong at %lld\n", op, count, static_cast<long long>(i));
        CHECK(false);
        break;
      }
    }
  }
}

double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

void variadic_ops_broadcast() {
  check_variadic<float>("Min", min_of, 1, 200, 21);
  check_variadic<int64_t>("Max", max_of, 1, 100, 22);
  check_variadic<uint8_t>("Min", [](const std::vector<double>& v) { return min_of(v); }, 1, 50, 23);
  check_variadic<int8_t>("Max", max_of, 2, 50, 24);
  check_variadic<float>("Sum", sum_of, 1, 200, 25);
  check_variadic<double>("Sum", sum_of, 3, 50, 26);
  check_variadic<double>("Mean", [](const std::vector<double>& v) { return sum_of(v) / static_cast<double>(v.size()); },
                         1, 100, 27);
  // float16 computes in float and rounds to half.
  const Result h = run(make_node("Mean"), 13, {half_tensor({2}, {1, 2}), half_tensor({2}, {2, 2}), half_tensor({1}, {0.5f})});
  CHECK(h.dtype == DType::f16);
  CHECK(half_values(h.output)[0] == half_to_float(float_to_half(3.5f / 3)) && half_values(h.output)[1] == 1.5f);
  CHECK(half_values(run(make_node("Max"), 13, {half_tensor({3}, {1, -2, 3}), half_tensor({3}, {0, 5, 3})}).output) ==
        (std::vector<float>{1, 5, 3}));
  // NaN wins in Min and Max.
  const std::vector<float> mn =
      values_of<float>(run(make_node("Min"), 13, {tensor<float>({3}, {NAN, 1, 2}), tensor<float>({3}, {0, NAN, 1})}).output);
  CHECK(std::isnan(mn[0]) && std::isnan(mn[1]) && mn[2] == 1);
  // A large accumulation across threads: [300, 500] + [500] + [300, 1] + scalar.
  std::mt19937 rng(28);
  const Tensor a = random_tensor<float>({300, 500}, rng), b = random_tensor<float>({500}, rng),
               c = random_tensor<float>({300, 1}, rng), d = tensor<float>({}, {0.25f});
  const Result s = run(make_node("Sum"), 13, {a, b, c, d}, 4);
  bool ok = true;
  for (int64_t i = 0; i < s.output.size(); ++i)
    ok = ok && s.output.data_as<float>()[i] ==
                   a.data_as<float>()[i] + b.data_as<float>()[i % 500] + c.data_as<float>()[i / 500] + 0.25f;
  CHECK(ok);
  // One input is a copy.
  CHECK(values_of<int32_t>(run(make_node("Max"), 13, {tensor<int32_t>({2}, {4, -4})}).output) ==
        (std::vector<int32_t>{4, -4}));
}

void variadic_opsets_and_errors() {
  const Tensor f2 = tensor<float>({2}, {1, 2}), f1 = tensor<float>({1}, {1});
  // Before opset 8 the inputs must have one shape; Min and Max take integers from 12.
  CHECK_THROWS(infer(make_node("Sum"), 6, {f2, f1}), ErrorKind::invalid_model,
               "Sum node 'n': input shapes [2] and [1] differ (inputs broadcast from opset 8)");
  CHECK(infer(make_node("Sum"), 8, {f2, f1}).shape == (Shape{2}));
  CHECK(values_of<float>(run(make_node("Max"), 6, {f2, tensor<float>({2}, {3, 0})}).output) == (std::vector<float>{3, 2}));
  CHECK_THROWS(infer(make_node("Min"), 11, {tensor<int32_t>({1}, {1})}), ErrorKind::unsupported,
               "Min node 'n': input 0 has type int32");
  CHECK_THROWS(infer(make_node("Sum"), 13, {tensor<int32_t>({1}, {1})}), ErrorKind::unsupported, "int32");
  CHECK_THROWS(infer(make_node("Mean"), 13, {}), ErrorKind::invalid_model, "Mean node 'n': needs at least one input");
  CHECK_THROWS(infer(make_node("Max"), 13, {f2, tensor<double>({2}, {1, 2})}), ErrorKind::invalid_model,
               "inputs 0 and 1 must have the same type, got float and double");
  CHECK_THROWS(infer(make_node("Max"), 13, {f2, tensor<float>({3}, {1, 2, 3}), f1}), ErrorKind::invalid_model,
               "input shapes [2], [3] and [1] do not broadcast");
  CHECK_THROWS(infer(make_node("Sum"), 13, {f2, Tensor{}, f2}), ErrorKind::invalid_model, "input 1 is required");
  CHECK_THROWS(run_kernel(make_node("Sum"), 13, {f2, f2, tensor<float>({3}, {1, 2, 3})}, DType::f32, {2}),
               ErrorKind::out_of_range, "Sum node 'n': input 2 of shape [3] does not broadcast to the output shape [2]");
}

// ---- Activations ---------------------------------------------------------------------------------

void activations_match_their_formulas() {
  const std::vector<float> xs = {-30, -5, -2.5f, -1, -1e-3f, -1e-6f, 0, 1e-6f, 0.3f, 1, 2.5f, 5, 30, 100};
  const auto clip01 = [](double v) { return v < 0 ? 0.0 : (v > 1 ? 1.0 : v); };
  check_close(run_float("HardSigmoid", xs, 22), apply(xs, [&](double v) { return clip01(0.2 * v + 0.5); }));
  check_close(run_float("HardSigmoid", xs, 6, {attr_float("alpha", 0.5f), attr_float("beta", 0.25f)}),
              apply(xs, [&](double v) { return clip01(0.5 * v + 0.25); }));
  check_close(run_float("HardSwish", xs, 14), apply(xs, [&](double v) { return v * clip01(v / 6 + 0.5); }));
  check_close(run_float("Elu", xs, 6), apply(xs, [](double v) { return v < 0 ? std::expm1(v) : v; }));
  check_close(run_float("Elu", xs, 22, {attr_float("alpha", 2)}), apply(xs, [](double v) { return v < 0 ? 2 * std::expm1(v) : v; }));
  const double alpha = 1.67326319217681884765625, gamma = 1.05070102214813232421875;
  check_close(run_float("Selu", xs, 6), apply(xs, [&](double v) { return v > 0 ? gamma * v : gamma * alpha * std::expm1(v); }));
  check_close(run_float("Selu", xs, 22, {attr_float("alpha", 2), attr_float("gamma", 3)}),
              apply(xs, [&](double v) { return v > 0 ? 3 * v : 6 * std::expm1(v); }));
  check_close(run_float("Softplus", xs, 1), apply(xs, [](double v) { return std::log1p(std::exp(v)); }));
  // Extremes: no overflow for large x, no underflow to 0 before e^x does, NaN passes.
  const float inf = std::numeric_limits<float>::infinity();
  check_close(run_float("Softplus", {-90, 1000, inf, -inf, NAN}, 22), {std::exp(-90.0f), 1000, inf, 0, NAN});
  check_close(run_float("Elu", {-inf, NAN}, 22), {-1, NAN});
  CHECK(std::isnan(run_float("HardSigmoid", {NAN}, 22)[0]));
  // Doubles go through std::.
  CHECK(values_of<double>(run(make_node("Softplus"), 22, {tensor<double>({1}, {-40})}).output)[0] ==
        std::log1p(std::exp(-40.0)));
  CHECK(values_of<double>(run(make_node("Elu"), 22, {tensor<double>({1}, {-1e-9})}).output)[0] == std::expm1(-1e-9));
  CHECK_THROWS(infer(make_node("Elu", {attr_int("alpha", 1)}), 22, {tensor<float>({1}, {1})}), ErrorKind::invalid_model,
               "alpha");
  CHECK_THROWS(infer(make_node("Selu"), 22, {tensor<int32_t>({1}, {1})}), ErrorKind::unsupported,
               "Selu node 'n': input 0 has type int32");
  CHECK(SchemaRegistry::instance().find("", "HardSwish", 13) == nullptr);
}

// ---- The vectorised float math against double-precision std:: ------------------------------------

template <typename Fast, typename Exact>
void check_relative_error(const char* name, Fast fast, Exact exact, float lo, float hi, double tolerance,
                          bool geometric = false) {
  double worst = 0;
  float worst_x = 0;
  for (int i = 0; i <= 200000; ++i) {
    const double t = static_cast<double>(i) / 200000.0;
    const float x = geometric ? static_cast<float>(lo * std::pow(static_cast<double>(hi) / lo, t))
                              : static_cast<float>(lo + (hi - lo) * t);
    const double want = exact(static_cast<double>(x));
    if (want == 0) continue;
    const double err = std::fabs(fast(x) - want) / std::fabs(want);
    if (err > worst) worst = err, worst_x = x;
  }
  if (worst > tolerance) {
    std::fprintf(stderr, "%s: relative error %g at x = %.9g\n", name, worst, worst_x);
    CHECK(false);
  }
}

void vectorised_math_is_accurate() {
  using namespace inferd::cpu;
  const auto log_f = [](float x) { return math::log(x); };
  const auto log_d = [](double x) { return std::log(x); };
  check_relative_error("log", log_f, log_d, 1e-45f, 3.4e38f, 1e-6, true);
  check_relative_error("log near 1", log_f, log_d, 0.9f, 1.1f, 1e-6);
  check_relative_error("log near 1, closer", log_f, log_d, 0.999f, 1.001f, 1e-6);
  check_relative_error("expm1", [](float x) { return math::expm1(x); }, [](double x) { return std::expm1(x); }, -20, 20,
                       1e-6);
  check_relative_error("expm1 near 0", [](float x) { return math::expm1(x); }, [](double x) { return std::expm1(x); },
                       -1e-3f, 1e-3f, 1e-6);
  check_relative_error("log1p", [](float x) { return math::log1p(x); }, [](double x) { return std::log1p(x); }, 1e-30f,
                       1, 1e-6, true);
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(math::log(0.0f) == -inf && math::log(inf) == inf && std::isnan(math::log(-1.0f)) && std::isnan(math::log(NAN)));
  CHECK(math::log(1.0f) == 0 && math::log(1e-45f) == static_cast<float>(std::log(static_cast<double>(1e-45f))));
  CHECK(math::expm1(inf) == inf && math::expm1(-inf) == -1 && std::isnan(math::expm1(NAN)));
  CHECK(math::log1p(0.0f) == 0 && math::log1p(inf) == inf && math::log1p(-1.0f) == -inf);
}

}  // namespace

int main() {
  unary_math_matches_std();
  integer_unary_ops_wrap();
  mod_follows_the_divisor_or_the_dividend();
  comparisons_broadcast();
  comparison_opsets_and_errors();
  logical_ops();
  where_broadcasts_three_inputs();
  variadic_ops_broadcast();
  variadic_opsets_and_errors();
  activations_match_their_formulas();
  vectorised_math_is_accurate();
  if (test::failures()) std::fprintf(stderr, "%d check(s) failed\n", test::failure_count());
  else std::printf("math_ops_test: all passed\n");
  return test::failures();
}
