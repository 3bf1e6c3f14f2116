// Load-time graph optimizations: every pass on models built here, each loaded from the same bytes with
// optimizations on and off, run on the same random inputs; the outputs must agree (within 1e-5,
// relative above magnitude 1 and absolute below it) and the node count must drop by what the pass
// removes. Patterns that must not fuse (an intermediate that is a graph output or has another reader)
// must leave the graph alone. Then the internal com.inferd ops on their own against plain references
// (all activations, Gemm's transposes and C shapes, several threads, packed and unpacked B), their
// errors, and Dropout's inference kernel.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/model_impl.h"
#include "core/op_schema.h"
#include "core/thread_pool.h"
#include "inferd/model.h"
#include "inferd/session.h"
#include "support/check.h"
#include "support/onnx_writer.h"

using namespace inferd;
using inferd::test::AttrSpec;
using inferd::test::ModelWriter;

namespace {

constexpr int kFloat = 1, kInt64 = 7, kBool = 9;

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

size_t count(const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  return n;
}

// ---- optimizations on vs off -------------------------------------------------------------------------

struct Input {
  std::string name;
  Shape shape;
};

std::shared_ptr<const Model> load(const std::string& bytes, bool optimize) {
  ModelOptions options;
  options.optimize = optimize;
  return Model::load_bytes(bytes.data(), bytes.size(), options);
}

// "Relu com.inferd.FusedMatMul": the optimized graph's ops, in order.
std::string ops_of(const Model& model) {
  std::string out;
  for (const Node& node : model.impl().graph().nodes)
    out += (out.empty() ? "" : " ") + (node.domain.empty() ? "" : node.domain + ".") + node.op_type;
  return out;
}

bool near(float a, float b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(static_cast<double>(a) - b) <= tol * std::max({1.0, std::fabs(double(a)), std::fabs(double(b))});
}

// Runs the model at `threads` and returns each output's bytes.
std::vector<std::vector<char>> run_model(const std::shared_ptr<const Model>& model, const std::vector<Input>& inputs,
                                         const std::vector<std::vector<float>>& data, int threads) {
  SessionOptions options;
  options.threads = threads;
  Session session(model, options);
  std::vector<Shape> shapes;
  std::vector<TensorRef> refs;
  for (size_t i = 0; i < inputs.size(); ++i) shapes.push_back(inputs[i].shape);
  for (size_t i = 0; i < inputs.size(); ++i)
    refs.push_back({DType::f32, shapes[i].data(), static_cast<int>(shapes[i].size()),
                    const_cast<float*>(data[i].data()), data[i].size() * sizeof(float)});
  const std::vector<Shape> out_shapes = session.output_shapes(shapes);
  std::vector<std::vector<char>> outputs(out_shapes.size());
  std::vector<TensorRef> out_refs;
  for (size_t o = 0; o < out_shapes.size(); ++o) {
    const DType dtype = model->outputs()[o].dtype;
    outputs[o].assign(count(out_shapes[o]) * dtype_size(dtype), 0);
    out_refs.push_back({dtype, out_shapes[o].data(), static_cast<int>(out_shapes[o].size()), outputs[o].data(),
                        outputs[o].size()});
  }
  session.run(refs.data(), refs.size(), out_refs.data(), out_refs.size());
  return outputs;
}

struct Outcome {
  size_t nodes_off = 0, nodes_on = 0;
  std::string ops;  // the optimized graph's ops
};

// Loads `w` with optimizations off and on, runs both on the same random inputs (at 1 and at
// `threads` threads) and checks that every output agrees; returns the node counts.
Outcome compare(const char* what, const ModelWriter& w, const std::vector<Input>& inputs, int threads = 1,
                double tol = 1e-5) {
  const std::string bytes = w.bytes();
  Outcome outcome;
  try {
    const auto off = load(bytes, false), on = load(bytes, true);
    outcome.nodes_off = off->node_count();
    outcome.nodes_on = on->node_count();
    outcome.ops = ops_of(*on);
    CHECK(off->outputs().size() == on->outputs().size());
    for (size_t o = 0; o < off->outputs().size(); ++o) {
      CHECK(off->outputs()[o].name == on->outputs()[o].name);
      CHECK(off->outputs()[o].dtype == on->outputs()[o].dtype);
    }
    std::vector<std::vector<float>> data;
    for (size_t i = 0; i < inputs.size(); ++i)
      data.push_back(random_floats(count(inputs[i].shape), static_cast<uint32_t>(17 + i), -2.f, 2.f));
    const auto expected = run_model(off, inputs, data, 1);
    for (int t : {1, threads}) {
      const auto got = run_model(on, inputs, data, t);
      for (size_t o = 0; o < expected.size(); ++o) {
        const DType dtype = on->outputs()[o].dtype;
        if (dtype != DType::f32) {
          if (got[o] != expected[o]) {
            std::fprintf(stderr, "%s: output %zu differs (threads %d)\n", what, o, t);
            ++inferd::test::failure_count();
          }
          continue;
        }
        const size_t n = expected[o].size() / sizeof(float);
        const float* a = reinterpret_cast<const float*>(expected[o].data());
        const float* b = reinterpret_cast<const float*>(got[o].data());
        for (size_t i = 0; i < n; ++i)
          if (!near(a[i], b[i], tol)) {
            std::fprintf(stderr, "%s: output %zu element %zu: %.9g unoptimized, %.9g optimized (threads %d)\n", what,
                         o, i, a[i], b[i], t);
            ++inferd::test::failure_count();
            break;
          }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", what, e.what());
    ++inferd::test::failure_count();
  }
  return outcome;
}

// compare(), then the node counts and (when given) the optimized ops.
void expect(const char* what, const ModelWriter& w, const std::vector<Input>& inputs, size_t nodes_off,
            size_t nodes_on, const std::string& ops = "", int threads = 2) {
  const Outcome o = compare(what, w, inputs, threads);
  if (o.nodes_off != nodes_off || o.nodes_on != nodes_on || (!ops.empty() && o.ops != ops)) {
    std::fprintf(stderr, "%s: %zu → %zu nodes (%s), expected %zu → %zu (%s)\n", what, o.nodes_off, o.nodes_on,
                 o.ops.c_str(), nodes_off, nodes_on, ops.c_str());
    ++inferd::test::failure_count();
  }
}

bool supported(const char* domain, const char* op, int opset) {
  return SchemaRegistry::instance().find(domain, op, opset) && KernelRegistry::instance().find("cpu", domain, op, opset);
}

// ---- 1. Identity and Dropout --------------------------------------------------------------------------

void identity_and_dropout_are_removed() {
  {  // Identity → Relu → Identity → Identity → y: all three go; Relu writes y itself.
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 5});
    w.output("y", kFloat, {-1, 5});
    w.node("Identity", {"x"}, {"a"});
    w.node("Relu", {"a"}, {"b"});
    w.node("Identity", {"b"}, {"c"});
    w.node("Identity", {"c"}, {"y"});
    expect("identity chain", w, {{"x", {3, 5}}}, 4, 1, "Relu");
  }
  {  // A graph input passed straight to a graph output keeps its Identity (the name must stay).
    ModelWriter w(13);
    w.input("x", kFloat, {2, 3});
    w.output("y", kFloat, {2, 3});
    w.node("Identity", {"x"}, {"y"});
    expect("identity of a graph input", w, {{"x", {2, 3}}}, 1, 1, "Identity");
  }
  {  // An input that is itself a graph output: both names must stay.
    ModelWriter w(13);
    w.input("x", kFloat, {2, 3});
    w.output("h", kFloat, {2, 3});
    w.output("y", kFloat, {2, 3});
    w.node("Relu", {"x"}, {"h"});
    w.node("Identity", {"h"}, {"y"});
    expect("identity between graph outputs", w, {{"x", {2, 3}}}, 2, 2, "Relu Identity");
  }
  {  // Dropout (opset 13: ratio as an input) with no mask.
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 8});
    w.output("y", kFloat, {-1, 8});
    w.initializer_f32("ratio", {}, {0.3f});
    w.node("Dropout", {"x", "ratio"}, {"d"});
    w.node("Tanh", {"d"}, {"y"});
    expect("dropout 13", w, {{"x", {4, 8}}}, 2, 1, "Tanh");
  }
  {  // Dropout-10 whose mask is declared but read by nobody; Dropout-7 writing a graph output.
    ModelWriter w(10);
    w.input("x", kFloat, {-1, 8});
    w.output("y", kFloat, {-1, 8});
    w.node("Dropout", {"x"}, {"d", "unused_mask"}, {AttrSpec::real("ratio", 0.2f)});
    w.node("Sigmoid", {"d"}, {"y"});
    expect("dropout 10, unread mask", w, {{"x", {4, 8}}}, 2, 1, "Sigmoid");
    ModelWriter w7(7);
    w7.input("x", kFloat, {-1, 8});
    w7.output("y", kFloat, {-1, 8});
    w7.node("Relu", {"x"}, {"r"});
    w7.node("Dropout", {"r"}, {"y"});
    expect("dropout 7 into a graph output", w7, {{"x", {4, 8}}}, 2, 1, "Relu");
  }
  {  // A mask somebody reads keeps its Dropout; the mask is all true.
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 8});
    w.output("y", kFloat, {-1, 8});
    w.output("mask", kBool, {-1, 8});
    w.node("Dropout", {"x"}, {"y", "mask"});
    expect("dropout with its mask read", w, {{"x", {4, 8}}}, 1, 1, "Dropout");
    const std::string bytes = w.bytes();
    std::vector<float> x = random_floats(32, 1);
    const auto outputs = run_model(load(bytes, true), {{"x", {4, 8}}}, {x}, 1);
    CHECK(std::memcmp(outputs[0].data(), x.data(), x.size() * sizeof(float)) == 0);
    CHECK(std::all_of(outputs[1].begin(), outputs[1].end(), [](char m) { return m == 1; }));
  }
  {  // training_mode a constant true: kept, and the kernel says it does not train.
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 8});
    w.output("y", kFloat, {-1, 8});
    w.initializer_i64("one", {}, {1});
    w.node("Cast", {"one"}, {"training"}, {AttrSpec::integer("to", kBool)});
    w.node("Dropout", {"x", "", "training"}, {"y"}, {}, "drop");
    const auto model = load(w.bytes(), true);
    CHECK(model->node_count() == 1);
    std::vector<float> x(8, 1.f);
    CHECK_THROWS(run_model(model, {{"x", {1, 8}}}, {x}, 1), ErrorKind::unsupported,
                 "Dropout node 'drop': training mode (random masks, ratio 0.5) is not supported");
  }
}

// ---- 2. Conv + BatchNormalization -----------------------------------------------------------------

// x[N, 4, 9, 9] → Conv(W [M, 4/group, 3, 3], pads 1, bias?) → BatchNormalization(ε) → Relu → y.
ModelWriter conv_bn_model(int opset, int64_t group, bool bias, bool conv_output_read_twice = false) {
  const int64_t M = group == 1 ? 6 : 4, C = 4;
  ModelWriter w(opset);
  w.input("x", kFloat, {-1, C, 9, 9});
  w.output("y", kFloat, {-1, M, 9, 9});
  w.initializer_f32("W", {M, C / group, 3, 3}, random_floats(static_cast<size_t>(M * (C / group) * 9), 1));
  if (bias) w.initializer_f32("b", {M}, random_floats(static_cast<size_t>(M), 2));
  w.initializer_f32("gamma", {M}, random_floats(static_cast<size_t>(M), 3, 0.5f, 2.f));
  w.initializer_f32("beta", {M}, random_floats(static_cast<size_t>(M), 4));
  w.initializer_f32("mean", {M}, random_floats(static_cast<size_t>(M), 5));
  w.initializer_f32("var", {M}, random_floats(static_cast<size_t>(M), 6, 0.1f, 3.f));
  std::vector<std::string> conv_inputs = {"x", "W"};
  if (bias) conv_inputs.push_back("b");
  w.node("Conv", conv_inputs, {"c"},
         {AttrSpec::list("kernel_shape", {3, 3}), AttrSpec::list("pads", {1, 1, 1, 1}), AttrSpec::integer("group", group)});
  w.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"n"}, {AttrSpec::real("epsilon", 1e-3f)});
  if (conv_output_read_twice) {
    w.node("Add", {"n", "c"}, {"s"});
    w.node("Relu", {"s"}, {"y"});
  } else {
    w.node("Relu", {"n"}, {"y"});
  }
  return w;
}

void conv_batch_norm_folds() {
  if (!supported("", "Conv", 13) || !supported("", "BatchNormalization", 13)) {
    std::fprintf(stderr, "skipped: Conv or BatchNormalization has no CPU kernel in this build\n");
    return;
  }
  const std::vector<Input> x = {{"x", {2, 4, 9, 9}}};
  // The folded Conv then takes the Relu too (fuse_conv.cc).
  expect("conv+bn with bias", conv_bn_model(13, 1, true), x, 3, 1, "com.inferd.FusedConv");
  expect("conv+bn without bias", conv_bn_model(13, 1, false), x, 3, 1, "com.inferd.FusedConv");
  expect("depthwise conv+bn, opset 9", conv_bn_model(9, 4, true), x, 3, 1, "com.inferd.FusedConv");
  expect("conv+bn, opset 15", conv_bn_model(15, 2, false), x, 3, 1, "com.inferd.FusedConv");
  expect("conv read by BN and Add: no fold", conv_bn_model(13, 1, true, true), x, 4, 4);
  {  // Two Convs sharing one weight, each with its own BN: each gets its own folded weights.
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 3, 5, 5});
    w.output("y", kFloat, {-1, 2, 3, 3});
    w.initializer_f32("W", {2, 3, 3, 3}, random_floats(54, 7));
    for (const char* s : {"1", "2"}) {
      w.initializer_f32(std::string("g") + s, {2}, random_floats(2, s[0] == '1' ? 8 : 9, 0.5f, 2.f));
      w.initializer_f32(std::string("b") + s, {2}, random_floats(2, s[0] == '1' ? 10 : 11));
      w.initializer_f32(std::string("m") + s, {2}, random_floats(2, s[0] == '1' ? 12 : 13));
      w.initializer_f32(std::string("v") + s, {2}, random_floats(2, s[0] == '1' ? 14 : 15, 0.5f, 2.f));
      w.node("Conv", {"x", "W"}, {std::string("c") + s});
      w.node("BatchNormalization", {std::string("c") + s, std::string("g") + s, std::string("b") + s,
                                    std::string("m") + s, std::string("v") + s},
             {std::string("n") + s});
    }
    w.node("Sub", {"n1", "n2"}, {"y"});
    expect("shared conv weight", w, {{"x", {1, 3, 5, 5}}}, 5, 3, "Conv Conv Sub");
  }
}

// ---- 3. bias and activation into Gemm / MatMul --------------------------------------------------------

// x[dims…, K] → MatMul(W [K, N]) → Add(bias) (when bias_dims is not empty) → activation nodes.
struct ProductModel {
  int opset = 13;
  std::vector<int64_t> x_dims = {-1, 16};
  int64_t N = 24;
  std::vector<int64_t> bias_dims = {24};
  bool bias_first = false;
  std::function<void(ModelWriter&, const std::string&)> activation;  // from the given value to "y"
  ModelWriter build() const {
    ModelWriter w(opset);
    const int64_t K = x_dims.back();
    std::vector<int64_t> y_dims = x_dims;
    y_dims.back() = N;
    w.input("x", kFloat, x_dims);
    w.output("y", kFloat, y_dims);
    w.initializer_f32("W", {K, N}, random_floats(static_cast<size_t>(K * N), 21));
    std::string value = "mm";
    w.node("MatMul", {"x", "W"}, {"mm"}, {}, "fc");
    if (!bias_dims.empty()) {
      w.initializer_f32("bias", bias_dims, random_floats(count(bias_dims), 22));
      w.node("Add", bias_first ? std::vector<std::string>{"bias", "mm"} : std::vector<std::string>{"mm", "bias"},
             {"biased"});
      value = "biased";
    }
    if (activation) activation(w, value);
    else w.node("Identity", {value}, {"y"});
    return w;
  }
};

std::function<void(ModelWriter&, const std::string&)> unary(const std::string& op, std::vector<AttrSpec> attrs = {}) {
  return [op, attrs](ModelWriter& w, const std::string& in) { w.node(op, {in}, {"y"}, attrs); };
}

void bias_and_activation_fuse_into_products() {
  {
    ProductModel m;
    m.activation = unary("Relu");
    expect("matmul+bias+relu", m.build(), {{"x", {5, 16}}}, 3, 1, "com.inferd.FusedMatMul");
    m.activation = nullptr;
    expect("matmul+bias", m.build(), {{"x", {5, 16}}}, 3, 1, "com.inferd.FusedMatMul");
    m.bias_dims = {};
    m.activation = unary("Sigmoid");
    expect("matmul+sigmoid", m.build(), {{"x", {5, 16}}}, 2, 1, "com.inferd.FusedMatMul");
  }
  {  // Batched A (3-D), bias first, Gelu of opset 20 in both its forms.
    ProductModel m;
    m.opset = 20;
    m.x_dims = {-1, 7, 16};
    m.bias_first = true;
    m.activation = unary("Gelu");
    expect("3-D matmul+bias+gelu", m.build(), {{"x", {3, 7, 16}}}, 3, 1, "com.inferd.FusedMatMul");
    m.activation = unary("Gelu", {AttrSpec::text("approximate", "tanh")});
    expect("3-D matmul+bias+gelu tanh", m.build(), {{"x", {3, 7, 16}}}, 3, 1, "com.inferd.FusedMatMul");
  }
  {  // A 1-D A; a one-element bias; Tanh; LeakyRelu.
    ProductModel m;
    m.x_dims = {16};
    m.bias_dims = {1};
    m.activation = unary("Tanh");
    expect("1-D matmul+scalar bias+tanh", m.build(), {{"x", {16}}}, 3, 1, "com.inferd.FusedMatMul");
    m.x_dims = {-1, 16};
    m.activation = unary("LeakyRelu", {AttrSpec::real("alpha", 0.2f)});
    expect("matmul+leaky relu", m.build(), {{"x", {6, 16}}}, 3, 1, "com.inferd.FusedMatMul");
  }
  {  // Clip: bounds as inputs (opset 13, one omitted) and as attributes (opset 9).
    ProductModel m;
    m.activation = [](ModelWriter& w, const std::string& in) {
      w.initializer_f32("lo", {}, {-0.25f});
      w.node("Clip", {in, "lo"}, {"y"});
    };
    expect("matmul+clip 13", m.build(), {{"x", {5, 16}}}, 3, 1, "com.inferd.FusedMatMul");
    m.opset = 9;
    m.activation = unary("Clip", {AttrSpec::real("min", 0.f), AttrSpec::real("max", 0.5f)});
    expect("matmul+clip 9", m.build(), {{"x", {5, 16}}}, 3, 1, "com.inferd.FusedMatMul");
  }
  {  // Large enough for row blocks over several threads (B small: blocked) and for a whole product
     // then a pass (B large).
    ProductModel m;
    m.x_dims = {-1, 64};
    m.N = 96;
    m.bias_dims = {96};
    m.activation = unary("Relu");
    expect("row blocks", m.build(), {{"x", {301, 64}}}, 3, 1, "com.inferd.FusedMatMul");
    m.x_dims = {-1, 512};
    m.N = 600;
    m.bias_dims = {600};
    expect("large B", m.build(), {{"x", {70, 512}}}, 3, 1, "com.inferd.FusedMatMul");
  }
  {  // Not fused: the product (or the biased value) is read twice or is a graph output.
    ProductModel m;
    m.activation = [](ModelWriter& w, const std::string& in) {
      w.node("Relu", {in}, {"r"});
      w.node("Add", {"r", in}, {"y"});
    };
    expect("biased value read twice", m.build(), {{"x", {5, 16}}}, 4, 3, "com.inferd.FusedMatMul Relu Add");
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 16});
    w.output("mm", kFloat, {-1, 24});
    w.output("y", kFloat, {-1, 24});
    w.initializer_f32("W", {16, 24}, random_floats(16 * 24, 21));
    w.initializer_f32("bias", {24}, random_floats(24, 22));
    w.node("MatMul", {"x", "W"}, {"mm"});
    w.node("Add", {"mm", "bias"}, {"y"});
    expect("product is a graph output", w, {{"x", {5, 16}}}, 2, 2, "MatMul Add");
  }
  {  // MatMul by a computed matrix is left alone (FusedMatMul needs a known 2-D B).
    ModelWriter w(13);
    w.input("x", kFloat, {4, 16});
    w.input("w", kFloat, {16, 8});
    w.output("y", kFloat, {4, 8});
    w.node("MatMul", {"x", "w"}, {"mm"});
    w.node("Relu", {"mm"}, {"y"});
    expect("matmul by an input", w, {{"x", {4, 16}}, {"w", {16, 8}}}, 2, 2, "MatMul Relu");
  }
  {  // Gemm → activation, with transposes, alpha/beta and each shape of C.
    for (int variant = 0; variant < 4; ++variant) {
      ModelWriter w(13);
      const bool trans_a = variant & 1, trans_b = variant & 2;
      w.input("a", kFloat, trans_a ? std::vector<int64_t>{16, 6} : std::vector<int64_t>{6, 16});
      w.output("y", kFloat, {6, 10});
      w.initializer_f32("B", trans_b ? std::vector<int64_t>{10, 16} : std::vector<int64_t>{16, 10},
                        random_floats(160, 31));
      const std::vector<std::vector<int64_t>> c_shapes = {{10}, {6, 1}, {6, 10}, {1, 10}};
      const std::vector<int64_t>& c_shape = c_shapes[static_cast<size_t>(variant)];
      w.initializer_f32("C", c_shape, random_floats(count(c_shape), 32));
      w.node("Gemm", {"a", "B", "C"}, {"g"},
             {AttrSpec::integer("transA", trans_a), AttrSpec::integer("transB", trans_b), AttrSpec::real("alpha", 0.7f),
              AttrSpec::real("beta", variant == 3 ? 0.f : 1.3f)});
      w.node(variant == 2 ? "Tanh" : "Relu", {"g"}, {"y"});
      expect("gemm+activation", w, {{"a", trans_a ? Shape{16, 6} : Shape{6, 16}}}, 2, 1, "com.inferd.FusedGemm");
    }
    // Gemm by a computed B, no C (opset 11+), declared float.
    ModelWriter w(11);
    w.input("a", kFloat, {-1, 12});
    w.input("b", kFloat, {12, 9});
    w.output("y", kFloat, {-1, 9});
    w.node("Gemm", {"a", "b"}, {"g"});
    w.node("Sigmoid", {"g"}, {"y"});
    expect("gemm of inputs+sigmoid", w, {{"a", {40, 12}}, {"b", {12, 9}}}, 2, 1, "com.inferd.FusedGemm");
  }
}

// x [..., 16] → MatMul(W [16, 24]) → Add(bias) (optional) → Add(residual) → `after` (from "s" to "y"), the
// residual a second input "r" (or x itself, when r_dims is empty and N == 16).
struct ResidualModel {
  int opset = 17;
  std::vector<int64_t> x_dims = {-1, 7, 16}, r_dims = {-1, 7, 24}, y_dims = {-1, 7, 24};
  int64_t N = 24;
  bool bias = true, residual_first = false;
  std::function<void(ModelWriter&)> after;  // reads "s", writes "y" (and anything else it likes)
  ModelWriter build() const {
    ModelWriter w(opset);
    const int64_t K = x_dims.back();
    w.input("x", kFloat, x_dims);
    if (!r_dims.empty()) w.input("r", kFloat, r_dims);
    w.output("y", kFloat, y_dims);
    w.initializer_f32("W", {K, N}, random_floats(static_cast<size_t>(K * N), 21));
    w.node("MatMul", {"x", "W"}, {"mm"}, {}, "fc");
    std::string product = "mm";
    if (bias) {
      w.initializer_f32("bias", {N}, random_floats(static_cast<size_t>(N), 22));
      w.node("Add", {"mm", "bias"}, {"biased"});
      product = "biased";
    }
    const std::string r = r_dims.empty() ? "x" : "r";
    w.node("Add", residual_first ? std::vector<std::string>{r, product} : std::vector<std::string>{product, r}, {"s"});
    if (after) after(w);
    else w.node("Identity", {"s"}, {"y"});
    return w;
  }
};

void residual_adds_fuse_into_products() {
  const auto layer_norm = [](ModelWriter& w) {
    w.initializer_f32("gamma", {24}, random_floats(24, 23, 0.5f, 1.5f));
    w.initializer_f32("beta", {24}, random_floats(24, 24));
    w.node("LayerNormalization", {"s", "gamma", "beta"}, {"y"}, {AttrSpec::integer("axis", -1)});
  };
  {  // BERT's skip connection: MatMul → Add bias → Add residual → LayerNormalization.
    ResidualModel m;
    m.after = layer_norm;
    expect("bert residual", m.build(), {{"x", {3, 7, 16}}, {"r", {3, 7, 24}}}, 4, 2,
           "com.inferd.FusedMatMul LayerNormalization");
    m.residual_first = true;
    expect("bert residual, residual first", m.build(), {{"x", {3, 7, 16}}, {"r", {3, 7, 24}}}, 4, 2,
           "com.inferd.FusedMatMul LayerNormalization");
    // The residual is the product's own input (x · W + x).
    m.N = 16;
    m.r_dims = {};
    m.y_dims = {-1, 7, 16};
    m.after = [](ModelWriter& w) { w.node("Relu", {"s"}, {"y"}); };
    expect("x·W + b + x, relu", m.build(), {{"x", {3, 7, 16}}}, 4, 1, "com.inferd.FusedMatMul");
  }
  {  // Without a bias, then with an activation after the residual; large enough for several threads.
    ResidualModel m;
    m.bias = false;
    m.x_dims = {-1, 16};
    m.r_dims = {-1, 24};
    m.y_dims = {-1, 24};
    expect("matmul + residual", m.build(), {{"x", {301, 16}}, {"r", {301, 24}}}, 3, 1, "com.inferd.FusedMatMul");
    m.bias = true;
    m.after = [](ModelWriter& w) { w.node("Gelu", {"s"}, {"y"}); };
    m.opset = 20;
    expect("matmul + bias + residual + gelu", m.build(), {{"x", {301, 16}}, {"r", {301, 24}}}, 4, 1,
           "com.inferd.FusedMatMul");
  }
  {  // Residuals that broadcast: the shapes are only known when the model runs, so the rule fuses and
     // the kernel must broadcast as the Add did, whether the residual fits in the product or enlarges it.
    ResidualModel m;
    m.after = [](ModelWriter& w) { w.node("Relu", {"s"}, {"y"}); };
    m.r_dims = {-1};
    expect("residual [N]", m.build(), {{"x", {3, 7, 16}}, {"r", {24}}}, 4, 1, "com.inferd.FusedMatMul");
    m.r_dims = {-1, -1, 1};
    expect("residual [B, S, 1]", m.build(), {{"x", {3, 7, 16}}, {"r", {3, 7, 1}}}, 4, 1, "com.inferd.FusedMatMul");
    m.r_dims = {-1, -1, -1, -1};
    m.y_dims = {-1, -1, 7, 24};
    expect("residual enlarging the result", m.build(), {{"x", {3, 7, 16}}, {"r", {2, 3, 7, 24}}}, 4, 1,
           "com.inferd.FusedMatMul");
    m.x_dims = {-1, -1, 16};
    m.y_dims = {-1, -1, -1, 24};
    expect("both broadcast", m.build(), {{"x", {3, 1, 16}}, {"r", {2, 1, 5, 1}}}, 4, 1, "com.inferd.FusedMatMul");
  }
  {  // Gemm → Add residual → activation, with and without C.
    for (bool with_c : {true, false}) {
      ModelWriter w(13);
      w.input("a", kFloat, {-1, 16});
      w.input("r", kFloat, {-1, 10});
      w.output("y", kFloat, {-1, 10});
      w.initializer_f32("B", {10, 16}, random_floats(160, 31));
      w.initializer_f32("C", {10}, random_floats(10, 32));
      w.node("Gemm", with_c ? std::vector<std::string>{"a", "B", "C"} : std::vector<std::string>{"a", "B"}, {"g"},
             {AttrSpec::integer("transB", 1), AttrSpec::real("alpha", 0.5f)});
      w.node("Add", {"r", "g"}, {"s"});
      w.node("Tanh", {"s"}, {"y"});
      expect(with_c ? "gemm + residual + tanh" : "gemm without C + residual + tanh", w,
             {{"a", {6, 16}}, {"r", {6, 10}}}, 3, 1, "com.inferd.FusedGemm");
    }
  }
  {  // Not fused: the biased value read twice, or a graph output; a constant second Add; x + x.
    ResidualModel m;
    m.x_dims = {-1, 16};
    m.r_dims = {-1, 24};
    m.y_dims = {-1, 24};
    m.after = [](ModelWriter& w) {
      w.node("Relu", {"biased"}, {"t"});
      w.node("Add", {"s", "t"}, {"y"});
    };
    expect("biased value read twice", m.build(), {{"x", {5, 16}}, {"r", {5, 24}}}, 5, 4,
           "com.inferd.FusedMatMul Add Relu Add");
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 16});
    w.input("r", kFloat, {-1, 24});
    w.output("biased", kFloat, {-1, 24});
    w.output("y", kFloat, {-1, 24});
    w.initializer_f32("W", {16, 24}, random_floats(16 * 24, 21));
    w.initializer_f32("bias", {24}, random_floats(24, 22));
    w.initializer_f32("more", {24}, random_floats(24, 23));
    w.node("MatMul", {"x", "W"}, {"mm"});
    w.node("Add", {"mm", "bias"}, {"biased"});
    w.node("Add", {"biased", "r"}, {"y"});
    expect("biased value is a graph output", w, {{"x", {5, 16}}, {"r", {5, 24}}}, 3, 2, "com.inferd.FusedMatMul Add");
    ModelWriter c(13);
    c.input("x", kFloat, {-1, 16});
    c.output("y", kFloat, {-1, 24});
    c.initializer_f32("W", {16, 24}, random_floats(16 * 24, 21));
    c.initializer_f32("bias", {24}, random_floats(24, 22));
    c.initializer_f32("more", {24}, random_floats(24, 23));
    c.node("MatMul", {"x", "W"}, {"mm"});
    c.node("Add", {"mm", "bias"}, {"biased"});
    c.node("Add", {"biased", "more"}, {"y"});
    expect("second constant add", c, {{"x", {5, 16}}}, 3, 2, "com.inferd.FusedMatMul Add");
    ModelWriter d(13);
    d.input("x", kFloat, {-1, 16});
    d.output("y", kFloat, {-1, 24});
    d.initializer_f32("W", {16, 24}, random_floats(16 * 24, 21));
    d.node("MatMul", {"x", "W"}, {"mm"});
    d.node("Add", {"mm", "mm"}, {"y"});
    expect("product added to itself", d, {{"x", {5, 16}}}, 2, 2, "MatMul Add");
  }
}

// ---- 4. LayerNorm and GELU patterns -----------------------------------------------------------------

struct LayerNormModel {
  int opset = 13;
  bool mul_self = false;     // d·d instead of Pow(d, 2)
  bool swapped = false;      // γ·n and β + … instead of n·γ and … + β
  bool affine = true;        // with γ and β
  std::vector<int64_t> axes = {-1};
  std::vector<int64_t> gamma_dims = {32};
  ModelWriter build() const {
    ModelWriter w(opset);
    w.input("x", kFloat, {-1, 7, 32});
    w.output("y", kFloat, {-1, 7, 32});
    w.initializer_f32("eps", {}, {1e-5f});
    w.initializer_f32("two", {}, {2.f});
    w.initializer_f32("gamma", gamma_dims, random_floats(count(gamma_dims), 41, 0.5f, 1.5f));
    w.initializer_f32("beta", gamma_dims, random_floats(count(gamma_dims), 42));
    auto reduce = [&](const std::string& in, const std::string& out) {
      if (opset >= 18) {
        w.initializer_i64(out + "_axes", {static_cast<int64_t>(axes.size())}, axes);
        w.node("ReduceMean", {in, out + "_axes"}, {out});
      } else {
        w.node("ReduceMean", {in}, {out}, {AttrSpec::list("axes", axes)});
      }
    };
    reduce("x", "mean");
    w.node("Sub", {"x", "mean"}, {"d"});
    if (mul_self) w.node("Mul", {"d", "d"}, {"sq"});
    else w.node("Pow", {"d", "two"}, {"sq"});
    reduce("sq", "var");
    w.node("Add", {"var", "eps"}, {"ve"});
    w.node("Sqrt", {"ve"}, {"s"});
    w.node("Div", {"d", "s"}, affine ? std::vector<std::string>{"n"} : std::vector<std::string>{"y"});
    if (affine) {
      w.node("Mul", swapped ? std::vector<std::string>{"gamma", "n"} : std::vector<std::string>{"n", "gamma"}, {"g"});
      w.node("Add", swapped ? std::vector<std::string>{"beta", "g"} : std::vector<std::string>{"g", "beta"}, {"y"});
    }
    return w;
  }
};

void layer_norm_pattern_fuses() {
  const std::vector<Input> x = {{"x", {3, 7, 32}}};
  LayerNormModel m;
  expect("layer norm 13 (com.inferd)", m.build(), x, 9, 1, "com.inferd.LayerNormalization");
  m.opset = 17;
  m.mul_self = true;
  m.swapped = true;
  expect("layer norm 17, d·d, swapped", m.build(), x, 9, 1, "LayerNormalization");
  m.opset = 18;
  expect("layer norm 18 (axes as input)", m.build(), x, 9, 1, "LayerNormalization");
  m.affine = false;
  expect("layer norm without γ, β", m.build(), x, 7, 1, "LayerNormalization");
  m.affine = true;
  m.axes = {-2, -1};
  m.gamma_dims = {7, 32};
  expect("layer norm over two axes", m.build(), x, 9, 1, "LayerNormalization");
  m.axes = {2};  // positive: x's declared rank 3 makes it the last axis
  m.gamma_dims = {32};
  expect("layer norm, positive axis", m.build(), x, 9, 1, "LayerNormalization");
  m.axes = {1};  // not the trailing axis: stays
  m.gamma_dims = {1};
  expect("mean over a middle axis", m.build(), x, 9, 9);
}

enum class GeluForm { erf_div, erf_mul_half_first, erf_half_times_a, tanh_pow, tanh_mul };

// x → the decomposed GELU → y, optionally with "erf" (or "th") also a graph output.
ModelWriter gelu_model(int opset, GeluForm form, bool inner_is_output = false) {
  ModelWriter w(opset);
  w.input("x", kFloat, {-1, 10});
  w.output("y", kFloat, {-1, 10});
  if (inner_is_output) w.output("inner", kFloat, {-1, 10});
  w.initializer_f32("half", {}, {0.5f});
  w.initializer_f32("one", {1}, {1.0f});
  std::string a;
  if (form == GeluForm::tanh_pow || form == GeluForm::tanh_mul) {
    w.initializer_f32("c", {}, {0.044715f});
    w.initializer_f32("k", {}, {0.7978845608f});
    if (form == GeluForm::tanh_pow) {
      w.initializer_f32("three", {}, {3.f});
      w.node("Pow", {"x", "three"}, {"cube"});
    } else {
      w.node("Mul", {"x", "x"}, {"sq"});
      w.node("Mul", {"x", "sq"}, {"cube"});
    }
    w.node("Mul", {"c", "cube"}, {"cc"});
    w.node("Add", {"x", "cc"}, {"s"});
    w.node("Mul", {"s", "k"}, {"t"});
    w.node("Tanh", {"t"}, {"inner"});
  } else {
    w.initializer_f32("sqrt2", {}, {1.4142135f});
    w.initializer_f32("rsqrt2", {}, {0.70710677f});
    if (form == GeluForm::erf_div) w.node("Div", {"x", "sqrt2"}, {"d"});
    else w.node("Mul", {"rsqrt2", "x"}, {"d"});
    w.node("Erf", {"d"}, {"inner"});
  }
  w.node("Add", {"one", "inner"}, {"a"});
  switch (form) {
    case GeluForm::erf_mul_half_first:  // (x·½)·a
      w.node("Mul", {"half", "x"}, {"hx"});
      w.node("Mul", {"hx", "a"}, {"y"});
      break;
    case GeluForm::erf_half_times_a:  // x·(a·½)
      w.node("Mul", {"a", "half"}, {"ha"});
      w.node("Mul", {"x", "ha"}, {"y"});
      break;
    default:  // (x·a)·½
      w.node("Mul", {"x", "a"}, {"xa"});
      w.node("Mul", {"xa", "half"}, {"y"});
  }
  return w;
}

void gelu_patterns_fuse() {
  const std::vector<Input> x = {{"x", {6, 10}}};
  expect("gelu erf/√2, opset 13", gelu_model(13, GeluForm::erf_div), x, 5, 1, "com.inferd.Gelu");
  expect("gelu erf·1/√2, (x·½)·a, opset 20", gelu_model(20, GeluForm::erf_mul_half_first), x, 5, 1, "Gelu");
  expect("gelu erf, x·(a·½)", gelu_model(13, GeluForm::erf_half_times_a), x, 5, 1, "com.inferd.Gelu");
  expect("gelu tanh, Pow", gelu_model(13, GeluForm::tanh_pow), x, 8, 1, "com.inferd.Gelu");
  expect("gelu tanh, x·x·x, opset 20", gelu_model(20, GeluForm::tanh_mul), x, 9, 1, "Gelu");
  expect("gelu with Erf's output read outside", gelu_model(13, GeluForm::erf_div, true), x, 5, 5);
  {  // A transformer FFN: MatMul → Add → GELU → MatMul → Add becomes two FusedMatMuls.
    ModelWriter w(14);
    w.input("x", kFloat, {-1, -1, 16});
    w.output("y", kFloat, {-1, -1, 8});
    w.initializer_f32("W1", {16, 32}, random_floats(512, 51));
    w.initializer_f32("b1", {32}, random_floats(32, 52));
    w.initializer_f32("W2", {32, 8}, random_floats(256, 53));
    w.initializer_f32("b2", {8}, random_floats(8, 54));
    w.initializer_f32("sqrt2", {}, {1.41421356f});
    w.initializer_f32("one", {}, {1.f});
    w.initializer_f32("half", {}, {0.5f});
    w.node("MatMul", {"x", "W1"}, {"h0"});
    w.node("Add", {"b1", "h0"}, {"h"});
    w.node("Div", {"h", "sqrt2"}, {"hd"});
    w.node("Erf", {"hd"}, {"he"});
    w.node("Add", {"he", "one"}, {"ha"});
    w.node("Mul", {"h", "ha"}, {"hm"});
    w.node("Mul", {"hm", "half"}, {"g"});
    w.node("MatMul", {"g", "W2"}, {"o"});
    w.node("Add", {"o", "b2"}, {"y"});
    expect("ffn", w, {{"x", {2, 5, 16}}}, 9, 2, "com.inferd.FusedMatMul com.inferd.FusedMatMul");
    const auto model = load(w.bytes(), true);
    const Node& first = model->impl().graph().nodes[0];
    CHECK(first.attributes.get_string("activation", "") == "Gelu");
  }
}

// ---- 5. HardSwish --------------------------------------------------------------------------------------

enum class HardSwishForm { mul_then_div, mul_then_mul_sixth, div_then_mul, hard_sigmoid };

// s = 4·x0 (so that x + 3 falls on both sides of Clip's bounds for inputs in ±2), then HardSwish(s)
// in the given form, into y. `leak` makes the named intermediate a graph output too.
ModelWriter hard_swish_model(int opset, HardSwishForm form, bool swap = false, const std::string& leak = "",
                             float hi = 6.f, float alpha = 1.f / 6) {
  ModelWriter w(opset);
  w.input("x0", kFloat, {-1, 10});
  w.output("y", kFloat, {-1, 10});
  if (!leak.empty()) w.output(leak, kFloat, {-1, 10});
  w.initializer_f32("four", {}, {4.f});
  w.node("Mul", {"x0", "four"}, {"x"});
  if (form == HardSwishForm::hard_sigmoid) {
    w.node("HardSigmoid", {"x"}, {"h"}, {AttrSpec::real("alpha", alpha), AttrSpec::real("beta", 0.5f)});
    w.node("Mul", swap ? std::vector<std::string>{"h", "x"} : std::vector<std::string>{"x", "h"}, {"y"});
    return w;
  }
  w.initializer_f32("three", {1}, {3.f});
  w.node("Add", swap ? std::vector<std::string>{"three", "x"} : std::vector<std::string>{"x", "three"}, {"a"});
  if (opset < 11) {
    w.node("Clip", {"a"}, {"c"}, {AttrSpec::real("min", 0.f), AttrSpec::real("max", hi)});
  } else {
    w.initializer_f32("zero", {}, {0.f});
    w.initializer_f32("six_bound", {}, {hi});
    w.node("Clip", {"a", "zero", "six_bound"}, {"c"});
  }
  w.initializer_f32("six", {}, {6.f});
  w.initializer_f32("sixth", {1}, {1.f / 6});
  const auto pair = [swap](const std::string& a, const std::string& b) {
    return swap ? std::vector<std::string>{b, a} : std::vector<std::string>{a, b};
  };
  switch (form) {
    case HardSwishForm::mul_then_div:
      w.node("Mul", pair("x", "c"), {"m"});
      w.node("Div", {"m", "six"}, {"y"});
      break;
    case HardSwishForm::mul_then_mul_sixth:
      w.node("Mul", pair("c", "x"), {"m"});
      w.node("Mul", pair("m", "sixth"), {"y"});
      break;
    case HardSwishForm::div_then_mul:
      w.node("Div", {"c", "six"}, {"m"});
      w.node("Mul", pair("x", "m"), {"y"});
      break;
    default: break;
  }
  return w;
}

void hard_swish_patterns_fuse() {
  const std::vector<Input> x = {{"x0", {7, 10}}};
  expect("hardswish (x·c)/6, Clip attributes, opset 9", hard_swish_model(9, HardSwishForm::mul_then_div), x, 5, 2,
         "Mul com.inferd.HardSwish");
  expect("hardswish (c·x)·⅙ swapped, opset 13", hard_swish_model(13, HardSwishForm::mul_then_mul_sixth, true), x, 5,
         2, "Mul com.inferd.HardSwish");
  expect("hardswish x·(c/6), opset 14", hard_swish_model(14, HardSwishForm::div_then_mul), x, 5, 2, "Mul HardSwish");
  expect("hardswish (x·c)/6 swapped, opset 11", hard_swish_model(11, HardSwishForm::mul_then_div, true), x, 5, 2,
         "Mul com.inferd.HardSwish");
  expect("x·HardSigmoid(x, ⅙, ½), opset 14", hard_swish_model(14, HardSwishForm::hard_sigmoid), x, 3, 2,
         "Mul HardSwish");
  expect("HardSigmoid(x)·x, opset 9", hard_swish_model(9, HardSwishForm::hard_sigmoid, true), x, 3, 2,
         "Mul com.inferd.HardSwish");
  // Not HardSwish, or not only read by the pattern: left alone.
  expect("x·HardSigmoid(x, 0.2, ½) (Paddle's squeeze-excite gate)",
         hard_swish_model(9, HardSwishForm::hard_sigmoid, false, "", 6.f, 0.2f), x, 3, 3);
  expect("Clip to [0, 5]", hard_swish_model(13, HardSwishForm::mul_then_div, false, "", 5.f), x, 5, 5);
  expect("Clip output is a graph output", hard_swish_model(9, HardSwishForm::mul_then_div, false, "c"), x, 5, 5);
  expect("Add output is a graph output", hard_swish_model(13, HardSwishForm::div_then_mul, false, "a"), x, 5, 5);
  expect("product is a graph output", hard_swish_model(9, HardSwishForm::mul_then_div, false, "m"), x, 5, 5);
  {  // The Clip output read twice.
    ModelWriter w = hard_swish_model(9, HardSwishForm::mul_then_div);
    w.output("z", kFloat, {-1, 10});
    w.node("Neg", {"c"}, {"z"});
    expect("Clip output read twice", w, x, 6, 6);
  }
}

// ---- 6. residual and activation into Conv --------------------------------------------------------------

// x [N, 8, H, W] → Conv 3×3 (8 → 8, pads 1, bias) → Add(·, z) (z "x" itself unless given) → act → y.
struct ConvModel {
  int opset = 13;
  std::vector<int64_t> x_dims = {-1, 8, 6, 7};
  bool add = true, z_first = false;
  std::string z = "x";  // the Add's other operand: "x", or an input of its own declared with z_dims
  std::vector<int64_t> z_dims;
  std::function<void(ModelWriter&, const std::string&)> activation;
  std::vector<std::string> leak;  // intermediates that are graph outputs too
  ModelWriter build() const {
    ModelWriter w(opset);
    w.input("x", kFloat, x_dims);
    if (z != "x") w.input(z, kFloat, z_dims);
    w.output("y", kFloat, x_dims);
    for (const std::string& v : leak) w.output(v, kFloat, x_dims);
    w.initializer_f32("W", {8, 8, 3, 3}, random_floats(576, 61, -0.3f, 0.3f));
    w.initializer_f32("B", {8}, random_floats(8, 62));
    w.node("Conv", {"x", "W", "B"}, {"c"}, {AttrSpec::list("pads", {1, 1, 1, 1})}, "conv");
    std::string value = "c";
    if (add) {
      w.node("Add", z_first ? std::vector<std::string>{z, "c"} : std::vector<std::string>{"c", z}, {"s"});
      value = "s";
    }
    if (activation) activation(w, value);
    else w.node("Identity", {value}, {"y"});
    return w;
  }
};

void residual_and_activation_fuse_into_conv() {
  const std::vector<Input> x = {{"x", {2, 8, 6, 7}}};
  const std::string fused = "com.inferd.FusedConv";
  {
    ConvModel m;
    m.activation = unary("Relu");
    expect("conv + identity residual + relu", m.build(), x, 3, 1, fused);
    const auto model = load(m.build().bytes(), true);
    const Node& node = model->impl().graph().nodes[0];
    CHECK(node.attributes.get_string("activation", "") == "Relu");
    CHECK(node.inputs.size() == 4 && model->impl().graph().value(node.inputs[3]).name == "x");
    CHECK(node.attributes.get_ints("pads", {}) == (std::vector<int64_t>{1, 1, 1, 1}));
    CHECK(node.name == "conv");
    m.z_first = true;
    expect("conv + residual first + relu", m.build(), x, 3, 1, fused);
    m.activation = nullptr;
    expect("conv + residual, no activation (the Identity is removed first)", m.build(), x, 3, 1, fused);
  }
  const std::pair<const char*, std::function<void(ModelWriter&, const std::string&)>> activations[] = {
      {"LeakyRelu", unary("LeakyRelu", {AttrSpec::real("alpha", 0.2f)})},
      {"Sigmoid", unary("Sigmoid")},
      {"Tanh", unary("Tanh")},
      {"HardSigmoid", unary("HardSigmoid", {AttrSpec::real("alpha", 0.2f), AttrSpec::real("beta", 0.5f)})},
      {"HardSwish", unary("HardSwish")},
      {"Clip", [](ModelWriter& w, const std::string& in) {
         w.initializer_f32("lo", {}, {-0.5f});
         w.initializer_f32("hi", {1}, {0.75f});
         w.node("Clip", {in, "lo", "hi"}, {"y"});
       }}};
  for (const auto& [name, act] : activations) {
    ConvModel m;
    m.opset = 14;
    m.add = false;
    m.activation = act;
    expect((std::string("conv + ") + name).c_str(), m.build(), x, 2, 1, fused);
    m.add = true;
    expect((std::string("conv + residual + ") + name).c_str(), m.build(), x, 3, 1, fused);
  }
  {  // Clip with attribute bounds (opset 6), and a decomposed HardSwish (opset 9) after the conv.
    ConvModel m;
    m.opset = 6;
    m.activation = unary("Clip", {AttrSpec::real("min", 0.f), AttrSpec::real("max", 6.f)});
    expect("conv + residual + Clip-6", m.build(), x, 3, 1, fused);
    m.opset = 9;
    m.activation = [](ModelWriter& w, const std::string& in) {
      w.initializer_f32("three", {}, {3.f});
      w.initializer_f32("six", {}, {6.f});
      w.node("Add", {in, "three"}, {"a"});
      w.node("Clip", {"a"}, {"cl"}, {AttrSpec::real("min", 0.f), AttrSpec::real("max", 6.f)});
      w.node("Mul", {in, "cl"}, {"m"});
      w.node("Div", {"m", "six"}, {"y"});
    };
    expect("conv + residual + decomposed HardSwish", m.build(), x, 6, 1, fused);
  }
  {  // Fully dynamic dims: the residual's shape is proved by following the names through the convs.
    ConvModel m;
    m.x_dims = {-1, 8, -1, -1};
    m.activation = unary("Relu");
    expect("dynamic spatial dims", m.build(), {{"x", {1, 8, 5, 9}}}, 3, 1, fused);
  }
  {  // Values read elsewhere or graph outputs are not absorbed.
    ConvModel m;
    m.activation = unary("Relu");
    m.leak = {"c"};
    expect("conv output is a graph output", m.build(), x, 3, 3);
    m.leak = {"s"};
    expect("residual sum is a graph output: the Add fuses, the Relu stays", m.build(), x, 3, 2, fused + " Relu");
    ModelWriter w = ConvModel{}.build();
    w.output("n", kFloat, {-1, 8, 6, 7});
    w.node("Neg", {"c"}, {"n"});
    expect("conv output read twice", w, x, 4, 3, "Conv Add Neg");
  }
  {  // An Add that broadcasts (a per-channel input) is no residual: nothing fuses past it.
    ConvModel m;
    m.z = "z";
    m.z_dims = {1, 8, 1, 1};
    m.activation = unary("Relu");
    expect("broadcast Add", m.build(), {{"x", {2, 8, 6, 7}}, {"z", {1, 8, 1, 1}}}, 3, 3, "Conv Add Relu");
  }
  {  // A residual whose shape the load cannot know (Transpose has no shape rule): left as an Add.
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 8, 6, 7});
    w.input("t", kFloat, {-1, 6, 8, 7});
    w.output("y", kFloat, {-1, 8, 6, 7});
    w.initializer_f32("W", {8, 8, 3, 3}, random_floats(576, 63, -0.3f, 0.3f));
    w.node("Transpose", {"t"}, {"z"}, {AttrSpec::list("perm", {0, 2, 1, 3})});
    w.node("Conv", {"x", "W"}, {"c"}, {AttrSpec::list("pads", {1, 1, 1, 1})});
    w.node("Add", {"c", "z"}, {"s"});
    w.node("Relu", {"s"}, {"y"});
    expect("residual of unknown shape", w, {{"x", {2, 8, 6, 7}}, {"t", {2, 6, 8, 7}}}, 4, 4);
  }
  {  // A ResNet downsampling block with dynamic batch and spatial dims: main path Conv 3×3 stride 2 →
     // Relu → Conv 3×3, shortcut Conv 1×1 stride 2, Add, Relu. Both paths' dims are the same
     // expression of the input's, so the Add and the Relu fuse into the second conv.
    ModelWriter w(13);
    w.input("x", kFloat, {-1, 4, -1, -1});
    w.output("y", kFloat, {-1, 8, -1, -1});
    w.initializer_f32("W1", {8, 4, 3, 3}, random_floats(288, 64, -0.4f, 0.4f));
    w.initializer_f32("W2", {8, 8, 3, 3}, random_floats(576, 65, -0.3f, 0.3f));
    w.initializer_f32("Ws", {8, 4, 1, 1}, random_floats(32, 66));
    w.node("Conv", {"x", "W1"}, {"c1"}, {AttrSpec::list("pads", {1, 1, 1, 1}), AttrSpec::list("strides", {2, 2})});
    w.node("Relu", {"c1"}, {"r1"});
    w.node("Conv", {"r1", "W2"}, {"c2"}, {AttrSpec::list("pads", {1, 1, 1, 1})});
    w.node("Conv", {"x", "Ws"}, {"sc"}, {AttrSpec::list("strides", {2, 2})});
    w.node("Add", {"c2", "sc"}, {"s"});
    w.node("Relu", {"s"}, {"y"});
    expect("downsampling block", w, {{"x", {2, 4, 9, 10}}}, 6, 3, fused + " Conv " + fused);
  }
}

// ---- 7. scales into weights ------------------------------------------------------------------------

// Two-head attention scores: q = x·Wq + bq and k = x·Wk + bk, each reshaped to heads and transposed
// (k to Kᵀ), then q·kᵀ and a scale. Options vary the scale and what else reads the values.
struct ScoresModel {
  std::string scale_op = "Div";
  bool scale_first = false;                        // Mul(c, s) rather than Mul(s, c); Div(c, s)
  std::vector<int64_t> c_dims = {};                // the constant's shape (a scalar by default)
  float c = 2.0f;
  bool q_shape_reader = true;                      // Shape(q) also reads q (exporters' Reshape targets)
  bool q_output = false;                           // q is also a graph output
  bool q_relu = false;                             // q = Relu(x·Wq + bq)
  bool k_weights_input = false;                    // Wk is a graph input: k's product has no constant weights

  ModelWriter build() const {
    ModelWriter w(17);
    w.input("x", kFloat, {-1, 5, 8});
    if (k_weights_input) w.input("Wk", kFloat, {8, 8});
    w.output("y", kFloat, {-1, 2, 5, 5});
    if (q_output) w.output("q", kFloat, {-1, 5, 8});
    if (q_shape_reader) w.output("q_shape", kInt64, {3});
    w.initializer_f32("Wq", {8, 8}, random_floats(64, 71));
    w.initializer_f32("bq", {8}, random_floats(8, 72));
    if (!k_weights_input) w.initializer_f32("Wk", {8, 8}, random_floats(64, 73));
    w.initializer_f32("bk", {8}, random_floats(8, 74));
    w.initializer_i64("heads", {4}, {-1, 5, 2, 4});
    std::vector<float> c_values(static_cast<size_t>(count(c_dims)), c);
    if (c_values.size() > 1) c_values[1] = 3.0f;
    w.initializer_f32("c", c_dims, c_values);
    w.node("MatMul", {"x", "Wq"}, {"qm"});
    w.node("Add", {"qm", "bq"}, {q_relu ? "qb" : "q"});
    if (q_relu) w.node("Relu", {"qb"}, {"q"});
    if (q_shape_reader) w.node("Shape", {"q"}, {"q_shape"});
    w.node("Reshape", {"q", "heads"}, {"q4"});
    w.node("Transpose", {"q4"}, {"qh"}, {AttrSpec::list("perm", {0, 2, 1, 3})});
    w.node("MatMul", {"x", "Wk"}, {"km"});
    w.node("Add", {"km", "bk"}, {"k"});
    w.node("Reshape", {"k", "heads"}, {"k4"});
    w.node("Transpose", {"k4"}, {"kt"}, {AttrSpec::list("perm", {0, 2, 3, 1})});
    w.node("MatMul", {"qh", "kt"}, {"s"});
    w.node(scale_op, scale_first ? std::vector<std::string>{"c", "s"} : std::vector<std::string>{"s", "c"}, {"y"});
    return w;
  }
};

void scales_fold_into_weights() {
  const std::vector<Input> x = {{"x", {3, 5, 8}}}, xw = {{"x", {3, 5, 8}}, {"Wk", {8, 8}}};
  {
    ScoresModel m;
    expect("scores / 2", m.build(), x, 11, 8,
           "com.inferd.FusedMatMul com.inferd.FusedMatMul Shape Reshape Reshape Transpose Transpose MatMul");
    m.c = 0.125f;
    m.scale_op = "Mul";
    m.scale_first = true;
    expect("0.125 * scores", m.build(), x, 11, 8,
           "com.inferd.FusedMatMul com.inferd.FusedMatMul Shape Reshape Reshape Transpose Transpose MatMul");
    m.c = 3.0f;  // not a power of two: the result differs by rounding only
    m.scale_op = "Div";
    m.scale_first = false;
    m.c_dims = {1};
    expect("scores / [3]", m.build(), x, 11, 8,
           "com.inferd.FusedMatMul com.inferd.FusedMatMul Shape Reshape Reshape Transpose Transpose MatMul");
  }
  {  // q's values read by a graph output: the k side takes the scale instead.
    ScoresModel m;
    m.q_output = true;
    expect("q also an output", m.build(), x, 11, 8,
           "com.inferd.FusedMatMul com.inferd.FusedMatMul Shape Reshape Reshape Transpose Transpose MatMul");
    m.k_weights_input = true;  // … and k's weights are not constant: nothing to fold into
    expect("q an output, Wk computed", m.build(), xw, 11, 10,
           "com.inferd.FusedMatMul MatMul Shape Reshape Add Transpose Reshape Transpose MatMul Div");
  }
  {  // Not folded: a constant of two values, c / scores, an activation on q with k's weights computed.
    ScoresModel m;
    m.c_dims = {2, 1, 1};
    expect("scores / [2,1,1]", m.build(), x, 11, 9,
           "com.inferd.FusedMatMul com.inferd.FusedMatMul Shape Reshape Reshape Transpose Transpose MatMul Div");
    m.c_dims = {};
    m.scale_first = true;
    expect("2 / scores", m.build(), x, 11, 9,
           "com.inferd.FusedMatMul com.inferd.FusedMatMul Shape Reshape Reshape Transpose Transpose MatMul Div");
    m.scale_first = false;
    m.q_relu = true;
    m.k_weights_input = true;
    expect("relu(q), Wk computed", m.build(), xw, 12, 10,
           "com.inferd.FusedMatMul MatMul Shape Reshape Add Transpose Reshape Transpose MatMul Div");
  }
}

// ---- the internal ops on their own ---------------------------------------------------------------

Attribute attr_int(const std::string& name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::i;
  a.i = v;
  return a;
}
Attribute attr_float(const std::string& name, float v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::f;
  a.f = v;
  return a;
}
Attribute attr_string(const std::string& name, const std::string& v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::s;
  a.s = v;
  return a;
}

Node make_node(const std::string& domain, const std::string& op, std::vector<Attribute> attributes = {}) {
  Node node;
  node.domain = domain;
  node.op_type = op;
  node.name = "n";
  node.attributes.set_owner(node.label());
  for (Attribute& a : attributes) node.attributes.add(std::move(a));
  return node;
}

Tensor float_tensor(Shape shape, uint32_t seed) {
  Tensor t = Tensor::allocate(DType::f32, std::move(shape));
  const std::vector<float> v = random_floats(static_cast<size_t>(t.size()), seed, -2.f, 2.f);
  std::copy(v.begin(), v.end(), t.data_as<float>());
  return t;
}

// Infers the output, then runs the CPU kernel (made with the inputs flagged in `constant` as
// constants, so that B gets packed) on a pool of `threads`.
Tensor run_op(const Node& node, int opset, const std::vector<const Tensor*>& inputs, int threads = 1,
              std::vector<bool> constant = {}) {
  const OpSchema* schema = SchemaRegistry::instance().find(node.domain, node.op_type, opset);
  if (!schema) fail(ErrorKind::unsupported, "no schema for ", node.op_type);
  std::vector<DType> dtypes;
  std::vector<const Shape*> shapes;
  std::vector<const Tensor*> values(inputs.size(), nullptr);
  for (const Tensor* in : inputs) {
    dtypes.push_back(in ? in->dtype : DType::undefined);
    shapes.push_back(in ? &in->shape : nullptr);
  }
  DType dtype = DType::undefined;
  Shape shape;
  Tensor value;
  ShapeContext ctx(node, opset, dtypes.data(), shapes.data(), values.data(), inputs.size(), &dtype, &shape, &value, 1);
  schema->infer(ctx);
  KernelInit init{node, opset, {}};
  for (size_t i = 0; i < inputs.size(); ++i) init.constant_inputs.push_back(i < constant.size() && constant[i] ? inputs[i] : nullptr);
  const KernelDef* def = KernelRegistry::instance().find("cpu", node.domain, node.op_type, opset);
  if (!def) fail(ErrorKind::unsupported, "no kernel for ", node.op_type);
  std::unique_ptr<Kernel> kernel = def->make(init);
  Tensor out = Tensor::allocate(dtype, shape);
  Tensor* outs[1] = {&out};
  ThreadPool pool(threads);
  KernelContext kc;
  kc.inputs = inputs.data();
  kc.input_count = inputs.size();
  kc.outputs = outs;
  kc.output_count = 1;
  kc.threads = &pool;
  kernel->run(kc);
  return out;
}

double reference_activation(const std::string& act, double x) {
  if (act == "Relu") return x < 0 ? 0 : x;
  if (act == "LeakyRelu") return x < 0 ? 0.1 * x : x;
  if (act == "Sigmoid") return 1 / (1 + std::exp(-x));
  if (act == "Tanh") return std::tanh(x);
  if (act == "Gelu") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (act == "GeluTanh") return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  if (act == "Clip") return std::min(0.5, std::max(-0.5, x));
  return x;
}

std::vector<Attribute> activation_attributes(const std::string& act) {
  if (act == "LeakyRelu") return {attr_string("activation", act), attr_float("activation_alpha", 0.1f)};
  if (act == "GeluTanh") return {attr_string("activation", "Gelu"), attr_string("activation_approximate", "tanh")};
  if (act == "Clip")
    return {attr_string("activation", act), attr_float("activation_alpha", -0.5f), attr_float("activation_beta", 0.5f)};
  return {attr_string("activation", act)};
}

void check_close(const char* what, const Tensor& got, const std::vector<double>& want, double tol = 2e-5) {
  CHECK(static_cast<size_t>(got.size()) == want.size());
  for (size_t i = 0; i < want.size() && i < static_cast<size_t>(got.size()); ++i)
    if (!(std::fabs(got.data_as<float>()[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i])))) {
      std::fprintf(stderr, "%s: element %zu is %.9g, expected %.9g\n", what, i, got.data_as<float>()[i], want[i]);
      ++inferd::test::failure_count();
      return;
    }
}

void fused_gemm_matches_reference() {
  const char* activations[] = {"", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu", "GeluTanh", "Clip"};
  const std::vector<Shape> c_shapes = {{}, {1}, {23}, {37, 1}, {1, 23}, {37, 23}};
  const int64_t M = 37, N = 23, K = 19;
  int variant = 0;
  for (const char* act : activations)
    for (const Shape& c_shape : c_shapes) {
      ++variant;
      const bool trans_a = variant % 2, trans_b = variant % 3 == 0, with_c = variant % 7 != 0;
      const float alpha = 0.75f, beta = variant % 5 == 0 ? 0.f : 1.25f;
      std::vector<Attribute> attrs = activation_attributes(act);
      attrs.push_back(attr_int("transA", trans_a));
      attrs.push_back(attr_int("transB", trans_b));
      attrs.push_back(attr_float("alpha", alpha));
      attrs.push_back(attr_float("beta", beta));
      const Node node = make_node("com.inferd", "FusedGemm", attrs);
      const Tensor a = float_tensor(trans_a ? Shape{K, M} : Shape{M, K}, 1), b = float_tensor(trans_b ? Shape{N, K} : Shape{K, N}, 2);
      const Tensor c = float_tensor(c_shape, 3);
      std::vector<double> want(static_cast<size_t>(M * N));
      const int64_t c_rows = c_shape.size() == 2 ? c_shape[0] : 1, c_cols = c_shape.empty() ? 1 : c_shape.back();
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double sum = 0;
          for (int64_t k = 0; k < K; ++k)
            sum += double(a.data_as<float>()[trans_a ? k * M + i : i * K + k]) * b.data_as<float>()[trans_b ? j * K + k : k * N + j];
          double v = alpha * sum;
          if (with_c && beta != 0)
            v += beta * c.data_as<float>()[(c_rows == 1 ? 0 : i * c_cols) + (c_cols == 1 ? 0 : j)];
          want[static_cast<size_t>(i * N + j)] = reference_activation(act, v);
        }
      for (int threads : {1, 3})
        for (bool packed : {false, true}) {
          const std::vector<const Tensor*> inputs = with_c ? std::vector<const Tensor*>{&a, &b, &c}
                                                           : std::vector<const Tensor*>{&a, &b};
          const Tensor y = run_op(node, 13, inputs, threads, {false, packed, false});
          check_close((std::string("FusedGemm ") + act).c_str(), y, want);
        }
    }
}

void fused_matmul_matches_reference() {
  for (const char* act : {"", "Relu", "Gelu"})
    for (const Shape& a_shape : std::vector<Shape>{{40}, {3, 40}, {2, 70, 40}, {2, 1, 3, 40}}) {
      const int64_t K = 40, N = 33, rows = shape_size(a_shape) / K;
      const Tensor a = float_tensor(a_shape, 5), b = float_tensor({K, N}, 6), bias = float_tensor({N}, 7);
      std::vector<double> want(static_cast<size_t>(rows * N));
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double sum = bias.data_as<float>()[j];
          for (int64_t k = 0; k < K; ++k) sum += double(a.data_as<float>()[i * K + k]) * b.data_as<float>()[k * N + j];
          want[static_cast<size_t>(i * N + j)] = reference_activation(act, sum);
        }
      const Node node = make_node("com.inferd", "FusedMatMul", activation_attributes(act));
      for (int threads : {1, 2}) {
        const Tensor y = run_op(node, 11, {&a, &b, &bias}, threads, {false, true, true});
        Shape expected_shape = a_shape;
        expected_shape.back() = N;
        CHECK(y.shape == expected_shape);
        check_close((std::string("FusedMatMul ") + act).c_str(), y, want);
      }
    }
}

void internal_ops_check_their_inputs() {
  const Tensor a = float_tensor({4, 8}, 1), b = float_tensor({8, 5}, 2), b3 = float_tensor({2, 8, 5}, 3);
  const Tensor bad_bias = float_tensor({4}, 4), bias2d = float_tensor({1, 5}, 5);
  CHECK_THROWS(run_op(make_node("com.inferd", "FusedMatMul", {attr_string("activation", "Swish")}), 13, {&a, &b}),
               ErrorKind::invalid_model,
               "FusedMatMul node 'n': attribute 'activation' is \"Swish\"; expected \"\" (none), Relu");
  CHECK_THROWS(run_op(make_node("com.inferd", "FusedGemm",
                                {attr_string("activation", "Gelu"), attr_string("activation_approximate", "erf")}),
                      13, {&a, &b}),
               ErrorKind::invalid_model, "attribute 'activation_approximate' must be \"none\" or \"tanh\"");
  CHECK_THROWS(run_op(make_node("com.inferd", "FusedMatMul"), 13, {&a, &b3}), ErrorKind::invalid_model,
               "FusedMatMul node 'n': input B must be 2-D, got shape [2, 8, 5]");
  CHECK_THROWS(run_op(make_node("com.inferd", "FusedMatMul"), 13, {&a, &b, &bad_bias}), ErrorKind::invalid_model,
               "input bias of shape [4] must be [5] (B's columns) or [1]");
  CHECK_THROWS(run_op(make_node("com.inferd", "FusedMatMul"), 13, {&a, &b, &bias2d}), ErrorKind::invalid_model,
               "input bias of shape [1, 5]");
  CHECK_THROWS(run_op(make_node("com.inferd", "FusedGemm"), 13, {&a, &a}), ErrorKind::invalid_model,
               "FusedGemm node 'n': op(A) is 4x8 but op(B) is 4x8");
  Tensor a64 = Tensor::allocate(DType::f64, {4, 8}), b64 = Tensor::allocate(DType::f64, {8, 5});
  CHECK_THROWS(run_op(make_node("com.inferd", "FusedGemm"), 13, {&a64, &b64}), ErrorKind::unsupported,
               "input 0 has type double; supported: float");
}

// com.inferd Gelu and LayerNormalization are the ai.onnx ops for older opsets.
void onnx_ops_are_available_to_older_opsets() {
  const Tensor x = float_tensor({3, 16}, 9), scale = float_tensor({16}, 10), bias = float_tensor({16}, 11);
  for (const char* approximate : {"none", "tanh"}) {
    const Tensor mine = run_op(make_node("com.inferd", "Gelu", {attr_string("approximate", approximate)}), 9, {&x});
    const Tensor onnx = run_op(make_node("", "Gelu", {attr_string("approximate", approximate)}), 20, {&x});
    CHECK(std::memcmp(mine.data, onnx.data, mine.nbytes()) == 0);
  }
  const std::vector<Attribute> ln = {attr_int("axis", -1), attr_float("epsilon", 1e-3f)};
  const Tensor mine = run_op(make_node("com.inferd", "LayerNormalization", ln), 11, {&x, &scale, &bias});
  const Tensor onnx = run_op(make_node("", "LayerNormalization", ln), 17, {&x, &scale, &bias});
  CHECK(std::memcmp(mine.data, onnx.data, mine.nbytes()) == 0);
  CHECK(!SchemaRegistry::instance().find("", "Gelu", 19));
}

void dropout_is_the_identity_at_inference() {
  const Tensor x = float_tensor({2, 9}, 12);
  for (int opset : {6, 7, 10, 12, 13, 22}) {
    const Tensor y = run_op(make_node("", "Dropout", {attr_float("ratio", 0.4f)}), opset, {&x});
    CHECK(std::memcmp(y.data, x.data, x.nbytes()) == 0);
  }
  Tensor ratio = Tensor::allocate(DType::f32, {});
  *ratio.data_as<float>() = 0.0f;
  Tensor training = Tensor::allocate(DType::boolean, {});
  *training.data_as<bool>() = true;
  // Training with ratio 0 keeps everything, so it is computable.
  const Tensor y = run_op(make_node("", "Dropout"), 13, {&x, &ratio, &training});
  CHECK(std::memcmp(y.data, x.data, x.nbytes()) == 0);
  *ratio.data_as<float>() = 0.1f;
  CHECK_THROWS(run_op(make_node("", "Dropout"), 13, {&x, &ratio, &training}), ErrorKind::unsupported,
               "Dropout node 'n': training mode (random masks, ratio 0.1) is not supported");
  const Tensor bad_ratio = float_tensor({2}, 1);
  CHECK_THROWS(run_op(make_node("", "Dropout"), 13, {&x, &bad_ratio}), ErrorKind::invalid_model,
               "input 'ratio' must be a scalar, got shape [2]");
  CHECK_THROWS(run_op(make_node("", "Dropout", {attr_float("ratio", 1.5f)}), 9, {&x}), ErrorKind::invalid_model,
               "attribute 'ratio' must be in [0, 1), got 1.5");
}

}  // namespace

int main() {
  identity_and_dropout_are_removed();
  conv_batch_norm_folds();
  bias_and_activation_fuse_into_products();
  residual_adds_fuse_into_products();
  layer_norm_pattern_fuses();
  gelu_patterns_fuse();
  hard_swish_patterns_fuse();
  residual_and_activation_fuse_into_conv();
  scales_fold_into_weights();
  fused_gemm_matches_reference();
  fused_matmul_matches_reference();
  internal_ops_check_their_inputs();
  onnx_ops_are_available_to_older_opsets();
  dropout_is_the_identity_at_inference();
  return inferd::test::failures();
}
