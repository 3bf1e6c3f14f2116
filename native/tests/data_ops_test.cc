// The reductions (ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceL2), data movement (Slice, Split,
// Expand, Tile), indexing (GatherElements, ScatterND, TopK), generated numbers (Range, ConstantOfShape,
// Size, Trilu, CumSum) and Einsum, each through its shape function and its CPU kernel: what the ONNX
// conformance cases do not cover (other types, the older opsets' attributes, several threads, random
// shapes against a naive reference) and the errors bad models and bad data get.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "support/check.h"
#include "support/op_harness.h"

using namespace inferd;

using inferd::test::attr_int;
using inferd::test::attr_ints;
using inferd::test::attr_string;
using inferd::test::make_node;

namespace {

// ---- Building nodes and tensors ------------------------------------------------------------------

Attribute attr_tensor(const std::string& name, Tensor v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::t;
  a.t = std::move(v);
  return a;
}

template <typename T> Tensor tensor(Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  CHECK(static_cast<size_t>(t.size()) == values.size());
  for (size_t i = 0; i < values.size(); ++i) t.data_as<T>()[i] = values[i];  // not memcpy: vector<bool>
  return t;
}

Tensor ints(const std::vector<int64_t>& v) { return tensor<int64_t>({static_cast<int64_t>(v.size())}, v); }
template <typename T> Tensor scalar(T v) { return tensor<T>({}, {v}); }

template <typename T> Tensor random_tensor(Shape shape, std::mt19937& rng, double lo = -4, double hi = 4) {
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
  if (t.dtype != dtype_of<T>) return {};
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.size());
}

// ---- Running an op -------------------------------------------------------------------------------

Tensor omitted() { return Tensor{}; }

// Every given input is known, as constants are at plan time (the schema reads shape-deciding
// values; the kernel may pre-pack).
std::vector<inferd::test::Input> all_known(const std::vector<Tensor>& inputs) {
  std::vector<inferd::test::Input> out;
  for (const Tensor& t : inputs) out.push_back(t.dtype == DType::undefined ? inferd::test::omitted() : inferd::test::constant(t));
  return out;
}

inferd::test::Result infer(const Node& node, int opset, const std::vector<Tensor>& inputs, size_t outputs = 1) {
  return inferd::test::infer(node, opset, all_known(inputs), outputs);
}

// Infers, then runs the CPU kernel (or returns the values inference gave, as for Size).
std::vector<Tensor> run_all(const Node& node, int opset, const std::vector<Tensor>& inputs, size_t outputs = 1,
                            int threads = 1) {
  const inferd::test::Result inferred = infer(node, opset, inputs, outputs);
  if (inferred.values[0].dtype != DType::undefined) return inferred.values;
  return inferd::test::run(node, opset, all_known(inputs), threads, outputs).outputs;
}

Tensor run(const Node& node, int opset, const std::vector<Tensor>& inputs, int threads = 1) {
  return run_all(node, opset, inputs, 1, threads)[0];
}

// Runs the kernel on outputs shaped by hand (to reach the kernel's own checks).
void run_into(const Node& node, int opset, const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
  const KernelDef* def = KernelRegistry::instance().find("cpu", "", node.op_type, opset);
  KernelInit init{node, opset, {}};
  std::unique_ptr<Kernel> kernel = def->make(init);
  std::vector<const Tensor*> in_ptrs;
  for (const Tensor& in : inputs) in_ptrs.push_back(in.dtype == DType::undefined ? nullptr : &in);
  std::vector<Tensor*> out_ptrs;
  for (Tensor& t : outputs) out_ptrs.push_back(&t);
  ThreadPool pool(1);
  KernelContext ctx{in_ptrs.data(), in_ptrs.size(), out_ptrs.data(), out_ptrs.size(), &pool};
  kernel->run(ctx);
}

template <typename T> void check_values(const Tensor& t, const std::vector<T>& expected, const char* what) {
  const std::vector<T> got = values_of<T>(t);
  bool same = got.size() == expected.size();
  for (size_t i = 0; same && i < got.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      same = got[i] == expected[i] || (std::isnan(got[i]) && std::isnan(expected[i])) ||
             std::fabs(got[i] - expected[i]) <= 1e-4 * (1 + std::fabs(expected[i]));
    else
      same = got[i] == expected[i];
  }
  if (!same) {
    std::fprintf(stderr, "%s: got", what);
    for (const T& v : got) std::fprintf(stderr, " %g", static_cast<double>(v));
    std::fprintf(stderr, "; expected");
    for (const T& v : expected) std::fprintf(stderr, " %g", static_cast<double>(v));
    std::fprintf(stderr, "\n");
  }
  CHECK(same);
}

// ---- Reductions ----------------------------------------------------------------------------------

// The reduction of `x` over `axes` (all when empty), element by element, in double.
template <typename T>
std::vector<double> reduce_reference(const Tensor& x, const std::vector<int64_t>& axes, const std::string& op) {
  const int rank = x.rank();
  std::vector<bool> reduced(static_cast<size_t>(rank), axes.empty());
  for (int64_t a : axes) reduced[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  Shape out_shape;
  for (int d = 0; d < rank; ++d) out_shape.push_back(reduced[static_cast<size_t>(d)] ? 1 : x.shape[static_cast<size_t>(d)]);
  const int64_t n_out = shape_size(out_shape);
  const double init = op == "max" ? -INFINITY : op == "min" ? INFINITY : op == "prod" ? 1 : 0;
  std::vector<double> acc(static_cast<size_t>(n_out), init);
  std::vector<int64_t> in_strides(static_cast<size_t>(rank)), out_strides(static_cast<size_t>(rank));
  row_major_strides(x.shape, in_strides.data());
  row_major_strides(out_shape, out_strides.data());
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t o = 0;
    for (int d = 0; d < rank; ++d) {
      const int64_t c = i / in_strides[static_cast<size_t>(d)] % x.shape[static_cast<size_t>(d)];
      if (!reduced[static_cast<size_t>(d)]) o += c * out_strides[static_cast<size_t>(d)];
    }
    const double v = static_cast<double>(x.data_as<T>()[i]);
    double& a = acc[static_cast<size_t>(o)];
    if (op == "sum") a += v;
    else if (op == "l2") a += v * v;
    else if (op == "prod") a *= v;
    else if (op == "max") a = std::max(a, v);
    else if (op == "min") a = std::min(a, v);
  }
  if (op == "l2")
    for (double& a : acc) a = std::sqrt(a);
  return acc;
}

void reductions_match_reference() {
  std::mt19937 rng(7);
  const std::pair<const char*, const char*> ops[] = {
      {"ReduceSum", "sum"}, {"ReduceMax", "max"}, {"ReduceMin", "min"}, {"ReduceProd", "prod"}, {"ReduceL2", "l2"}};
  const std::vector<std::vector<int64_t>> axis_sets = {{}, {0}, {1}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}, {2, 0}};
  for (const auto& [op, name] : ops) {
    for (int trial = 0; trial < 12; ++trial) {
      const Shape shape = {1 + static_cast<int64_t>(rng() % 5), 1 + static_cast<int64_t>(rng() % 7),
                           1 + static_cast<int64_t>(rng() % 40)};
      const std::vector<int64_t>& axes = axis_sets[static_cast<size_t>(trial) % axis_sets.size()];
      const bool prod = std::string(name) == "prod";
      const Tensor x = random_tensor<float>(shape, rng, prod ? 0.5 : -4, prod ? 1.5 : 4);
      const Tensor xi = random_tensor<int32_t>(shape, rng, -3, 3);
      const std::vector<Attribute> keep = {attr_int("keepdims", trial % 2)};
      // The old opsets take axes as an attribute, the new ones as an input.
      const int old_opset = 11, new_opset = std::string(op) == "ReduceSum" ? 13 : 18;
      std::vector<Attribute> old_attrs = keep;
      if (!axes.empty()) old_attrs.push_back(attr_ints("axes", axes));
      const Tensor a = run(make_node(op, old_attrs), old_opset, {x});
      const Tensor b = run(make_node(op, keep), new_opset, {x, axes.empty() ? omitted() : ints(axes)}, 3);
      const std::vector<double> expected = reduce_reference<float>(x, axes, name);
      CHECK(a.shape == b.shape);
      CHECK(a.size() == static_cast<int64_t>(expected.size()));
      for (size_t i = 0; i < expected.size() && i < static_cast<size_t>(a.size()); ++i) {
        CHECK_NEAR(a.data_as<float>()[i], expected[i], 1e-4 * (1 + std::fabs(expected[i])));
        CHECK_NEAR(b.data_as<float>()[i], expected[i], 1e-4 * (1 + std::fabs(expected[i])));
      }
      if (!prod) {  // integers: exact (products of random ints overflow, so not those)
        const Tensor c = run(make_node(op, keep), new_opset, {xi, axes.empty() ? omitted() : ints(axes)});
        const std::vector<double> expected_i = reduce_reference<int32_t>(xi, axes, name);
        for (size_t i = 0; i < expected_i.size(); ++i)
          CHECK(c.data_as<int32_t>()[i] == static_cast<int32_t>(name == std::string("l2") ? std::floor(expected_i[i]) : expected_i[i]));
      }
    }
  }
}

void reductions_of_other_types_and_empty_sets() {
  // ReduceMax/ReduceMin of bool are "any" and "all".
  const Tensor b = tensor<bool>({2, 3}, {false, true, false, false, false, false});
  check_values<bool>(run(make_node("ReduceMax", {attr_int("keepdims", 0)}), 20, {b, ints({1})}), {true, false}, "any");
  check_values<bool>(run(make_node("ReduceMin", {attr_int("keepdims", 0)}), 20, {b, ints({0})}), {false, false, false}, "all");
  // uint8 and int64.
  const Tensor u = tensor<uint8_t>({4}, {3, 250, 7, 1});
  check_values<uint8_t>(run(make_node("ReduceMax", {attr_int("keepdims", 0)}), 18, {u}), {250}, "uint8 max");
  const Tensor big = tensor<int64_t>({2, 2}, {int64_t{1} << 40, 3, -(int64_t{1} << 41), 5});
  check_values<int64_t>(run(make_node("ReduceSum", {attr_int("keepdims", 0)}), 13, {big, ints({0})}),
                        {-(int64_t{1} << 40), 8}, "int64 sum");
  check_values<double>(run(make_node("ReduceL2", {attr_int("keepdims", 0)}), 18, {tensor<double>({2}, {3, 4})}), {5.0},
                       "double l2");
  // Over an empty set: the identity of each reduction.
  const Tensor empty = Tensor::allocate(DType::f32, {2, 0, 3});
  const float inf = std::numeric_limits<float>::infinity();
  check_values<float>(run(make_node("ReduceMin"), 18, {empty, ints({1})}), std::vector<float>(6, inf), "min of nothing");
  check_values<float>(run(make_node("ReduceMax"), 18, {empty, ints({1})}), std::vector<float>(6, -inf), "max of nothing");
  check_values<float>(run(make_node("ReduceProd"), 18, {empty, ints({1})}), std::vector<float>(6, 1.0f), "prod of nothing");
  check_values<float>(run(make_node("ReduceL2"), 18, {empty, ints({1})}), std::vector<float>(6, 0.0f), "l2 of nothing");
  check_values<int32_t>(run(make_node("ReduceMax"), 18, {Tensor::allocate(DType::i32, {0}), omitted()}),
                        {std::numeric_limits<int32_t>::lowest()}, "int max of nothing");
  // NaN wins max and min.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor with_nan = tensor<float>({3}, {1, nan, 2});
  CHECK(std::isnan(run(make_node("ReduceMax"), 18, {with_nan}).data_as<float>()[0]));
  CHECK(std::isnan(run(make_node("ReduceMin"), 18, {with_nan}).data_as<float>()[0]));
  // noop_with_empty_axes with no axes is a copy; without it, everything is reduced.
  const Tensor x = tensor<float>({2, 2}, {1, 2, 3, 4});
  check_values<float>(run(make_node("ReduceSum", {attr_int("noop_with_empty_axes", 1)}), 13, {x, ints({})}),
                      {1, 2, 3, 4}, "noop");
  check_values<float>(run(make_node("ReduceProd", {attr_int("keepdims", 0)}), 18, {x, ints({})}), {24}, "all axes");
  // Large enough to split over threads: the same result as on one.
  std::mt19937 rng(3);
  const Tensor large = random_tensor<float>({64, 33, 70}, rng);
  for (const char* op : {"ReduceSum", "ReduceMax", "ReduceL2"}) {
    const int opset = std::string(op) == "ReduceSum" ? 13 : 18;
    const Tensor one = run(make_node(op), opset, {large, ints({1})}, 1);
    const Tensor four = run(make_node(op), opset, {large, ints({1})}, 4);
    CHECK(std::memcmp(one.data, four.data, one.nbytes()) == 0);
  }
}

void reduction_errors() {
  const Tensor x = tensor<float>({2, 2}, {1, 2, 3, 4});
  CHECK_THROWS(infer(make_node("ReduceSum"), 13, {x, ints({2})}), ErrorKind::invalid_model, "axes entry 2 is out of range");
  CHECK_THROWS(infer(make_node("ReduceMax", {attr_ints("axes", {0, -2})}), 13, {x}), ErrorKind::invalid_model,
               "name axis 0 twice");
  CHECK_THROWS(infer(make_node("ReduceSum"), 13, {tensor<bool>({1}, {true})}), ErrorKind::unsupported,
               "input 0 has type bool");
  // An axes input the kernel reads at run time is checked there too.
  std::vector<Tensor> out = {Tensor::allocate(DType::f32, {2, 1})};
  CHECK_THROWS(run_into(make_node("ReduceSum"), 13, {x, ints({5})}, out), ErrorKind::out_of_range, "axes entry 5");
}

// ---- Slice and Split -----------------------------------------------------------------------------

// numpy's x[start:end:step] along every axis of a 3-D tensor, for reference.
template <typename T>
std::vector<T> slice_reference(const Tensor& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                               const std::vector<int64_t>& steps) {
  std::vector<std::vector<int64_t>> picks(3);
  for (size_t a = 0; a < 3; ++a) {
    const int64_t dim = x.shape[a], step = steps[a];
    int64_t s = starts[a] < 0 ? starts[a] + dim : starts[a];
    int64_t e = ends[a] < 0 ? ends[a] + dim : ends[a];
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      for (int64_t i = s; i < e; i += step) picks[a].push_back(i);
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      for (int64_t i = s; i > e; i += step) picks[a].push_back(i);
    }
  }
  std::vector<T> out;
  for (int64_t i : picks[0])
    for (int64_t j : picks[1])
      for (int64_t k : picks[2]) out.push_back(x.data_as<T>()[(i * x.shape[1] + j) * x.shape[2] + k]);
  return out;
}

void slice_matches_reference() {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int64_t> pos(-9, 9), step_dist(-3, 3);
  for (int trial = 0; trial < 200; ++trial) {
    const Shape shape = {1 + static_cast<int64_t>(rng() % 6), 1 + static_cast<int64_t>(rng() % 6),
                         1 + static_cast<int64_t>(rng() % 6)};
    const Tensor x = random_tensor<int64_t>(shape, rng, -100, 100);
    std::vector<int64_t> starts(3), ends(3), steps(3);
    for (size_t a = 0; a < 3; ++a) {
      starts[a] = pos(rng);
      ends[a] = trial % 7 == 0 ? std::numeric_limits<int64_t>::max() : pos(rng);
      do steps[a] = step_dist(rng); while (steps[a] == 0);
      if (trial % 5 == 0) steps[a] = 1;
    }
    if (trial % 7 == 0)
      for (size_t a = 0; a < 3; ++a)
        if (steps[a] < 0) ends[a] = std::numeric_limits<int64_t>::min();
    // Axes in a shuffled order, given as int32.
    std::vector<int32_t> axes = {2, 0, 1};
    std::vector<int32_t> s32, e32, st32;
    for (int32_t a : axes) {
      s32.push_back(static_cast<int32_t>(starts[static_cast<size_t>(a)]));
      e32.push_back(static_cast<int32_t>(std::clamp<int64_t>(ends[static_cast<size_t>(a)], INT32_MIN, INT32_MAX)));
      st32.push_back(static_cast<int32_t>(steps[static_cast<size_t>(a)]));
    }
    const Tensor y = run(make_node("Slice"), 13,
                         {x, tensor<int32_t>({3}, s32), tensor<int32_t>({3}, e32), tensor<int32_t>({3}, axes),
                          tensor<int32_t>({3}, st32)},
                         trial % 3 + 1);
    const std::vector<int64_t> expected = slice_reference<int64_t>(x, starts, ends, steps);
    if (values_of<int64_t>(y) != expected)
      std::fprintf(stderr, "slice of %s: starts %s ends %s steps %s gives %s\n", shape_to_string(shape).c_str(),
                   shape_to_string(starts).c_str(), shape_to_string(ends).c_str(), shape_to_string(steps).c_str(),
                   shape_to_string(y.shape).c_str());
    check_values<int64_t>(y, expected, "slice");
  }
}

void slice_opsets_and_types() {
  const Tensor x = tensor<uint8_t>({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  // Opset 1: attributes, axes optional.
  const Tensor a = run(make_node("Slice", {attr_ints("starts", {1, -3}), attr_ints("ends", {1000, -1})}), 1, {x});
  CHECK((a.shape == Shape{2, 2}));
  check_values<uint8_t>(a, {5, 6, 9, 10}, "slice-1");
  const Tensor b = run(make_node("Slice", {attr_ints("starts", {2}), attr_ints("ends", {4}), attr_ints("axes", {1})}), 9, {x});
  check_values<uint8_t>(b, {2, 3, 6, 7, 10, 11}, "slice-1 axes");
  // Opset 10+: a reversal with a negative step, and a slice of an empty axis.
  const Tensor c = run(make_node("Slice"), 10, {x, ints({-1}), ints({std::numeric_limits<int64_t>::min()}), ints({1}), ints({-1})});
  check_values<uint8_t>(c, {3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}, "reverse");
  const Tensor empty = Tensor::allocate(DType::f32, {0, 3});
  CHECK((run(make_node("Slice"), 13, {empty, ints({0}), ints({-1}), ints({0}), ints({-1})}).shape == Shape{0, 3}));
  // bool (1-byte) and float with step 2 on the inner axis.
  const Tensor f = tensor<float>({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  check_values<float>(run(make_node("Slice"), 13, {f, ints({1}), ints({5}), ints({1}), ints({2})}), {1, 3, 6, 8}, "step 2");
}

void slice_errors() {
  const Tensor x = Tensor::allocate(DType::f32, {3, 4});
  CHECK_THROWS(infer(make_node("Slice"), 13, {x, ints({0}), ints({1}), ints({0}), ints({0})}), ErrorKind::invalid_model,
               "steps entry 0 is 0");
  CHECK_THROWS(infer(make_node("Slice"), 13, {x, ints({0, 0}), ints({1, 1}), ints({1, -1})}), ErrorKind::invalid_model,
               "name axis 1 twice");
  CHECK_THROWS(infer(make_node("Slice"), 13, {x, ints({0}), ints({1, 2})}), ErrorKind::invalid_model, "differ in length");
  CHECK_THROWS(infer(make_node("Slice"), 13, {x, ints({0}), ints({1}), ints({2})}), ErrorKind::invalid_model,
               "axes entry 2 is out of range for rank 2");
  // Run-time starts that disagree with the plan are caught, not followed out of bounds.
  std::vector<Tensor> out = {Tensor::allocate(DType::f32, {1, 4})};
  CHECK_THROWS(run_into(make_node("Slice"), 13, {x, ints({0}), ints({3}), ints({0})}, out), ErrorKind::runtime,
               "planned output");
}

void split_opsets() {
  const Tensor x = tensor<int64_t>({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  // Opset 2: the split attribute.
  std::vector<Tensor> a = run_all(make_node("Split", {attr_int("axis", 1), attr_ints("split", {1, 5})}), 2, {x}, 2);
  check_values<int64_t>(a[0], {0, 6}, "split-2 first");
  check_values<int64_t>(a[1], {1, 2, 3, 4, 5, 7, 8, 9, 10, 11}, "split-2 second");
  // Opset 11: a negative axis, equal parts.
  std::vector<Tensor> b = run_all(make_node("Split", {attr_int("axis", -1)}), 11, {x}, 3);
  check_values<int64_t>(b[2], {4, 5, 10, 11}, "split-11");
  // Opset 13: the split input, along axis 0.
  std::vector<Tensor> c = run_all(make_node("Split"), 13, {x, ints({0, 2})}, 2);
  CHECK((c[0].shape == Shape{0, 6}));
  CHECK((c[1].shape == Shape{2, 6}));
  // Opset 18: num_outputs with a smaller last part.
  std::vector<Tensor> d = run_all(make_node("Split", {attr_int("axis", 1), attr_int("num_outputs", 4)}), 18, {x}, 4, 2);
  CHECK((d[0].shape == Shape{2, 2} && d[3].shape == Shape{2, 0}));
  check_values<int64_t>(d[2], {4, 5, 10, 11}, "split-18");
  // Errors.
  CHECK_THROWS(infer(make_node("Split", {attr_int("axis", 1)}), 13, {x}, 4), ErrorKind::invalid_model,
               "cannot be split evenly into 4 outputs");
  CHECK_THROWS(infer(make_node("Split"), 13, {x, ints({1, 2})}, 2), ErrorKind::invalid_model, "sums to 3");
  CHECK_THROWS(infer(make_node("Split", {attr_int("num_outputs", 3)}), 18, {x}, 2), ErrorKind::invalid_model,
               "'num_outputs' is 3 but the node has 2 outputs");
  CHECK_THROWS(infer(make_node("Split", {attr_int("num_outputs", 2)}), 18, {x, ints({1, 1})}, 2),
               ErrorKind::invalid_model, "not both");
}

// ---- Expand and Tile -----------------------------------------------------------------------------

void expand_broadcasts_both_ways() {
  const Tensor x = tensor<int64_t>({3, 1}, {1, 2, 3});
  // 'shape' with a 1 keeps the input's dim; with fewer dims it is aligned at the right.
  const Tensor a = run(make_node("Expand"), 13, {x, ints({2, 1, 4})});
  CHECK((a.shape == Shape{2, 3, 4}));
  check_values<int64_t>(a, {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, "expand");
  CHECK((run(make_node("Expand"), 8, {x, ints({1})}).shape == Shape{3, 1}));
  const Tensor b = run(make_node("Expand"), 13, {tensor<bool>({1}, {true}), ints({2, 2})});
  check_values<bool>(b, {true, true, true, true}, "expand bool");
  CHECK((run(make_node("Expand"), 13, {x, ints({0, 3, 1})}).shape == Shape{0, 3, 1}));
  CHECK_THROWS(infer(make_node("Expand"), 13, {x, ints({2, 4})}), ErrorKind::invalid_model,
               "cannot expand input [3, 1] to shape [2, 4]");
  CHECK_THROWS(infer(make_node("Expand"), 13, {x, ints({-1, 1})}), ErrorKind::invalid_model, "negative dim");
}

void tile_repeats_every_axis() {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 30; ++trial) {
    const Shape shape = {1 + static_cast<int64_t>(rng() % 3), 1 + static_cast<int64_t>(rng() % 4),
                         1 + static_cast<int64_t>(rng() % 5)};
    const std::vector<int64_t> repeats = {static_cast<int64_t>(rng() % 3), 1 + static_cast<int64_t>(rng() % 3),
                                          static_cast<int64_t>(rng() % 4)};
    const Tensor x = random_tensor<uint16_t>(shape, rng, 0, 1000);
    const Tensor y = run(make_node("Tile"), 13, {x, ints(repeats)}, 1 + trial % 3);
    std::vector<uint16_t> expected;
    for (int64_t i = 0; i < shape[0] * repeats[0]; ++i)
      for (int64_t j = 0; j < shape[1] * repeats[1]; ++j)
        for (int64_t k = 0; k < shape[2] * repeats[2]; ++k)
          expected.push_back(x.data_as<uint16_t>()[((i % shape[0]) * shape[1] + j % shape[1]) * shape[2] + k % shape[2]]);
    check_values<uint16_t>(y, expected, "tile");
  }
  // Tile-1: one axis, by 'tiles' and 'axis' inputs.
  const Tensor x = tensor<float>({2, 2}, {1, 2, 3, 4});
  check_values<float>(run(make_node("Tile"), 1, {x, scalar<int64_t>(2), scalar<int64_t>(1)}), {1, 2, 1, 2, 3, 4, 3, 4},
                      "tile-1");
  CHECK_THROWS(infer(make_node("Tile"), 13, {x, ints({2})}), ErrorKind::invalid_model, "has 1 entries for input [2, 2]");
  CHECK_THROWS(infer(make_node("Tile"), 13, {x, ints({2, -1})}), ErrorKind::invalid_model, "negative entry -1");
}

// ---- Range, ConstantOfShape, Size ----------------------------------------------------------------

void range_counts_like_numpy() {
  check_values<int64_t>(run(make_node("Range"), 11, {scalar<int64_t>(10), scalar<int64_t>(-3), scalar<int64_t>(-4)}),
                        {10, 6, 2, -2}, "int64 negative delta");
  check_values<int32_t>(run(make_node("Range"), 11, {scalar<int32_t>(0), scalar<int32_t>(0), scalar<int32_t>(1)}), {},
                        "empty");
  check_values<int16_t>(run(make_node("Range"), 11, {scalar<int16_t>(1), scalar<int16_t>(8), scalar<int16_t>(3)}), {1, 4, 7},
                        "int16");
  check_values<float>(run(make_node("Range"), 11, {scalar<float>(1), scalar<float>(2), scalar<float>(0.25f)}),
                      {1, 1.25f, 1.5f, 1.75f}, "float");
  check_values<double>(run(make_node("Range"), 11, {scalar<double>(3), scalar<double>(1), scalar<double>(-0.5)}),
                       {3, 2.5, 2, 1.5}, "double");
  // float16 from opset 27, computed in float32.
  const auto half = [](float v) { Tensor t = Tensor::allocate(DType::f16, {}); t.data_as<uint16_t>()[0] = float_to_half(v); return t; };
  const Tensor h = run(make_node("Range"), 27, {half(1), half(4), half(1.5f)});
  CHECK((h.shape == Shape{2}) && h.dtype == DType::f16);
  CHECK(half_to_float(h.data_as<uint16_t>()[1]) == 2.5f);
  CHECK_THROWS(infer(make_node("Range"), 11, {half(1), half(4), half(1.5f)}), ErrorKind::unsupported, "float16");
  CHECK_THROWS(infer(make_node("Range"), 11, {scalar<int64_t>(0), scalar<int64_t>(5), scalar<int64_t>(0)}),
               ErrorKind::invalid_model, "'delta' is 0");
  CHECK_THROWS(infer(make_node("Range"), 11, {scalar<int64_t>(0), scalar<int32_t>(5), scalar<int64_t>(1)}),
               ErrorKind::invalid_model, "same type");
}

void constant_of_shape_and_size() {
  const Tensor a = run(make_node("ConstantOfShape"), 9, {ints({2, 3})});
  CHECK(a.dtype == DType::f32);
  check_values<float>(a, std::vector<float>(6, 0.0f), "default value");
  const Tensor b = run(make_node("ConstantOfShape", {attr_tensor("value", tensor<int64_t>({1}, {-7}))}), 20, {ints({3})});
  check_values<int64_t>(b, {-7, -7, -7}, "int64 value");
  const Tensor c = run(make_node("ConstantOfShape", {attr_tensor("value", tensor<bool>({1}, {true}))}), 20, {ints({})});
  CHECK(c.shape.empty());
  check_values<bool>(c, {true}, "scalar");
  CHECK_THROWS(infer(make_node("ConstantOfShape"), 9, {ints({2, -1})}), ErrorKind::invalid_model, "negative dim -1");
  CHECK_THROWS(infer(make_node("ConstantOfShape", {attr_tensor("value", tensor<float>({2}, {1, 2}))}), 9, {ints({2})}),
               ErrorKind::invalid_model, "one element");

  // Size is known when planning: inference gives its value.
  const inferd::test::Result s = infer(make_node("Size"), 13, {Tensor::allocate(DType::u8, {3, 0, 2})});
  CHECK(s.values[0].dtype == DType::i64 && s.values[0].shape.empty() && s.values[0].data_as<int64_t>()[0] == 0);
  const inferd::test::Result t = infer(make_node("Size"), 1, {Tensor::allocate(DType::f32, {3, 5})});
  CHECK(t.values[0].data_as<int64_t>()[0] == 15);
}

// ---- Trilu and CumSum ----------------------------------------------------------------------------

void trilu_keeps_a_triangle() {
  std::mt19937 rng(9);
  const Tensor x = random_tensor<float>({2, 3, 4}, rng, 1, 9);
  for (int upper = 0; upper <= 1; ++upper)
    for (int64_t k : {-5, -1, 0, 2, 7}) {
      const Tensor y = run(make_node("Trilu", {attr_int("upper", upper)}), 14, {x, scalar<int64_t>(k)});
      std::vector<float> expected;
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t i = 0; i < 3; ++i)
          for (int64_t j = 0; j < 4; ++j) {
            const bool keep = upper ? j - i >= k : j - i <= k;
            expected.push_back(keep ? x.data_as<float>()[(b * 3 + i) * 4 + j] : 0.0f);
          }
      check_values<float>(y, expected, "trilu");
    }
  const Tensor b = tensor<bool>({2, 2}, {true, true, true, true});
  check_values<bool>(run(make_node("Trilu"), 14, {b}), {true, true, false, true}, "triu bool");
  CHECK_THROWS(infer(make_node("Trilu"), 14, {tensor<float>({3}, {1, 2, 3})}), ErrorKind::invalid_model, "rank >= 2");
  CHECK_THROWS(infer(make_node("Trilu"), 14, {x, ints({1, 2})}), ErrorKind::invalid_model, "'k' must be a scalar");
}

void cum_sum_axes_and_modes() {
  const Tensor x = tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  check_values<float>(run(make_node("CumSum"), 11, {x, scalar<int32_t>(0)}), {1, 2, 3, 5, 7, 9}, "axis 0");
  check_values<float>(run(make_node("CumSum", {attr_int("exclusive", 1), attr_int("reverse", 1)}), 14,
                          {x, scalar<int64_t>(-1)}),
                      {5, 3, 0, 11, 6, 0}, "exclusive reverse");
  check_values<float>(run(make_node("CumSum", {attr_int("reverse", 1)}), 14, {x, scalar<int64_t>(0)}),
                      {5, 7, 9, 4, 5, 6}, "reverse axis 0");
  const Tensor i = tensor<int64_t>({4}, {int64_t{1} << 62, int64_t{1} << 62, 1, 2});
  check_values<int64_t>(run(make_node("CumSum", {attr_int("exclusive", 1)}), 14, {i, scalar<int64_t>(0)}),
                        {0, int64_t{1} << 62, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min() + 1},
                        "int64 wraps");
  // Many columns, several threads: the same as one.
  std::mt19937 rng(2);
  const Tensor big = random_tensor<double>({3, 50, 2100}, rng);
  const Tensor one = run(make_node("CumSum"), 14, {big, scalar<int64_t>(1)}, 1);
  const Tensor four = run(make_node("CumSum"), 14, {big, scalar<int64_t>(1)}, 4);
  CHECK(std::memcmp(one.data, four.data, one.nbytes()) == 0);
  CHECK_NEAR(one.data_as<double>()[49 * 2100 + 7],
             [&] { double s = 0; for (int a = 0; a < 50; ++a) s += big.data_as<double>()[a * 2100 + 7]; return s; }(), 1e-9);
  CHECK_THROWS(infer(make_node("CumSum"), 14, {x, scalar<int64_t>(2)}), ErrorKind::invalid_model,
               "input 'axis' 2 is out of range");
  std::vector<Tensor> out = {Tensor::allocate(DType::f32, {2, 3})};
  CHECK_THROWS(run_into(make_node("CumSum"), 14, {x, scalar<int64_t>(-3)}, out), ErrorKind::out_of_range,
               "input 'axis' -3 is out of range for rank 2");
}

// ---- TopK ----------------------------------------------------------------------------------------

void top_k_orders_and_breaks_ties() {
  const Tensor x = tensor<float>({2, 4}, {3, 1, 3, 2, 0, 5, 5, 5});
  // Opset 1: k attribute; largest first, ties to the lower index.
  std::vector<Tensor> a = run_all(make_node("TopK", {attr_int("k", 2)}), 1, {x}, 2);
  check_values<float>(a[0], {3, 3, 5, 5}, "values");
  check_values<int64_t>(a[1], {0, 2, 1, 2}, "indices");
  // Opset 11: smallest, along axis 0 (strided columns), on int32.
  const Tensor xi = tensor<int32_t>({3, 2}, {4, 1, 2, 1, 4, 0});
  std::vector<Tensor> b = run_all(make_node("TopK", {attr_int("axis", 0), attr_int("largest", 0)}), 11, {xi, ints({2})}, 2);
  check_values<int32_t>(b[0], {2, 0, 4, 1}, "smallest values");
  check_values<int64_t>(b[1], {1, 2, 0, 0}, "smallest indices");
  // NaN counts as the largest value; k = 0 gives empty outputs.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<Tensor> c = run_all(make_node("TopK"), 10, {tensor<float>({4}, {1, nan, 7, -2}), ints({2})}, 2);
  CHECK(std::isnan(c[0].data_as<float>()[0]));
  check_values<int64_t>(c[1], {1, 2}, "nan first");
  std::vector<Tensor> d = run_all(make_node("TopK"), 11, {x, ints({0})}, 2);
  CHECK((d[0].shape == Shape{2, 0}));
  // Against a full sort, on several threads.
  std::mt19937 rng(4);
  const Tensor r = random_tensor<int64_t>({37, 19}, rng, -5, 5);
  for (int largest = 0; largest <= 1; ++largest) {
    std::vector<Tensor> y =
        run_all(make_node("TopK", {attr_int("axis", 0), attr_int("largest", largest)}), 11, {r, ints({9})}, 2, 3);
    for (int64_t col = 0; col < 19; ++col) {
      std::vector<std::pair<int64_t, int64_t>> column;
      for (int64_t row = 0; row < 37; ++row) column.push_back({r.data_as<int64_t>()[row * 19 + col], row});
      std::stable_sort(column.begin(), column.end(), [&](const auto& p, const auto& q) {
        return largest ? p.first > q.first : p.first < q.first;
      });
      for (int64_t j = 0; j < 9; ++j) {
        CHECK(y[0].data_as<int64_t>()[j * 19 + col] == column[static_cast<size_t>(j)].first);
        CHECK(y[1].data_as<int64_t>()[j * 19 + col] == column[static_cast<size_t>(j)].second);
      }
    }
  }
  CHECK_THROWS(infer(make_node("TopK"), 11, {x, ints({5})}, 2), ErrorKind::invalid_model, "k = 5 is out of range [0, 4]");
  CHECK_THROWS(infer(make_node("TopK"), 11, {x, ints({1, 2})}, 2), ErrorKind::invalid_model, "one element");
}

// ---- GatherElements and ScatterND ----------------------------------------------------------------

void gather_elements_reads_along_an_axis() {
  const Tensor data = tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor idx = tensor<int32_t>({2, 2}, {2, 0, -1, 1});
  check_values<float>(run(make_node("GatherElements", {attr_int("axis", 1)}), 11, {data, idx}), {3, 1, 6, 5}, "axis 1");
  const Tensor idx0 = tensor<int64_t>({1, 3}, {1, 0, 1});
  check_values<float>(run(make_node("GatherElements"), 13, {data, idx0}), {4, 2, 6}, "axis 0");
  // 3-D, middle axis, against a reference.
  std::mt19937 rng(6);
  const Tensor d3 = random_tensor<int64_t>({3, 5, 4}, rng, -50, 50);
  Tensor i3 = Tensor::allocate(DType::i64, {2, 7, 3});
  for (int64_t n = 0; n < i3.size(); ++n) i3.data_as<int64_t>()[n] = static_cast<int64_t>(rng() % 10) - 5;
  const Tensor y = run(make_node("GatherElements", {attr_int("axis", -2)}), 13, {d3, i3}, 2);
  std::vector<int64_t> expected;
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 7; ++b)
      for (int64_t c = 0; c < 3; ++c) {
        int64_t j = i3.data_as<int64_t>()[(a * 7 + b) * 3 + c];
        if (j < 0) j += 5;
        expected.push_back(d3.data_as<int64_t>()[(a * 5 + j) * 4 + c]);
      }
  check_values<int64_t>(y, expected, "gather elements 3-D");
  CHECK_THROWS(run(make_node("GatherElements"), 13, {data, tensor<int64_t>({1, 1}, {2})}), ErrorKind::runtime,
               "index 2 (indices element 0) is out of range [-2, 1]");
  CHECK_THROWS(infer(make_node("GatherElements", {attr_int("axis", 0)}), 13, {data, tensor<int64_t>({1, 4}, {0, 0, 0, 0})}),
               ErrorKind::invalid_model, "larger than data [2, 3] along axis 1");
  CHECK_THROWS(infer(make_node("GatherElements"), 13, {data, tensor<int64_t>({2}, {0, 0})}), ErrorKind::invalid_model,
               "must have the rank of data");
}

void scatter_nd_updates_and_reduces() {
  const Tensor data = tensor<int64_t>({4}, {1, 2, 3, 4});
  const Tensor idx = tensor<int64_t>({3, 1}, {3, 1, -1});
  const Tensor upd = tensor<int64_t>({3}, {10, 20, 30});
  check_values<int64_t>(run(make_node("ScatterND"), 11, {data, idx, upd}), {1, 20, 3, 30}, "none, in order");
  check_values<int64_t>(run(make_node("ScatterND", {attr_string("reduction", "add")}), 16, {data, idx, upd}),
                        {1, 22, 3, 44}, "add");
  check_values<int64_t>(run(make_node("ScatterND", {attr_string("reduction", "mul")}), 16, {data, idx, upd}),
                        {1, 40, 3, 1200}, "mul");
  check_values<int64_t>(run(make_node("ScatterND", {attr_string("reduction", "min")}), 18, {data, idx, upd}),
                        {1, 2, 3, 4}, "min");
  // Slices of a 3-D tensor, on bool data (moved, not computed).
  Tensor d = Tensor::allocate(DType::boolean, {2, 2, 2});
  const Tensor u = tensor<bool>({1, 2}, {true, true});
  const Tensor y = run(make_node("ScatterND"), 13, {d, tensor<int64_t>({1, 2}, {1, 0}), u});
  check_values<bool>(y, {false, false, false, false, true, true, false, false}, "bool slice");
  CHECK_THROWS(infer(make_node("ScatterND", {attr_string("reduction", "max")}), 16, {data, idx, upd}),
               ErrorKind::invalid_model, "'reduction' is 'max'");
  CHECK_THROWS(infer(make_node("ScatterND", {attr_string("reduction", "add")}), 13, {data, idx, upd}),
               ErrorKind::invalid_model, "'reduction' is 'add'");
  CHECK_THROWS(infer(make_node("ScatterND"), 16, {data, idx, tensor<int64_t>({2}, {1, 2})}), ErrorKind::invalid_model,
               "updates [2] must have shape [3]");
  CHECK_THROWS(run(make_node("ScatterND"), 16, {data, tensor<int64_t>({1, 1}, {4}), tensor<int64_t>({1}, {0})}),
               ErrorKind::runtime, "index 4 (indices tuple 0, entry 0) is out of range [-4, 3]");
}

// ---- Einsum --------------------------------------------------------------------------------------

// A naive einsum over letter-only equations with an explicit output: the sum over every assignment of
// the letters of the product of the inputs' elements.
template <typename T>
std::vector<double> einsum_reference(const std::string& equation, const std::vector<Tensor>& inputs, Shape* shape) {
  const size_t arrow = equation.find("->");
  std::vector<std::string> terms;
  for (size_t begin = 0;;) {
    const size_t comma = equation.find(',', begin);
    terms.push_back(equation.substr(begin, std::min(comma, arrow) - begin));
    if (comma == std::string::npos || comma > arrow) break;
    begin = comma + 1;
  }
  const std::string out = equation.substr(arrow + 2);
  std::map<char, int64_t> dims;
  for (size_t i = 0; i < terms.size(); ++i)
    for (size_t a = 0; a < terms[i].size(); ++a) dims[terms[i][a]] = inputs[i].shape[a];
  std::vector<char> letters;
  for (const auto& [c, d] : dims) letters.push_back(c);
  shape->clear();
  for (char c : out) shape->push_back(dims[c]);
  std::vector<double> result(static_cast<size_t>(shape_size(*shape)), 0.0);
  std::map<char, int64_t> at;
  for (char c : letters) at[c] = 0;
  while (true) {
    double product = 1;
    for (size_t i = 0; i < terms.size(); ++i) {
      int64_t offset = 0;
      for (size_t a = 0; a < terms[i].size(); ++a) offset = offset * inputs[i].shape[a] + at[terms[i][a]];
      product *= static_cast<double>(inputs[i].data_as<T>()[offset]);
    }
    int64_t o = 0;
    for (char c : out) o = o * dims[c] + at[c];
    result[static_cast<size_t>(o)] += product;
    size_t k = letters.size();
    while (k > 0) {
      --k;
      if (++at[letters[k]] < dims[letters[k]]) break;
      at[letters[k]] = 0;
      if (k == 0) return result;
    }
    if (letters.empty()) return result;
  }
}

void einsum_matches_reference() {
  std::mt19937 rng(12);
  struct Case {
    std::string equation;
    std::vector<Shape> shapes;
  };
  const std::vector<Case> cases = {
      {"bij,bjk->bik", {{3, 4, 5}, {3, 5, 6}}},            // batched matmul, in place
      {"bhid,bhjd->bhij", {{2, 3, 7, 8}, {2, 3, 9, 8}}},   // attention scores: B transposed
      {"bhij,bhjd->bhid", {{2, 3, 7, 9}, {2, 3, 9, 8}}},   // attention context
      {"bik,bjk->bij", {{2, 33, 17}, {2, 40, 17}}},
      {"bki,bkj->bij", {{2, 17, 33}, {2, 17, 40}}},        // A transposed
      {"ij,jk->ki", {{5, 6}, {6, 7}}},                     // output permuted
      {"ij->ji", {{4, 6}}},
      {"bij->bji", {{3, 4, 6}}},
      {"ij->i", {{4, 6}}},
      {"ij->j", {{4, 6}}},
      {"ii->i", {{5, 5}}},
      {"iij->j", {{3, 3, 4}}},
      {"i,j->ij", {{5}, {7}}},                             // outer product
      {"i,i->", {{9}}},                                    // (second shape filled in below)
      {"ij,ij->ij", {{3, 4}, {3, 4}}},                     // all batch
      {"ijk,jil->kl", {{2, 3, 4}, {3, 2, 5}}},             // K labels out of order in B
      {"abc,cd->abd", {{2, 3, 4}, {4, 5}}},
      {"ab,cd->abcd", {{2, 3}, {4, 2}}},
      {"ij,jk->ik", {{2, 0}, {0, 3}}},                     // a sum over nothing
      {"ijk,k->ij", {{2, 3, 4}, {4}}},                     // matrix-vector
      {"ab,bc,cd->ad", {{2, 3}, {3, 4}, {4, 2}}},          // three inputs: the reference path
      {"abc,bd->ad", {{2, 3, 4}, {3, 5}}},                 // c summed in A alone
  };
  for (const Case& c0 : cases) {
    Case c = c0;
    if (c.shapes.size() == 1 && c.equation.find(',') != std::string::npos) c.shapes.push_back(c.shapes[0]);
    for (int threads : {1, 4}) {
      std::vector<Tensor> inputs, inputs_d;
      for (const Shape& s : c.shapes) {
        inputs.push_back(random_tensor<float>(s, rng));
        Tensor d = Tensor::allocate(DType::f64, s);
        for (int64_t i = 0; i < d.size(); ++i) d.data_as<double>()[i] = inputs.back().data_as<float>()[i];
        inputs_d.push_back(d);
      }
      Shape expected_shape;
      const std::vector<double> expected = einsum_reference<float>(c.equation, inputs, &expected_shape);
      const Tensor y = run(make_node("Einsum", {attr_string("equation", c.equation)}), 12, inputs, threads);
      const Tensor yd = run(make_node("Einsum", {attr_string("equation", c.equation)}), 12, inputs_d, threads);
      if (y.shape != expected_shape) std::fprintf(stderr, "einsum %s: shape %s\n", c.equation.c_str(), shape_to_string(y.shape).c_str());
      CHECK(y.shape == expected_shape);
      CHECK(yd.shape == expected_shape);
      for (size_t i = 0; i < expected.size() && i < static_cast<size_t>(y.size()); ++i) {
        CHECK_NEAR(y.data_as<float>()[i], expected[i], 1e-4 * (1 + std::fabs(expected[i])));
        CHECK_NEAR(yd.data_as<double>()[i], expected[i], 1e-9 * (1 + std::fabs(expected[i])));
      }
    }
  }
}

void einsum_ellipsis_implicit_and_integers() {
  std::mt19937 rng(13);
  // "..." broadcast: [2, 1, 3, 4] · [5, 4, 6] → [2, 5, 3, 6], the same as with letters and an expand.
  const Tensor a = random_tensor<float>({2, 1, 3, 4}, rng);
  const Tensor b = random_tensor<float>({5, 4, 6}, rng);
  const Tensor y = run(make_node("Einsum", {attr_string("equation", "...ij,...jk->...ik")}), 12, {a, b}, 2);
  CHECK((y.shape == Shape{2, 5, 3, 6}));
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t q = 0; q < 5; ++q)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t k = 0; k < 6; ++k) {
          double s = 0;
          for (int64_t j = 0; j < 4; ++j) s += a.data_as<float>()[(p * 3 + i) * 4 + j] * b.data_as<float>()[(q * 4 + j) * 6 + k];
          CHECK_NEAR(y.data_as<float>()[((p * 5 + q) * 3 + i) * 6 + k], s, 1e-4);
        }
  // Implicit output: letters that occur once, alphabetically ("ba" is a transpose, "ij,jk" a matmul).
  const Tensor m = tensor<int64_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor t = run(make_node("Einsum", {attr_string("equation", "ba")}), 12, {m});
  CHECK((t.shape == Shape{3, 2}));
  check_values<int64_t>(t, {1, 4, 2, 5, 3, 6}, "implicit transpose");
  const Tensor n = tensor<int64_t>({3, 1}, {1, 1, 1});
  check_values<int64_t>(run(make_node("Einsum", {attr_string("equation", "ij, jk")}), 12, {m, n}), {6, 15}, "int64 matmul");
  check_values<int32_t>(run(make_node("Einsum", {attr_string("equation", "ii")}), 12, {tensor<int32_t>({2, 2}, {1, 2, 3, 4})}),
                        {5}, "trace");
  // "..." summed when the output leaves it out.
  check_values<int64_t>(run(make_node("Einsum", {attr_string("equation", "...j->j")}), 12, {m}), {5, 7, 9}, "sum over ...");
}

void einsum_errors() {
  const Tensor m = Tensor::allocate(DType::f32, {2, 3});
  const Tensor v = Tensor::allocate(DType::f32, {4});
  auto node = [](const std::string& eq) { return make_node("Einsum", {attr_string("equation", eq)}); };
  CHECK_THROWS(infer(node("ij,j->i"), 12, {m, v}), ErrorKind::invalid_model, "gives axis 'j' sizes 3 and 4");
  CHECK_THROWS(infer(node("ij->k"), 12, {m}), ErrorKind::invalid_model, "output axis 'k', which no input names");
  CHECK_THROWS(infer(node("i1->i"), 12, {v}), ErrorKind::invalid_model, "only letters and '...'");
  CHECK_THROWS(infer(node("ijk->i"), 12, {m}), ErrorKind::invalid_model, "names 3 axes of input 0");
  CHECK_THROWS(infer(node("ij,jk->ik"), 12, {m}), ErrorKind::invalid_model, "2 input terms for 1 inputs");
  CHECK_THROWS(infer(node("ij->ii"), 12, {m}), ErrorKind::invalid_model, "names output axis 'i' twice");
  CHECK_THROWS(infer(node("......i->i"), 12, {v}), ErrorKind::invalid_model, "two '...'");
  CHECK_THROWS(infer(node("i->i"), 12, {tensor<bool>({1}, {true})}), ErrorKind::unsupported, "input 0 has type bool");
  CHECK_THROWS(infer(node("...i,...i->...i"), 12, {m, Tensor::allocate(DType::f32, {4, 3})}), ErrorKind::invalid_model,
               "do not broadcast");
}

// ---- Registration --------------------------------------------------------------------------------

void every_opset_has_a_schema_and_kernel() {
  const std::pair<const char*, int> ops[] = {
      {"ReduceSum", 1},  {"ReduceMax", 1},      {"ReduceMin", 1}, {"ReduceProd", 1}, {"ReduceL2", 1},
      {"Slice", 1},      {"Split", 1},          {"Expand", 8},    {"Tile", 1},       {"Range", 11},
      {"ConstantOfShape", 9}, {"Size", 1},      {"Trilu", 14},    {"CumSum", 11},    {"TopK", 1},
      {"GatherElements", 11}, {"ScatterND", 11}, {"Einsum", 12}};
  for (const auto& [op, first] : ops)
    for (int opset = first; opset <= 27; ++opset) {
      const bool found = SchemaRegistry::instance().find("", op, opset) != nullptr &&
                         KernelRegistry::instance().find("cpu", "", op, opset) != nullptr;
      if (!found) std::fprintf(stderr, "%s has no schema or kernel at opset %d\n", op, opset);
      CHECK(found);
    }
}

}  // namespace

int main() {
  reductions_match_reference();
  reductions_of_other_types_and_empty_sets();
  reduction_errors();
  slice_matches_reference();
  slice_opsets_and_types();
  slice_errors();
  split_opsets();
  expand_broadcasts_both_ways();
  tile_repeats_every_axis();
  range_counts_like_numpy();
  constant_of_shape_and_size();
  trilu_keeps_a_triangle();
  cum_sum_axes_and_modes();
  top_k_orders_and_breaks_ties();
  gather_elements_reads_along_an_axis();
  scatter_nd_updates_and_reduces();
  einsum_matches_reference();
  einsum_ellipsis_implicit_and_integers();
  einsum_errors();
  every_opset_has_a_schema_and_kernel();
  return test::failures();
}
