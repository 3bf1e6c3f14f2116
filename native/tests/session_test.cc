// Sessions end to end on models built here: results against a reference computed in the test,
// dynamic batch sizes with cached plans, shape arithmetic folded at plan time, initializer-only
// subgraphs folded at load, no heap allocation at an already-planned shape, and clear errors.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>
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
using inferd::TensorRef;
using inferd::test::AttrSpec;
using inferd::test::ModelWriter;

constexpr int kFloat = 1, kInt64 = 7;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::shared_ptr<const Model> load(const ModelWriter& w) {
  const std::string bytes = w.bytes();
  return Model::load_bytes(bytes.data(), bytes.size());
}

TensorRef ref(std::vector<float>& v, const std::vector<int64_t>& dims) {
  return {DType::f32, dims.data(), static_cast<int>(dims.size()), v.data(), v.size() * sizeof(float)};
}

// x[b,4] → Gemm(W1[4,8], b1) → Relu → Gemm(W2ᵀ: transB, [3,8]) → Softmax
struct Mlp {
  std::vector<float> w1 = random_floats(32, 1), b1 = random_floats(8, 2), w2 = random_floats(24, 3),
                     b2 = random_floats(3, 4);
  ModelWriter model() const {
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 4});
    w.output("y", kFloat, {-1, 3});
    w.initializer_f32("w1", {4, 8}, w1);
    w.initializer_f32("b1", {8}, b1);
    w.initializer_f32("w2", {3, 8}, w2);
    w.initializer_f32("b2", {3}, b2);
    w.node("Gemm", {"x", "w1", "b1"}, {"h"});
    w.node("Relu", {"h"}, {"hr"});
    w.node("Gemm", {"hr", "w2", "b2"}, {"logits"}, {AttrSpec::integer("transB", 1)});
    w.node("Softmax", {"logits"}, {"y"}, {AttrSpec::integer("axis", -1)});
    return w;
  }
  std::vector<float> reference(const std::vector<float>& x, int64_t batch) const {
    std::vector<float> y(static_cast<size_t>(batch) * 3);
    for (int64_t b = 0; b < batch; ++b) {
      float h[8], logits[3], max = -INFINITY, sum = 0;
      for (int j = 0; j < 8; ++j) {
        h[j] = b1[j];
        for (int k = 0; k < 4; ++k) h[j] += x[b * 4 + k] * w1[k * 8 + j];
        h[j] = std::max(h[j], 0.f);
      }
      for (int j = 0; j < 3; ++j) {
        logits[j] = b2[j];
        for (int k = 0; k < 8; ++k) logits[j] += h[k] * w2[j * 8 + k];
        max = std::max(max, logits[j]);
      }
      for (int j = 0; j < 3; ++j) sum += std::exp(logits[j] - max);
      for (int j = 0; j < 3; ++j) y[b * 3 + j] = std::exp(logits[j] - max) / sum;
    }
    return y;
  }
};

void mlp_matches_reference_at_several_batch_sizes() {
  Mlp mlp;
  Session session(load(mlp.model()));
  for (int64_t batch : {1, 5, 64, 5}) {
    std::vector<float> x = random_floats(static_cast<size_t>(batch) * 4, 10 + static_cast<uint32_t>(batch));
    std::vector<float> y(static_cast<size_t>(batch) * 3);
    const std::vector<int64_t> xd{batch, 4}, yd{batch, 3};
    const std::vector<inferd::Shape> expected_shapes{{batch, 3}};
    CHECK(session.output_shapes({{batch, 4}}) == expected_shapes);
    TensorRef in = ref(x, xd), out = ref(y, yd);
    session.run(&in, 1, &out, 1);
    const std::vector<float> expected = mlp.reference(x, batch);
    for (size_t i = 0; i < y.size(); ++i) CHECK_NEAR(y[i], expected[i], 1e-5);
  }
  CHECK(session.run_count() == 4);
}

void run_at_planned_shape_allocates_nothing() {
  Mlp mlp;
  Session session(load(mlp.model()));
  std::vector<float> x = random_floats(32 * 4, 9), y(32 * 3);
  const std::vector<int64_t> xd{32, 4}, yd{32, 3};
  TensorRef in = ref(x, xd), out = ref(y, yd);
  session.run(&in, 1, &out, 1);  // plans
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < 10; ++i) session.run(&in, 1, &out, 1);
  CHECK(g_allocations.load() == before);
}

void shape_arithmetic_folds_at_plan_time() {
  // y = Reshape(x, Concat(Shape(x)[0:1], [-1])): flattens [b, 2, 3] to [b, 6] for any b.
  ModelWriter w(15);
  w.input("x", kFloat, {-1, 2, 3});
  w.output("y", kFloat, {-1, 6});
  w.initializer_i64("minus_one", {1}, {-1});
  w.node("Shape", {"x"}, {"batch_dim"}, {AttrSpec::integer("start", 0), AttrSpec::integer("end", 1)});
  w.node("Concat", {"batch_dim", "minus_one"}, {"target"}, {AttrSpec::integer("axis", 0)});
  w.node("Reshape", {"x", "target"}, {"y"});
  Session session(load(w));
  for (int64_t batch : {2, 7}) {
    std::vector<float> x = random_floats(static_cast<size_t>(batch) * 6, 5), y(static_cast<size_t>(batch) * 6);
    const std::vector<int64_t> xd{batch, 2, 3}, yd{batch, 6};
    CHECK(session.output_shapes({xd}) == std::vector<inferd::Shape>{yd});
    TensorRef in = ref(x, xd), out = ref(y, yd);
    session.run(&in, 1, &out, 1);
    CHECK(x == y);
  }
}

void initializer_only_subgraph_folds_at_load() {
  // y = MatMul(x, Transpose(w)): the Transpose of a weight runs once, at load.
  ModelWriter w(13);
  w.input("x", kFloat, {-1, 3});
  w.output("y", kFloat, {-1, 2});
  w.initializer_f32("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  w.node("Transpose", {"w"}, {"wt"});
  w.node("MatMul", {"x", "wt"}, {"y"});
  auto model = load(w);
  CHECK(model->node_count() == 1);
  Session session(model);
  std::vector<float> x{1, 0, -1}, y(2);
  const std::vector<int64_t> xd{1, 3}, yd{1, 2};
  TensorRef in = ref(x, xd), out = ref(y, yd);
  session.run(&in, 1, &out, 1);
  CHECK_NEAR(y[0], -2, 1e-6);
  CHECK_NEAR(y[1], -2, 1e-6);
}

void bad_inputs_get_errors_naming_what_is_wrong() {
  Mlp mlp;
  Session session(load(mlp.model()));
  std::vector<float> x(8), y(6);
  const std::vector<int64_t> good{2, 4}, wrong_dim{2, 5}, wrong_rank{8}, yd{2, 3};
  TensorRef out = ref(y, yd);
  TensorRef in = ref(x, wrong_dim);
  in.byte_length = 40;
  std::vector<float> x10(10);
  in.data = x10.data();
  CHECK_THROWS(session.run(&in, 1, &out, 1), ErrorKind::out_of_range, "input 'x': dimension 1 must be 4, got 5");
  in = ref(x, wrong_rank);
  CHECK_THROWS(session.run(&in, 1, &out, 1), ErrorKind::out_of_range, "input 'x' must have rank 2");
  in = ref(x, good);
  in.byte_length = 12;
  CHECK_THROWS(session.run(&in, 1, &out, 1), ErrorKind::out_of_range, "needs 32 bytes");
  in = ref(x, good);
  in.dtype = DType::f64;
  in.byte_length = 64;
  CHECK_THROWS(session.run(&in, 1, &out, 1), ErrorKind::invalid_argument, "input 'x' must be float, got double");
  in = ref(x, good);
  CHECK_THROWS(session.run(&in, 0, &out, 1), ErrorKind::invalid_argument, "takes 1 inputs, got 0");
  std::vector<float> small(3);
  TensorRef bad_out = ref(small, yd);
  CHECK_THROWS(session.run(&in, 1, &bad_out, 1), ErrorKind::out_of_range, "output 'y' of shape [2, 3] needs 24 bytes");
  // And the session still works afterwards.
  in = ref(x, good);
  session.run(&in, 1, &out, 1);
  CHECK(session.run_count() == 1);
}

void every_unsupported_op_is_reported_at_load() {
  ModelWriter w(13);
  w.input("x", kFloat, {1, 4});
  w.output("y", kFloat, {1, 4});
  w.node("FancyOp", {"x"}, {"a"}, {}, "first_fancy");
  w.node("Relu", {"a"}, {"b"});
  w.node("OtherOp", {"b"}, {"y"}, {}, "second_other");
  CHECK_THROWS(load(w), ErrorKind::unsupported, "FancyOp (opset 13, node 'first_fancy')");
  CHECK_THROWS(load(w), ErrorKind::unsupported, "OtherOp (opset 13, node 'second_other')");
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
  mlp_matches_reference_at_several_batch_sizes();
  run_at_planned_shape_allocates_nothing();
  shape_arithmetic_folds_at_plan_time();
  initializer_only_subgraph_folds_at_load();
  bad_inputs_get_errors_naming_what_is_wrong();
  every_unsupported_op_is_reported_at_load();
  return inferd::test::failures();
}
