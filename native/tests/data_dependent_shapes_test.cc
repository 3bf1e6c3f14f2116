// Models whose shapes follow from computed data: NonZero, If on a computed condition, Loop with a
// trip count and a condition, and a Reshape whose shape is arithmetic on data. The session plans them
// in segments, continues at run time with what it observed, and caches the continuations; a repeat
// run of the same sizes allocates nothing.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "inferd/model.h"
#include "inferd/session.h"
#include "support/check.h"
#include "support/onnx_writer.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

using inferd::DType;
using inferd::ErrorKind;
using inferd::Model;
using inferd::Session;
using inferd::Tensor;
using inferd::TensorRef;
using inferd::test::AttrSpec;
using inferd::test::ModelWriter;

constexpr int kFloat = 1, kInt64 = 7, kBool = 9;

std::shared_ptr<const Model> load(const ModelWriter& w) {
  const std::string bytes = w.bytes();
  return Model::load_bytes(bytes.data(), bytes.size());
}

TensorRef ref(std::vector<float>& v, const std::vector<int64_t>& dims) {
  return {DType::f32, dims.data(), static_cast<int>(dims.size()), v.data(), v.size() * sizeof(float)};
}

std::vector<int64_t> ints(const Tensor& t) {
  return std::vector<int64_t>(t.data_as<int64_t>(), t.data_as<int64_t>() + t.size());
}
std::vector<float> floats(const Tensor& t) {
  return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.size());
}

void non_zero_indices_follow_the_data() {
  ModelWriter w(13);
  w.input("x", kFloat, {2, 3});
  w.output("y", kInt64, {2, -1});
  w.node("NonZero", {"x"}, {"y"});
  Session session(load(w));
  std::vector<int64_t> dims{2, 3};
  std::vector<float> x{0, 1.5f, 0, -2, 0, 3};
  const TensorRef in = ref(x, dims);

  CHECK(session.outputs_depend_on_data(&in, 1));
  CHECK_THROWS(session.output_shapes({dims}), ErrorKind::invalid_argument, "NonZero");
  const std::vector<Tensor>& out = session.run_owned(&in, 1);
  CHECK(out.size() == 1 && out[0].shape == (inferd::Shape{2, 3}));
  CHECK(ints(out[0]) == (std::vector<int64_t>{0, 1, 1, 1, 0, 2}));

  // Fewer non-zeros: a smaller result from the same plan.
  x = {0, 0, 0, 0, 7, 0};
  const std::vector<Tensor>& again = session.run_owned(&in, 1);
  CHECK(again[0].shape == (inferd::Shape{2, 1}) && ints(again[0]) == (std::vector<int64_t>{1, 1}));

  // run() into a caller's buffer of the right size works too; a wrong size is named.
  std::vector<int64_t> result(2);
  std::vector<int64_t> result_dims{2, 1};
  const TensorRef out_ref{DType::i64, result_dims.data(), 2, result.data(), result.size() * 8};
  session.run(&in, 1, &out_ref, 1);
  CHECK(result == (std::vector<int64_t>{1, 1}));
  x = {1, 1, 0, 0, 0, 0};
  CHECK_THROWS(session.run(&in, 1, &out_ref, 1), ErrorKind::out_of_range, "output 'y' has shape [2, 2]");
}

// x → NonZero → Transpose → ReduceSum over the coordinates: the continuation after NonZero is planned
// per observed count and reused.
void continuations_are_cached_per_observed_shape() {
  ModelWriter w(13);
  w.input("x", kFloat, {4});
  w.output("s", kInt64, {-1, 1});
  w.node("NonZero", {"x"}, {"nz"});
  w.node("Transpose", {"nz"}, {"t"});
  w.initializer_i64("axes", {1}, {1});
  w.node("ReduceSum", {"t", "axes"}, {"s"});
  Session session(load(w));
  std::vector<int64_t> dims{4};
  std::vector<float> x{1, 0, 1, 1};
  const TensorRef in = ref(x, dims);
  CHECK(ints(session.run_owned(&in, 1)[0]) == (std::vector<int64_t>{0, 2, 3}));
  x = {0, 5, 0, 0};
  CHECK(ints(session.run_owned(&in, 1)[0]) == (std::vector<int64_t>{1}));
  x = {1, 0, 1, 1};
  CHECK(ints(session.run_owned(&in, 1)[0]) == (std::vector<int64_t>{0, 2, 3}));

  const uint64_t before = g_allocations.load();
  for (int i = 0; i < 10; ++i) session.run_owned(&in, 1);
  CHECK(g_allocations.load() == before);
}

// If on ReduceSum(x) > 0: then x * 2 (shape [3]), else ReduceSum(x) kept as [1]: the output's shape
// follows the branch taken. Both branches read x from the enclosing graph.
void if_runs_the_branch_its_computed_condition_picks() {
  ModelWriter then_branch(13);
  then_branch.output("twice", kFloat, {3});
  then_branch.initializer_f32("two", {}, {2});
  then_branch.node("Mul", {"x", "two"}, {"twice"});
  ModelWriter else_branch(13);
  else_branch.output("total", kFloat, {1});
  else_branch.node("ReduceSum", {"x"}, {"total"});

  ModelWriter w(13);
  w.input("x", kFloat, {3});
  w.output("y", kFloat, {-1});
  w.node("ReduceSum", {"x"}, {"sum"}, {AttrSpec::integer("keepdims", 0)});
  w.initializer_f32("zero", {}, {0});
  w.node("Greater", {"sum", "zero"}, {"positive"});
  w.node("If", {"positive"}, {"y"},
         {AttrSpec::graph("then_branch", then_branch.graph_bytes()), AttrSpec::graph("else_branch", else_branch.graph_bytes())});
  Session session(load(w));
  std::vector<int64_t> dims{3};
  std::vector<float> x{1, 2, 3};
  const TensorRef in = ref(x, dims);
  const std::vector<Tensor>& a = session.run_owned(&in, 1);
  CHECK(a[0].shape == (inferd::Shape{3}) && floats(a[0]) == (std::vector<float>{2, 4, 6}));
  x = {-1, -2, 0.5f};
  const std::vector<Tensor>& b = session.run_owned(&in, 1);
  CHECK(b[0].shape == (inferd::Shape{1}) && floats(b[0]) == (std::vector<float>{-2.5f}));
}

// Loop(M, cond, s0) with body s' = s + x (x from outside), scan output s', and a condition that stops
// once s' reaches a limit: the trip count and the condition both end loops.
void loop_carries_values_and_stacks_scan_outputs() {
  ModelWriter body(13);
  body.input("i", kInt64, {});
  body.input("cond_in", kBool, {});
  body.input("s", kFloat, {2});
  body.output("cond_out", kBool, {});
  body.output("s_next", kFloat, {2});
  body.output("scan", kFloat, {2});
  body.node("Add", {"s", "x"}, {"s_next"});
  body.node("Identity", {"s_next"}, {"scan"});
  body.node("ReduceSum", {"s_next"}, {"total"}, {AttrSpec::integer("keepdims", 0)});
  body.node("Less", {"total", "limit"}, {"cond_out"});

  ModelWriter w(13);
  w.input("m", kInt64, {});
  w.input("x", kFloat, {2});
  w.input("limit", kFloat, {});
  w.output("final", kFloat, {2});
  w.output("stacked", kFloat, {-1, 2});
  w.initializer_f32("s0", {2}, {0, 0});
  w.initializer_i64("unused", {1}, {0});
  w.node("Loop", {"m", "", "s0"}, {"final", "stacked"}, {AttrSpec::graph("body", body.graph_bytes())});
  Session session(load(w));

  int64_t m = 5;
  float limit = 100;
  std::vector<float> x{1, 2};
  std::vector<int64_t> scalar{}, pair{2};
  TensorRef in[3] = {{DType::i64, scalar.data(), 0, &m, 8}, ref(x, pair), {DType::f32, scalar.data(), 0, &limit, 4}};
  const std::vector<Tensor>& out = session.run_owned(in, 3);
  CHECK(out[0].shape == (inferd::Shape{2}) && floats(out[0]) == (std::vector<float>{5, 10}));
  CHECK(out[1].shape == (inferd::Shape{5, 2}));
  CHECK(floats(out[1]) == (std::vector<float>{1, 2, 2, 4, 3, 6, 4, 8, 5, 10}));

  // The condition stops it after 2 iterations (sum 3, then 6 ≥ limit 5).
  limit = 5;
  const std::vector<Tensor>& stopped = session.run_owned(in, 3);
  CHECK(floats(stopped[0]) == (std::vector<float>{2, 4}) && stopped[1].shape == (inferd::Shape{2, 2}));
  // No iteration at all: the carried value is the initial one, the scan output empty.
  m = 0;
  const std::vector<Tensor>& none = session.run_owned(in, 3);
  CHECK(floats(none[0]) == (std::vector<float>{0, 0}) && none[1].shape == (inferd::Shape{0, 2}));

  // Once a trip count has been seen, running it again allocates nothing: the body's plans, the
  // loop's headers and its carried and scan buffers are all kept by the session.
  m = 5;
  limit = 100;
  session.run_owned(in, 3);
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < 5; ++i) session.run_owned(in, 3);
  CHECK(g_allocations.load() == before);
  CHECK(floats(session.run_owned(in, 3)[0]) == (std::vector<float>{5, 10}));
}

// y = Reshape(x, Cast(Abs(dims_f))): the shape is computed from data, so the plan pauses before the
// Reshape and continues keyed by the computed shape's value.
void reshape_fed_by_computed_values_is_planned_at_run_time() {
  ModelWriter w(13);
  w.input("x", kFloat, {6});
  w.input("dims_f", kFloat, {2});
  w.output("y", kFloat, {-1, -1});
  w.node("Abs", {"dims_f"}, {"dims_abs"});
  w.node("Cast", {"dims_abs"}, {"dims"}, {AttrSpec::integer("to", kInt64)});
  w.node("Reshape", {"x", "dims"}, {"y"});
  Session session(load(w));
  std::vector<float> x{1, 2, 3, 4, 5, 6}, d{-2, 3};
  std::vector<int64_t> xd{6}, dd{2};
  TensorRef in[2] = {ref(x, xd), ref(d, dd)};
  CHECK(session.outputs_depend_on_data(in, 2));
  CHECK(session.run_owned(in, 2)[0].shape == (inferd::Shape{2, 3}));
  d = {3, -2};
  const std::vector<Tensor>& out = session.run_owned(in, 2);
  CHECK(out[0].shape == (inferd::Shape{3, 2}) && floats(out[0]) == x);
  d = {4, 2};
  CHECK_THROWS(session.run_owned(in, 2), ErrorKind::invalid_model, "Reshape");
}

void if_with_a_bad_condition_is_an_error_naming_the_node() {
  ModelWriter branch(13);
  branch.output("one", kFloat, {1});
  branch.initializer_f32("one", {1}, {1});
  ModelWriter w(13);
  w.input("c", kFloat, {});
  w.output("y", kFloat, {1});
  w.node("If", {"c"}, {"y"}, {AttrSpec::graph("then_branch", branch.graph_bytes()),
                              AttrSpec::graph("else_branch", branch.graph_bytes())}, "choose");
  std::vector<float> c{1};
  std::vector<int64_t> scalar{};
  const TensorRef in = ref(c, scalar);
  Session session(load(w));
  CHECK_THROWS(session.run_owned(&in, 1), ErrorKind::unsupported, "If node 'choose'");
}

}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

int main() {
  non_zero_indices_follow_the_data();
  continuations_are_cached_per_observed_shape();
  if_runs_the_branch_its_computed_condition_picks();
  loop_carries_values_and_stacks_scan_outputs();
  reshape_fed_by_computed_values_is_planned_at_run_time();
  if_with_a_bad_condition_is_an_error_naming_the_node();
  return inferd::test::failures();
}
