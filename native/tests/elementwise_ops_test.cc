// The elementwise, activation and Cast ops, each through its shape function and its CPU kernel on
// small hand-made tensors: numpy broadcasting against a naive reference on random shapes (and on
// several threads), the pre-opset-7 broadcast attributes, integer semantics, Clip's optional bounds,
// Gelu's two modes, Cast round trips, the errors bad models and bad data get, and the accuracy of the
// vectorised float math against the double-precision std:: functions.
#include <cmath>
#include <cstring>
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
using namespace inferd::test;

namespace {

// ---- Building tensors ---------------------------------------------------------------------------

// Values in [lo, hi] from a fixed seed (integers: whole numbers).
template <typename T> Tensor random_tensor(Shape shape, std::mt19937& rng, double lo = -10, double hi = 10) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) {
    const double v = dist(rng);
    t.data_as<T>()[i] = static_cast<T>(std::is_integral_v<T> ? std::round(v) : v);
  }
  return t;
}

// ---- A naive reference for binary broadcasting ---------------------------------------------------

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

template <typename T, typename F> std::vector<T> reference(const Tensor& a, const Tensor& b, const Shape& out, F f) {
  std::vector<T> expected(static_cast<size_t>(shape_size(out)));
  for (int64_t i = 0; i < static_cast<int64_t>(expected.size()); ++i)
    expected[i] = f(a.data_as<T>()[source_index(a.shape, out, i)], b.data_as<T>()[source_index(b.shape, out, i)]);
  return expected;
}

Shape random_shape(std::mt19937& rng, int max_rank) {
  Shape s(std::uniform_int_distribution<int>(0, max_rank)(rng));
  for (int64_t& d : s) d = std::uniform_int_distribution<int>(1, 4)(rng);
  return s;
}

// A shape that broadcasts with `s`: some dims kept, some 1, some leading ones dropped.
Shape partner_shape(const Shape& s, std::mt19937& rng) {
  Shape p = s;
  for (int64_t& d : p)
    if (rng() % 3 == 0) d = 1;
  const size_t drop = std::uniform_int_distribution<size_t>(0, p.size())(rng);
  return Shape(p.begin() + static_cast<long>(drop), p.end());
}

// ---- Binary arithmetic ---------------------------------------------------------------------------

void add_broadcasts_as_numpy() {
  std::mt19937 rng(1);
  // [2,3,4] + [4], [2,1,4] * [3,1], scalar − matrix, matrix / scalar.
  {
    const Tensor a = random_tensor<float>({2, 3, 4}, rng), b = random_tensor<float>({4}, rng);
    const Result r = run(make_node("Add"), 14, {a, b});
    CHECK(r.shape == (Shape{2, 3, 4}));
    CHECK(values_of<float>(r.output) == reference<float>(a, b, r.shape, [](float x, float y) { return x + y; }));
  }
  {
    const Tensor a = random_tensor<float>({2, 1, 4}, rng), b = random_tensor<float>({3, 1}, rng);
    const Result r = run(make_node("Mul"), 14, {a, b});
    CHECK(r.shape == (Shape{2, 3, 4}));
    CHECK(values_of<float>(r.output) == reference<float>(a, b, r.shape, [](float x, float y) { return x * y; }));
  }
  {
    const Tensor s = tensor<float>({}, {10.0f}), m = tensor<float>({2, 2}, {1, 2, 3, 4});
    CHECK(values_of<float>(run(make_node("Sub"), 14, {s, m}).output) == (std::vector<float>{9, 8, 7, 6}));
    CHECK(values_of<float>(run(make_node("Div"), 14, {m, tensor<float>({1}, {2.0f})}).output) ==
          (std::vector<float>{0.5f, 1, 1.5f, 2}));
    CHECK(run(make_node("Add"), 14, {s, s}).shape == Shape{});
  }
  // Empty tensors broadcast too, and compute nothing.
  CHECK(run(make_node("Add"), 14, {Tensor::allocate(DType::f32, {0, 3}), Tensor::allocate(DType::f32, {1, 3})})
            .shape == (Shape{0, 3}));
}

template <typename T, typename F> void check_random_broadcasts(const char* op, F f, int threads, int rounds) {
  std::mt19937 rng(7);
  for (int round = 0; round < rounds; ++round) {
    Shape sa = random_shape(rng, 5), sb = partner_shape(sa, rng);
    if (rng() % 2) std::swap(sa, sb);
    const Tensor a = random_tensor<T>(sa, rng), b = random_tensor<T>(sb, rng, 1, 9);
    const Result r = run(make_node(op), 14, {a, b}, threads);
    Shape expected_shape;
    CHECK(broadcast_shapes(sa, sb, &expected_shape));
    CHECK(r.shape == expected_shape);
    if (values_of<T>(r.output) != reference<T>(a, b, r.shape, f)) {
      std::fprintf(stderr, "%s %s %s: wrong values\n", op, shape_to_string(sa).c_str(), shape_to_string(sb).c_str());
      CHECK(false);
    }
  }
}

void random_shapes_match_the_reference() {
  check_random_broadcasts<float>("Add", [](float x, float y) { return x + y; }, 1, 300);
  check_random_broadcasts<int32_t>("Sub", [](int32_t x, int32_t y) { return x - y; }, 1, 300);
  check_random_broadcasts<double>("Mul", [](double x, double y) { return x * y; }, 1, 100);
  check_random_broadcasts<int64_t>("Div", [](int64_t x, int64_t y) { return x / y; }, 1, 100);
  check_random_broadcasts<uint8_t>("Add", [](uint8_t x, uint8_t y) { return uint8_t(x + y); }, 1, 100);
  check_random_broadcasts<int16_t>("Mul", [](int16_t x, int16_t y) { return int16_t(x * y); }, 1, 100);
}

// Large enough to be split across threads, both as one flat loop and as rows of an N-d walk.
void large_tensors_split_across_threads() {
  std::mt19937 rng(3);
  const auto add = [](float x, float y) { return x + y; };
  for (const auto& shapes : std::vector<std::pair<Shape, Shape>>{
           {{300, 700}, {300, 700}}, {{300, 700}, {700}}, {{300, 700}, {300, 1}}, {{4, 1, 200, 300}, {7, 1, 1}},
           {{210000}, {}}, {{3, 1, 70000}, {1, 2, 1}}}) {
    const Tensor a = random_tensor<float>(shapes.first, rng), b = random_tensor<float>(shapes.second, rng);
    const Result r = run(make_node("Add"), 14, {a, b}, 4);
    CHECK(values_of<float>(r.output) == reference<float>(a, b, r.shape, add));
  }
}

void integers_divide_and_wrap_as_c() {
  // Truncation toward zero (test_div_int32_trunc).
  const Tensor x = tensor<int32_t>({4}, {-3, 3, -3, 3}), y = tensor<int32_t>({4}, {2, 2, -2, -2});
  CHECK(values_of<int32_t>(run(make_node("Div"), 14, {x, y}).output) == (std::vector<int32_t>{-1, 1, 1, -1}));
  CHECK(values_of<uint8_t>(run(make_node("Div"), 14, {tensor<uint8_t>({2}, {255, 7}), tensor<uint8_t>({1}, {2})})
                               .output) == (std::vector<uint8_t>{127, 3}));
  // MIN / −1 and MAX + 1 wrap instead of trapping or being undefined.
  const int32_t min = std::numeric_limits<int32_t>::min(), max = std::numeric_limits<int32_t>::max();
  CHECK(values_of<int32_t>(run(make_node("Div"), 14, {tensor<int32_t>({1}, {min}), tensor<int32_t>({1}, {-1})})
                               .output) == (std::vector<int32_t>{min}));
  CHECK(values_of<int32_t>(run(make_node("Add"), 14, {tensor<int32_t>({1}, {max}), tensor<int32_t>({1}, {1})})
                               .output) == (std::vector<int32_t>{min}));
  CHECK(values_of<uint16_t>(run(make_node("Mul"), 14,
                                {tensor<uint16_t>({1}, {65535}), tensor<uint16_t>({1}, {65535})})
                                .output) == (std::vector<uint16_t>{1}));
  CHECK(values_of<int8_t>(run(make_node("Sub"), 14, {tensor<int8_t>({1}, {-128}), tensor<int8_t>({1}, {1})})
                              .output) == (std::vector<int8_t>{127}));
  // A zero divisor is an error naming the node, not a crash.
  CHECK_THROWS(infer(make_node("Div"), 14, {x, tensor<int32_t>({2}, {1, 0})}), ErrorKind::invalid_model,
               "Div node 'n': input shapes [4] and [2] do not broadcast");
  CHECK_THROWS(run(make_node("Div"), 14, {x, tensor<int32_t>({1}, {0})}), ErrorKind::runtime,
               "Div node 'n': integer division by zero");
  // Float division by zero is IEEE's business.
  CHECK(std::isinf(values_of<float>(run(make_node("Div"), 14, {tensor<float>({1}, {1}), tensor<float>({1}, {0})})
                                        .output)[0]));
}

void pow_mixes_types_from_opset_12() {
  // test_pow_types_int32_float32, test_pow_types_int64_int64, test_pow_types_float32_int64.
  CHECK(values_of<int32_t>(run(make_node("Pow"), 15, {tensor<int32_t>({3}, {1, 2, 3}), tensor<float>({3}, {4, 5, 6})})
                               .output) == (std::vector<int32_t>{1, 32, 729}));
  CHECK(values_of<int64_t>(run(make_node("Pow"), 15, {tensor<int64_t>({3}, {1, 2, 3}), tensor<int64_t>({3}, {4, 5, 6})})
                               .output) == (std::vector<int64_t>{1, 32, 729}));
  CHECK(values_of<float>(run(make_node("Pow"), 15, {tensor<float>({3}, {1, 2, 3}), tensor<int64_t>({3}, {4, 5, 6})})
                             .output) == (std::vector<float>{1, 32, 729}));
  // Negative integer exponents truncate 1/base^n toward zero.
  CHECK(values_of<int32_t>(run(make_node("Pow"), 15,
                               {tensor<int32_t>({4}, {2, 1, -1, -1}), tensor<int32_t>({4}, {-1, -5, -3, -2})})
                               .output) == (std::vector<int32_t>{0, 1, -1, 1}));
  // x^2 takes the multiply path; broadcasting a row of exponents takes the general one.
  const Tensor x = tensor<float>({2, 2}, {1.5f, -2, 3, 0.5f});
  CHECK(values_of<float>(run(make_node("Pow"), 15, {x, tensor<float>({}, {2.0f})}).output) ==
        (std::vector<float>{2.25f, 4, 9, 0.25f}));
  const std::vector<float> p = values_of<float>(run(make_node("Pow"), 15, {x, tensor<float>({2}, {3, 0.5f})}).output);
  CHECK(p[0] == 3.375f && std::isnan(p[1]) && p[2] == 27 && p[3] == std::sqrt(0.5f));
  // Before opset 12 the exponent's type must be the base's, and integers are not allowed.
  CHECK_THROWS(infer(make_node("Pow"), 7, {tensor<float>({1}, {2}), tensor<int64_t>({1}, {2})}),
               ErrorKind::invalid_model, "must have the same type");
  CHECK_THROWS(infer(make_node("Pow"), 7, {tensor<int32_t>({1}, {2}), tensor<int32_t>({1}, {2})}),
               ErrorKind::unsupported, "input 0 has type int32");
}

// Add-1 … Add-6 (and Pow-1): B is broadcast onto A only with broadcast=1, along A's dims from `axis`.
void legacy_broadcast_follows_axis() {
  std::mt19937 rng(5);
  const Tensor a = random_tensor<float>({2, 3, 4, 5}, rng);
  const auto add = [](float x, float y) { return x + y; };
  {  // B [3,4] at axis 1 reads like numpy's [3,4,1]
    const Tensor b = random_tensor<float>({3, 4}, rng);
    const Result r = run(make_node("Add", {attr_int("broadcast", 1), attr_int("axis", 1)}), 6, {a, b});
    CHECK(r.shape == a.shape);
    Tensor b_numpy = b;
    b_numpy.shape = {3, 4, 1};
    CHECK(values_of<float>(r.output) == reference<float>(a, b_numpy, r.shape, add));
  }
  {  // Without axis: suffix matching, as numpy.
    const Tensor b = random_tensor<float>({4, 5}, rng);
    const Result r = run(make_node("Add", {attr_int("broadcast", 1)}), 1, {a, b});
    CHECK(values_of<float>(r.output) == reference<float>(a, b, r.shape, add));
  }
  {  // One element, of any rank up to A's.
    const Tensor b = tensor<float>({1, 1}, {2.0f});
    const Result r = run(make_node("Mul", {attr_int("broadcast", 1)}), 6, {a, b});
    CHECK(values_of<float>(r.output) == reference<float>(a, tensor<float>({}, {2.0f}), r.shape,
                                                         [](float x, float y) { return x * y; }));
  }
  {  // B [2] at axis 0
    const Tensor b = tensor<float>({2}, {1.0f, 2.0f});
    const Result r = run(make_node("Pow", {attr_int("broadcast", 1), attr_int("axis", 0)}), 6, {a, b});
    Tensor b_numpy = b;
    b_numpy.shape = {2, 1, 1, 1};
    CHECK(values_of<float>(r.output) ==
          reference<float>(a, b_numpy, r.shape, [](float x, float y) { return std::pow(x, y); }));
  }
  CHECK_THROWS(infer(make_node("Add"), 6, {a, random_tensor<float>({5}, rng)}), ErrorKind::invalid_model,
               "differ and attribute 'broadcast' is 0");
  CHECK_THROWS(infer(make_node("Add", {attr_int("broadcast", 1), attr_int("axis", 2)}), 6,
                     {a, random_tensor<float>({3, 4}, rng)}),
               ErrorKind::invalid_model, "does not match input A [2, 3, 4, 5] at axis 2");
  CHECK_THROWS(infer(make_node("Add", {attr_int("broadcast", 1), attr_int("axis", 3)}), 6,
                     {a, random_tensor<float>({3, 4}, rng)}),
               ErrorKind::invalid_model, "attribute 'axis' 3 does not fit");
}

void arithmetic_rejects_bad_types() {
  CHECK_THROWS(infer(make_node("Add"), 14, {tensor<float>({1}, {1}), tensor<int32_t>({1}, {1})}),
               ErrorKind::invalid_model, "Add node 'n': inputs 0 and 1 must have the same type, got float and int32");
  CHECK_THROWS(infer(make_node("Mul"), 14, {Tensor::allocate(DType::f16, {1}), Tensor::allocate(DType::f16, {1})}),
               ErrorKind::unsupported, "input 0 has type float16");
  CHECK_THROWS(infer(make_node("Add"), 14, {Tensor::allocate(DType::boolean, {1}), Tensor::allocate(DType::boolean, {1})}),
               ErrorKind::unsupported, "input 0 has type bool");
  CHECK_THROWS(infer(make_node("Sqrt"), 13, {tensor<int32_t>({1}, {4})}), ErrorKind::unsupported, "int32");
  CHECK_THROWS(infer(make_node("Add"), 14, {tensor<float>({1}, {1})}), ErrorKind::invalid_model, "input 1 is required");
  CHECK(SchemaRegistry::instance().find("", "Erf", 8) == nullptr);
}

// ---- Unary math and activations ------------------------------------------------------------------

template <typename F> std::vector<float> apply(const std::vector<float>& x, F f) {
  std::vector<float> y;
  for (float v : x) y.push_back(static_cast<float>(f(static_cast<double>(v))));
  return y;
}

void check_close(const std::vector<float>& actual, const std::vector<float>& expected, double rtol = 1e-6) {
  CHECK(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size() && i < expected.size(); ++i)
    CHECK_NEAR(actual[i], expected[i], 1e-7 + rtol * std::fabs(expected[i]));
}

void unary_math_and_activations() {
  const std::vector<float> xs = {-20, -3.5f, -1, -0.3f, -1e-4f, 0, 1e-4f, 0.3f, 1, 2.5f, 20};
  const Tensor x = tensor<float>({11}, xs);
  check_close(values_of<float>(run(make_node("Erf"), 13, {x}).output), apply(xs, [](double v) { return std::erf(v); }));
  check_close(values_of<float>(run(make_node("Tanh"), 13, {x}).output), apply(xs, [](double v) { return std::tanh(v); }));
  check_close(values_of<float>(run(make_node("Sigmoid"), 13, {x}).output),
              apply(xs, [](double v) { return 1 / (1 + std::exp(-v)); }));
  check_close(values_of<float>(run(make_node("Relu"), 14, {x}).output), apply(xs, [](double v) { return v < 0 ? 0 : v; }));
  check_close(values_of<float>(run(make_node("LeakyRelu"), 16, {x}).output),
              apply(xs, [](double v) { return v < 0 ? 0.01f * static_cast<float>(v) : v; }));
  check_close(values_of<float>(run(make_node("LeakyRelu", {attr_float("alpha", 0.1f)}), 6, {x}).output),
              apply(xs, [](double v) { return v < 0 ? 0.1f * static_cast<float>(v) : v; }));
  const Tensor squares = tensor<float>({3}, {4, 2, 0});
  check_close(values_of<float>(run(make_node("Sqrt"), 13, {squares}).output), {2, std::sqrt(2.0f), 0});
  // Doubles go through std::.
  CHECK(values_of<double>(run(make_node("Erf"), 13, {tensor<double>({1}, {0.5})}).output)[0] == std::erf(0.5));
  // NaN passes through.
  CHECK(std::isnan(values_of<float>(run(make_node("Relu"), 14, {tensor<float>({1}, {NAN})}).output)[0]));
  CHECK(std::isnan(values_of<float>(run(make_node("Tanh"), 14, {tensor<float>({1}, {NAN})}).output)[0]));
  // Relu-14 takes signed integers.
  CHECK(values_of<int8_t>(run(make_node("Relu"), 14, {tensor<int8_t>({3}, {-128, 0, 127})}).output) ==
        (std::vector<int8_t>{0, 0, 127}));
  CHECK_THROWS(infer(make_node("Sigmoid"), 13, {tensor<int32_t>({1}, {1})}), ErrorKind::unsupported, "int32");
  CHECK_THROWS(infer(make_node("LeakyRelu", {attr_int("alpha", 1)}), 16, {x}), ErrorKind::invalid_model, "alpha");
}

void gelu_has_two_modes() {
  const std::vector<float> xs = {-5, -1, -0.5f, 0, 0.5f, 1, 5};
  const Tensor x = tensor<float>({7}, xs);
  check_close(values_of<float>(run(make_node("Gelu"), 20, {x}).output),
              apply(xs, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }));
  const auto tanh_gelu = [](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  };
  check_close(values_of<float>(run(make_node("Gelu", {attr_string("approximate", "tanh")}), 20, {x}).output),
              apply(xs, tanh_gelu));
  // test_gelu_tanh_1
  check_close(values_of<float>(run(make_node("Gelu", {attr_string("approximate", "tanh")}), 20,
                                   {tensor<float>({3}, {-1, 0, 1})})
                                   .output),
              {-0.158808f, 0, 0.841192f}, 1e-5);
  CHECK_THROWS(infer(make_node("Gelu", {attr_string("approximate", "fast")}), 20, {x}), ErrorKind::invalid_model,
               "attribute 'approximate' must be \"none\" or \"tanh\", got \"fast\"");
  CHECK(SchemaRegistry::instance().find("", "Gelu", 19) == nullptr);
}

void clip_bounds_are_optional() {
  const Tensor x = tensor<float>({5}, {-3, -1, 0, 1, 3});
  const Tensor lo = tensor<float>({}, {-1.5f}), hi = tensor<float>({}, {2});
  CHECK(values_of<float>(run(make_node("Clip"), 13, {x, lo, hi}).output) == (std::vector<float>{-1.5f, -1, 0, 1, 2}));
  CHECK(values_of<float>(run(make_node("Clip"), 13, {x, omitted(), hi}).output) == (std::vector<float>{-3, -1, 0, 1, 2}));
  CHECK(values_of<float>(run(make_node("Clip"), 13, {x, lo}).output) == (std::vector<float>{-1.5f, -1, 0, 1, 3}));
  CHECK(values_of<float>(run(make_node("Clip"), 13, {x}).output) == values_of<float>(x));
  // min > max: everything becomes max (test_clip_min_greater_than_max).
  CHECK(values_of<float>(run(make_node("Clip"), 13, {x, tensor<float>({}, {2}), tensor<float>({}, {1})}).output) ==
        (std::vector<float>{1, 1, 1, 1, 1}));
  // int8 (test_clip_default_int8_min), and a one-element [1] bound.
  CHECK(values_of<int8_t>(run(make_node("Clip"), 13, {tensor<int8_t>({4}, {-128, -1, 0, 127}), tensor<int8_t>({1}, {0})})
                              .output) == (std::vector<int8_t>{0, 0, 0, 127}));
  // Clip-6: bounds are attributes; an absent one does not clip.
  CHECK(values_of<float>(run(make_node("Clip", {attr_float("min", -1), attr_float("max", 1)}), 6, {x}).output) ==
        (std::vector<float>{-1, -1, 0, 1, 1}));
  CHECK(values_of<float>(run(make_node("Clip", {attr_float("max", 0)}), 6, {x}).output) ==
        (std::vector<float>{-3, -1, 0, 0, 0}));
  CHECK_THROWS(infer(make_node("Clip"), 13, {x, tensor<float>({2}, {0, 1})}), ErrorKind::invalid_model,
               "input 'min' must be a scalar, got shape [2]");
  CHECK_THROWS(infer(make_node("Clip"), 13, {x, omitted(), tensor<double>({}, {1})}), ErrorKind::invalid_model,
               "input 'max' has type double, expected float");
}

// ---- Cast ----------------------------------------------------------------------------------------

Node cast_to(DType to) { return make_node("Cast", {attr_int("to", static_cast<int64_t>(to))}); }

void cast_converts_between_types() {
  const Tensor x = tensor<float>({6}, {0.4789254665f, -2.7f, 300.0f, 65504.0f, 1e-8f, NAN});
  // float → float16 → float rounds to the nearest half.
  const Result half = run(cast_to(DType::f16), 13, {x});
  CHECK(half.dtype == DType::f16 && half.shape == x.shape);
  const std::vector<float> back = values_of<float>(run(cast_to(DType::f32), 13, {half.output}).output);
  CHECK(back[0] == half_to_float(float_to_half(0.4789254665f)) && std::fabs(back[0] - 0.4789f) < 1e-3f);
  CHECK(back[1] == -2.69921875f && back[2] == 300 && back[3] == 65504 && back[4] == half_to_float(float_to_half(1e-8f)));
  CHECK(std::isnan(back[5]));
  // float → bfloat16 rounds to nearest even (test_cast_FLOAT_to_BFLOAT16: 0.4789254665 → 0.478515625).
  const Result bf = run(cast_to(DType::bf16), 13, {x});
  CHECK(values_of<float>(run(cast_to(DType::f32), 13, {bf.output}).output)[0] == 0.478515625f);
  // float16 → double, double → float16.
  const std::vector<double> d = values_of<double>(run(cast_to(DType::f64), 13, {half.output}).output);
  CHECK(d[1] == -2.69921875);
  const Tensor d16 = run(cast_to(DType::f16), 13, {tensor<double>({1}, {-2.7})}).output;
  CHECK(d16.data_as<uint16_t>()[0] == float_to_half(-2.7f));
  // float → integers truncates toward zero; NaN becomes 0; out of range wraps as numpy does on x86.
  CHECK(values_of<int32_t>(run(cast_to(DType::i32), 13, {x}).output) == (std::vector<int32_t>{0, -2, 300, 65504, 0, 0}));
  CHECK(values_of<uint8_t>(run(cast_to(DType::u8), 13, {tensor<float>({3}, {-1, 300, 1e30f})}).output) ==
        (std::vector<uint8_t>{255, 44, 255}));
  CHECK(values_of<uint64_t>(run(cast_to(DType::u64), 13, {tensor<double>({2}, {1.8e19, 1e30})}).output) ==
        (std::vector<uint64_t>{18000000000000000000ull, std::numeric_limits<uint64_t>::max()}));
  // bool: nonzero (NaN too) is true; true is 1.
  CHECK(values_of<bool>(run(cast_to(DType::boolean), 13, {x}).output) ==
        (std::vector<bool>{true, true, true, true, true, true}));
  CHECK(values_of<float>(run(cast_to(DType::f32), 13, {tensor<bool>({2}, {true, false})}).output) ==
        (std::vector<float>{1, 0}));
  // Integers convert as C does.
  CHECK(values_of<int8_t>(run(cast_to(DType::i8), 13, {tensor<int64_t>({2}, {200, -1})}).output) ==
        (std::vector<int8_t>{-56, -1}));
  CHECK(values_of<float>(run(cast_to(DType::f32), 13, {tensor<int64_t>({1}, {1 << 20})}).output)[0] == 1048576.0f);
  // The same type copies.
  CHECK(values_of<int64_t>(run(cast_to(DType::i64), 13, {tensor<int64_t>({2}, {5, -5})}).output) ==
        (std::vector<int64_t>{5, -5}));
  // Cast-1 names the type as a string.
  CHECK(run(make_node("Cast", {attr_string("to", "FLOAT16")}), 1, {x}).dtype == DType::f16);
  // CastLike takes the type of its second input.
  const Result like = run(make_node("CastLike"), 15, {x, tensor<int16_t>({}, {0})});
  CHECK(like.dtype == DType::i16 && values_of<int16_t>(like.output)[1] == -2);
}

void cast_rejects_types_it_cannot_hold() {
  const Tensor x = tensor<float>({1}, {1});
  CHECK_THROWS(infer(cast_to(DType::string), 13, {x}), ErrorKind::unsupported, "attribute 'to' is string (8)");
  CHECK_THROWS(infer(make_node("Cast", {attr_int("to", 17)}), 19, {x}), ErrorKind::unsupported,
               "attribute 'to' is float8e4m3fn (17)");
  CHECK_THROWS(infer(make_node("Cast", {attr_int("to", 22)}), 21, {x}), ErrorKind::unsupported, "int4");
  CHECK_THROWS(infer(make_node("Cast", {attr_int("to", 99)}), 21, {x}), ErrorKind::unsupported, "unknown (99)");
  CHECK_THROWS(infer(make_node("Cast"), 13, {x}), ErrorKind::invalid_model, "attribute 'to' is required");
  CHECK_THROWS(infer(make_node("Cast", {attr_string("to", "FLOAT17")}), 1, {x}), ErrorKind::invalid_model,
               "unknown type \"FLOAT17\"");
  Tensor strings;
  strings.dtype = DType::string;
  strings.shape = {1};
  CHECK_THROWS(infer(cast_to(DType::f32), 13, {strings}), ErrorKind::unsupported, "input 0 has type string");
}

// ---- The vectorised float math against double-precision std:: ------------------------------------

template <typename Fast, typename Exact>
void check_relative_error(const char* name, Fast fast, Exact exact, float lo, float hi, double tolerance) {
  double worst = 0;
  float worst_x = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = lo + (hi - lo) * static_cast<float>(i) / 200000.0f;
    const double want = exact(static_cast<double>(x));
    if (want == 0 || std::fabs(want) < 1e-37) continue;
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
  check_relative_error("exp", [](float x) { return math::exp(x); }, [](double x) { return std::exp(x); }, -87, 88.7f, 1e-6);
  check_relative_error("erf", [](float x) { return math::erf(x); }, [](double x) { return std::erf(x); }, -6, 6, 1e-6);
  check_relative_error("erf near 0", [](float x) { return math::erf(x); }, [](double x) { return std::erf(x); }, -1e-3f,
                       1e-3f, 1e-6);
  check_relative_error("tanh", [](float x) { return math::tanh(x); }, [](double x) { return std::tanh(x); }, -12, 12, 1e-6);
  check_relative_error("tanh near 0", [](float x) { return math::tanh(x); }, [](double x) { return std::tanh(x); },
                       -1e-3f, 1e-3f, 1e-6);
  check_relative_error("sigmoid", [](float x) { return math::sigmoid(x); },
                       [](double x) { return 1 / (1 + std::exp(-x)); }, -80, 30, 1e-6);
  // The edges: overflow, underflow, subnormal results, infinities, NaN.
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(math::exp(89.0f) == inf && math::exp(inf) == inf && math::exp(-inf) == 0 && math::exp(-200.0f) == 0);
  CHECK(math::exp(88.7f) > 3.3e38f);
  CHECK(math::exp(-100.0f) == static_cast<float>(std::exp(-100.0)));
  CHECK(math::tanh(inf) == 1);
  CHECK(math::tanh(-inf) == -1);
  CHECK(math::erf(inf) == 1);
  CHECK(math::erf(-inf) == -1);
  CHECK(math::sigmoid(-inf) == 0 && math::sigmoid(inf) == 1);
  CHECK(std::isnan(math::exp(NAN)) && std::isnan(math::erf(NAN)) && std::isnan(math::tanh(NAN)));
}

}  // namespace

int main() {
  add_broadcasts_as_numpy();
  random_shapes_match_the_reference();
  large_tensors_split_across_threads();
  integers_divide_and_wrap_as_c();
  pow_mixes_types_from_opset_12();
  legacy_broadcast_follows_axis();
  arithmetic_rejects_bad_types();
  unary_math_and_activations();
  gelu_has_two_modes();
  clip_bounds_are_optional();
  cast_converts_between_types();
  cast_rejects_types_it_cannot_hold();
  vectorised_math_is_accurate();
  if (test::failures()) std::fprintf(stderr, "%d check(s) failed\n", test::failure_count());
  return test::failures();
}
