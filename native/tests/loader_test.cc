// The ONNX loader: every conformance model and tensor file loads; hand-built models load with the
// right values, constants, order and declared types; malformed input of every kind (truncations,
// corruptions, random bytes, hostile sizes and paths) is refused with inferd::Error and nothing else.
//
// Exit status: 0 pass, 1 fail, 77 skip (the conformance directory is missing and CI is not set).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/onnx_loader.h"
#include "inferd/error.h"

namespace fs = std::filesystem;
using namespace inferd;

namespace {

int failures = 0;

#define EXPECT(cond)                                                                 \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
      ++failures;                                                                    \
    }                                                                                \
  } while (0)

// ---------------------------------------------------------------------------------------------
// A tiny protobuf encoder, enough to write ONNX messages field by field.

struct Proto {
  std::string bytes;

  void put_varint(uint64_t v) {
    while (v >= 0x80) {
      bytes.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    bytes.push_back(static_cast<char>(v));
  }
  void key(uint32_t field, uint32_t wire) { put_varint(uint64_t{field} << 3 | wire); }
  Proto& varint(uint32_t field, uint64_t v) { key(field, 0); put_varint(v); return *this; }
  Proto& fixed32(uint32_t field, uint32_t v) {
    key(field, 5);
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  Proto& real(uint32_t field, float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return fixed32(field, bits);
  }
  Proto& str(uint32_t field, const std::string& s) {
    key(field, 2);
    put_varint(s.size());
    bytes += s;
    return *this;
  }
  Proto& msg(uint32_t field, const Proto& m) { return str(field, m.bytes); }
  Proto& packed_varints(uint32_t field, const std::vector<int64_t>& values) {
    Proto payload;
    for (int64_t v : values) payload.put_varint(static_cast<uint64_t>(v));
    return str(field, payload.bytes);
  }
  Proto& packed_floats(uint32_t field, const std::vector<float>& values) {
    std::string payload(values.size() * 4, '\0');
    if (!values.empty()) std::memcpy(&payload[0], values.data(), payload.size());
    return str(field, payload);
  }
  Proto& packed_doubles(uint32_t field, const std::vector<double>& values) {
    std::string payload(values.size() * 8, '\0');
    if (!values.empty()) std::memcpy(&payload[0], values.data(), payload.size());
    return str(field, payload);
  }
};

template <typename T> std::string raw_of(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(&out[0], values.data(), out.size());
  return out;
}

// TensorProto with dims and data_type; the caller adds the data fields.
Proto tensor_header(const std::string& name, int type, const std::vector<int64_t>& dims) {
  Proto t;
  for (int64_t d : dims) t.varint(1, static_cast<uint64_t>(d));
  t.varint(2, static_cast<uint64_t>(type));
  if (!name.empty()) t.str(8, name);
  return t;
}

Proto raw_tensor(const std::string& name, int type, const std::vector<int64_t>& dims, const std::string& raw) {
  Proto t = tensor_header(name, type, dims);
  return t.str(9, raw);
}

// ValueInfoProto of a tensor; a dim below 0 is written as dim_param "d<i>".
Proto value_info(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
  Proto shape;
  for (size_t i = 0; i < dims.size(); ++i) {
    Proto dim;
    if (dims[i] >= 0) dim.varint(1, static_cast<uint64_t>(dims[i]));
    else dim.str(2, "d" + std::to_string(i));
    shape.msg(1, dim);
  }
  Proto tensor_type;
  tensor_type.varint(1, static_cast<uint64_t>(elem_type)).msg(2, shape);
  Proto type;
  type.msg(1, tensor_type);
  Proto v;
  return v.str(1, name).msg(2, type);
}

Proto node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
           const std::string& name, const std::vector<Proto>& attributes = {}) {
  Proto n;
  for (const auto& i : inputs) n.str(1, i);
  for (const auto& o : outputs) n.str(2, o);
  if (!name.empty()) n.str(3, name);
  n.str(4, op);
  for (const Proto& a : attributes) n.msg(5, a);
  return n;
}

Proto attr_ints(const std::string& name, const std::vector<int64_t>& values) {
  Proto a;
  return a.str(1, name).packed_varints(8, values).varint(20, 7);
}
Proto attr_float(const std::string& name, float f) {
  Proto a;
  return a.str(1, name).real(2, f).varint(20, 1);
}
Proto attr_tensor(const std::string& name, const Proto& tensor) {
  Proto a;
  return a.str(1, name).msg(5, tensor).varint(20, 4);
}
Proto attr_graph(const std::string& name, const Proto& graph) {
  Proto a;
  return a.str(1, name).msg(6, graph).varint(20, 5);
}

Proto model_of(const Proto& graph, int64_t opset = 17, int64_t ir_version = 8) {
  Proto opset_import;
  opset_import.str(1, "ai.onnx").varint(2, static_cast<uint64_t>(opset));
  Proto m;
  return m.varint(1, static_cast<uint64_t>(ir_version)).str(2, "loader_test").msg(7, graph).msg(8, opset_import);
}

OnnxModel load(const std::string& bytes, const std::string& dir = "") {
  return load_onnx_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), dir);
}

Tensor parse(const std::string& bytes) {
  return parse_tensor_proto(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// Runs `f`, which must throw inferd::Error of `kind` whose message contains `needle`.
void expect_error(const char* what, ErrorKind kind, const std::string& needle, const std::function<void()>& f) {
  try {
    f();
    std::fprintf(stderr, "FAIL %s: no error (expected one containing \"%s\")\n", what, needle.c_str());
    ++failures;
  } catch (const Error& e) {
    if (e.kind() != kind || std::string(e.what()).find(needle) == std::string::npos) {
      std::fprintf(stderr, "FAIL %s: got kind %d \"%s\", expected kind %d containing \"%s\"\n", what,
                   static_cast<int>(e.kind()), e.what(), static_cast<int>(kind), needle.c_str());
      ++failures;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL %s: non-inferd exception: %s\n", what, e.what());
    ++failures;
  }
}

template <typename T> std::vector<T> values_of(const Tensor& t) {
  const T* p = t.data_as<T>();
  return std::vector<T>(p, p + t.size());
}

ValueId id_of(const Graph& g, const std::string& name) {
  auto it = g.value_index.find(name);
  return it == g.value_index.end() ? kNoValue : it->second;
}

// ---------------------------------------------------------------------------------------------
// A model with every kind of initializer encoding, a Constant node, and an If whose branches read
// outer values; its nodes are written out of order.

constexpr int kFloat = 1, kUint8 = 2, kInt64 = 7, kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11,
              kUint32 = 12, kFloat8 = 17;

std::string hand_built_model() {
  Proto graph;
  graph.str(2, "hand_built");
  // If first: without its implicit inputs a sort would leave it before MatMul and Add.
  Proto then_branch, else_branch;
  then_branch.str(2, "then").msg(1, node("Identity", {"y"}, {"then_out"}, "then_id")).msg(12, value_info("then_out", kFloat, {}));
  else_branch.str(2, "else").msg(1, node("Identity", {"mm"}, {"else_out"}, "else_id")).msg(12, value_info("else_out", kFloat, {}));
  graph.msg(1, node("If", {"cond"}, {"z"}, "branch", {attr_graph("then_branch", then_branch), attr_graph("else_branch", else_branch)}));
  graph.msg(1, node("Add", {"mm", "B"}, {"y"}, "add"));
  graph.msg(1, node("MatMul", {"x", "W"}, {"mm"}, "matmul"));
  graph.msg(1, node("Constant", {}, {"shape_c"}, "shape_const", {attr_ints("value_ints", {-1, 4})}));
  graph.msg(1, node("Constant", {}, {"alpha"}, "alpha_const", {attr_float("value_float", 0.5f)}));
  graph.msg(1, node("Relu", {"y", ""}, {"r", ""}, ""));  // omitted optional input and output
  graph.msg(1, node("Constant", {}, {"k"}, "k_const", {attr_tensor("value", tensor_header("", kInt64, {2}).varint(7, 3).varint(7, 4))}));

  // Initializers, one per encoding.
  std::vector<float> w(12);
  for (int i = 0; i < 12; ++i) w[static_cast<size_t>(i)] = static_cast<float>(i) * 0.25f;
  graph.msg(5, raw_tensor("W", kFloat, {3, 4}, raw_of(w)));
  graph.msg(5, tensor_header("B", kFloat, {4}).packed_floats(4, {1.f, -2.f, 3.5f, 0.f}));
  graph.msg(5, tensor_header("S", kInt64, {3}).varint(7, 5).varint(7, static_cast<uint64_t>(int64_t{-7})).varint(7, 1ull << 40));
  graph.msg(5, tensor_header("H", kFloat16, {2}).varint(5, 0x3c00).varint(5, 0xc000));  // 1.0, -2.0
  graph.msg(5, tensor_header("U8", kUint8, {3}).packed_varints(5, {0, 200, 255}));
  graph.msg(5, tensor_header("U32", kUint32, {2}).packed_varints(11, {7, 4000000000}));
  graph.msg(5, tensor_header("D", kDouble, {2}).packed_doubles(10, {0.125, -1e300}));
  graph.msg(5, raw_tensor("BOOL", kBool, {3}, std::string("\x00\x02\x01", 3)));
  graph.msg(5, raw_tensor("EMPTY", kFloat, {0, 5}, ""));

  graph.msg(11, value_info("x", kFloat, {-1, 3}));
  graph.msg(11, value_info("cond", kBool, {}));
  graph.msg(12, value_info("y", kFloat, {-1, 4}));
  graph.msg(12, value_info("z", kFloat, {}));
  graph.msg(12, value_info("shape_c", kInt64, {2}));
  graph.msg(12, value_info("r", kFloat, {-1, 4}));
  Proto m = model_of(graph, 17, 8);
  Proto extra_opset;
  extra_opset.str(1, "com.microsoft").varint(2, 1);
  m.msg(8, extra_opset);
  return m.bytes;
}

void test_hand_built_model() {
  const OnnxModel m = load(hand_built_model());
  const Graph& g = m.graph;
  EXPECT(m.ir_version == 8);
  EXPECT(m.producer_name == "loader_test");
  EXPECT(m.onnx_opset() == 17);
  EXPECT(m.opsets.count("ai.onnx") == 0);
  EXPECT(m.opsets.count("com.microsoft") == 1);
  EXPECT(g.name == "hand_built");

  // Inputs: only what the caller feeds.
  EXPECT(g.inputs.size() == 2);
  if (g.inputs.size() == 2) {
    const Value& x = g.value(g.inputs[0]);
    EXPECT(x.name == "x" && x.dtype == DType::f32 && x.has_shape && x.dims.size() == 2);
    if (x.dims.size() == 2) EXPECT(x.dims[0].value == -1 && x.dims[0].param == "d0" && x.dims[1].value == 3);
    EXPECT(g.value(g.inputs[1]).dtype == DType::boolean && g.value(g.inputs[1]).dims.empty());
  }
  EXPECT(g.outputs.size() == 4);

  // Nodes: Constants removed, the rest in dependency order, If after what its branches read.
  std::vector<std::string> order;
  for (const Node& n : g.nodes) order.push_back(n.op_type);
  EXPECT(order.size() == 4);
  if (order.size() == 4) {
    EXPECT(order[0] == "MatMul" && order[1] == "Add");
    EXPECT(order[2] == "If" || order[3] == "If");
  }
  for (const Node& n : g.nodes) {
    if (n.op_type == "If") {
      // 'cond', then the outer values its branches read (then's, else's), kept as implicit inputs.
      EXPECT(n.inputs.size() == 3 && n.implicit_inputs == 2);
      if (n.inputs.size() == 3) EXPECT(g.value(n.inputs[1]).name == "y" && g.value(n.inputs[2]).name == "mm");
      const Attribute* then_branch = n.attributes.find("then_branch");
      EXPECT(then_branch && then_branch->type == Attribute::Type::g && then_branch->g);
      if (then_branch && then_branch->g) {
        const Graph& sub = *then_branch->g;
        EXPECT(sub.nodes.size() == 1 && sub.inputs.empty() && sub.outputs.size() == 1);
        if (!sub.nodes.empty()) EXPECT(sub.value(sub.nodes[0].inputs.at(0)).name == "y");
      }
    }
    if (n.op_type == "Relu") {
      EXPECT(n.inputs.size() == 2 && n.inputs[1] == kNoValue);
      EXPECT(n.outputs.size() == 2 && n.outputs[1] == kNoValue);
      EXPECT(n.label() == "Relu node (unnamed)");
    }
    if (n.op_type == "Add") EXPECT(n.attributes.owner() == "Add node 'add'");
  }
  const ValueId mm = id_of(g, "mm");
  EXPECT(mm != kNoValue && g.value(mm).producer == 0);

  // Constants, decoded from each encoding.
  auto constant = [&](const std::string& name) -> const Tensor* {
    const ValueId id = id_of(g, name);
    return id == kNoValue ? nullptr : g.constant(id);
  };
  const Tensor* W = constant("W");
  EXPECT(W && W->dtype == DType::f32 && W->shape == Shape({3, 4}) && values_of<float>(*W)[11] == 2.75f);
  const Tensor* B = constant("B");
  EXPECT(B && values_of<float>(*B) == std::vector<float>({1.f, -2.f, 3.5f, 0.f}));
  const Tensor* S = constant("S");
  EXPECT(S && S->dtype == DType::i64 && values_of<int64_t>(*S) == std::vector<int64_t>({5, -7, int64_t{1} << 40}));
  const Tensor* H = constant("H");
  EXPECT(H && H->dtype == DType::f16 && half_to_float(values_of<uint16_t>(*H)[0]) == 1.f &&
         half_to_float(values_of<uint16_t>(*H)[1]) == -2.f);
  const Tensor* U8 = constant("U8");
  EXPECT(U8 && values_of<uint8_t>(*U8) == std::vector<uint8_t>({0, 200, 255}));
  const Tensor* U32 = constant("U32");
  EXPECT(U32 && U32->dtype == DType::u32 && values_of<uint32_t>(*U32) == std::vector<uint32_t>({7, 4000000000u}));
  const Tensor* D = constant("D");
  EXPECT(D && values_of<double>(*D) == std::vector<double>({0.125, -1e300}));
  const Tensor* BOOL = constant("BOOL");
  EXPECT(BOOL && values_of<uint8_t>(*BOOL) == std::vector<uint8_t>({0, 1, 1}));
  const Tensor* EMPTY = constant("EMPTY");
  EXPECT(EMPTY && EMPTY->size() == 0 && EMPTY->shape == Shape({0, 5}));
  const Tensor* shape_c = constant("shape_c");
  EXPECT(shape_c && shape_c->dtype == DType::i64 && values_of<int64_t>(*shape_c) == std::vector<int64_t>({-1, 4}));
  const Tensor* alpha = constant("alpha");
  EXPECT(alpha && alpha->dtype == DType::f32 && alpha->shape.empty() && values_of<float>(*alpha)[0] == 0.5f);
  const Tensor* k = constant("k");
  EXPECT(k && k->dtype == DType::i64 && values_of<int64_t>(*k) == std::vector<int64_t>({3, 4}));
  if (shape_c) {
    const Value& v = g.value(id_of(g, "shape_c"));
    EXPECT(v.is_constant && v.has_shape && v.dims.size() == 1 && v.dims[0].value == 2 && v.producer == -1);
  }
}

// Before IR version 4 every initializer was listed among the graph inputs too.
void test_initializer_listed_as_input() {
  Proto graph;
  graph.msg(1, node("Add", {"x", "w"}, {"y"}, "add"));
  graph.msg(5, raw_tensor("w", kFloat, {2}, raw_of(std::vector<float>{1, 2})));
  graph.msg(11, value_info("x", kFloat, {2})).msg(11, value_info("w", kFloat, {2})).msg(12, value_info("y", kFloat, {2}));
  const OnnxModel m = load(model_of(graph, 7, 3).bytes);
  EXPECT(m.graph.inputs.size() == 1 && m.graph.value(m.graph.inputs[0]).name == "x");
  EXPECT(m.graph.constant(id_of(m.graph, "w")) != nullptr);
}

// Old files have no AttributeProto.type: it is inferred from the value present.
void test_untyped_attribute() {
  Proto a;
  a.str(1, "alpha").real(2, 0.2f);
  Proto b;
  b.str(1, "perm").packed_varints(8, {1, 0});
  Proto graph;
  graph.msg(1, node("LeakyRelu", {"x"}, {"y"}, "lr", {a, b}));
  graph.msg(11, value_info("x", kFloat, {2})).msg(12, value_info("y", kFloat, {2}));
  const OnnxModel m = load(model_of(graph, 1, 1).bytes);
  EXPECT(m.graph.nodes.size() == 1);
  if (m.graph.nodes.size() == 1) {
    const Attributes& attrs = m.graph.nodes[0].attributes;
    EXPECT(std::fabs(attrs.get_float("alpha", 0) - 0.2f) < 1e-7f);
    EXPECT(attrs.get_ints("perm", {}) == std::vector<int64_t>({1, 0}));
  }
}

// Packed and unpacked encodings of the same repeated field read the same; a mix is allowed too.
void test_tensor_encodings() {
  Proto packed;
  packed.packed_varints(1, {2, 3}).varint(2, kInt64).packed_varints(7, {1, 2, 3}).packed_varints(7, {4, 5, 6});
  Proto unpacked = tensor_header("", kInt64, {2, 3});
  for (int i = 1; i <= 6; ++i) unpacked.varint(7, static_cast<uint64_t>(i));
  const Tensor a = parse(packed.bytes), b = parse(unpacked.bytes);
  EXPECT(a.shape == Shape({2, 3}) && b.shape == Shape({2, 3}));
  EXPECT(values_of<int64_t>(a) == values_of<int64_t>(b));
  EXPECT(values_of<int64_t>(a) == std::vector<int64_t>({1, 2, 3, 4, 5, 6}));

  Proto floats_unpacked = tensor_header("", kFloat, {2});
  floats_unpacked.real(4, 1.5f).real(4, -3.f);
  EXPECT(values_of<float>(parse(floats_unpacked.bytes)) == std::vector<float>({1.5f, -3.f}));

  Proto scalar = raw_tensor("", kFloat, {}, raw_of(std::vector<float>{42.f}));
  const Tensor s = parse(scalar.bytes);
  EXPECT(s.shape.empty() && s.size() == 1 && values_of<float>(s)[0] == 42.f);
}

// ---------------------------------------------------------------------------------------------
// Specific malformed and unsupported inputs: each refused with the right kind and a clear message.

std::string one_initializer_model(const Proto& tensor) {
  Proto graph;
  graph.msg(1, node("Identity", {"w"}, {"y"}, "id"));
  graph.msg(5, tensor).msg(12, value_info("y", kFloat, {}));
  return model_of(graph).bytes;
}

void test_malformed() {
  const ErrorKind invalid = ErrorKind::invalid_model, unsupported = ErrorKind::unsupported;

  // 2^40 elements declared, 4 bytes present: refused before any allocation.
  expect_error("huge dims", invalid, "initializer 'w': raw_data has 4 bytes, expected 4398046511104 for float [1099511627776]",
               [] { load(one_initializer_model(raw_tensor("w", kFloat, {int64_t{1} << 40}, "abcd"))); });
  expect_error("huge typed dims", invalid, "float_data has 1 values, expected 1099511627776",
               [] { load(one_initializer_model(tensor_header("w", kFloat, {int64_t{1} << 40}).real(4, 1.f))); });
  expect_error("overflowing dims", invalid, "too large",
               [] { load(one_initializer_model(raw_tensor("w", kFloat, {int64_t{1} << 40, int64_t{1} << 40}, ""))); });
  expect_error("negative dim", invalid, "dims[1] is -3",
               [] { load(one_initializer_model(raw_tensor("w", kFloat, {2, -3}, ""))); });
  expect_error("raw and typed", invalid, "both raw_data and float_data",
               [] { load(one_initializer_model(raw_tensor("w", kFloat, {1}, "abcd").real(4, 1.f))); });
  expect_error("wrong typed field", invalid, "values are in int64_data",
               [] { load(one_initializer_model(tensor_header("w", kFloat, {1}).varint(7, 1))); });
  expect_error("no data", invalid, "has no data",
               [] { load(one_initializer_model(tensor_header("w", kFloat, {2}))); });
  expect_error("uint8 out of range", invalid, "int32_data[1] = 256",
               [] { load(one_initializer_model(tensor_header("w", kUint8, {2}).varint(5, 1).varint(5, 256))); });
  expect_error("string tensor", unsupported, "element type string (8)",
               [] { load(one_initializer_model(tensor_header("w", kString, {1}).str(6, "hi"))); });
  expect_error("float8 tensor", unsupported, "initializer 'w': element type float8e4m3fn (17)",
               [] { load(one_initializer_model(raw_tensor("w", kFloat8, {1}, "a"))); });
  expect_error("no data_type", invalid, "has no data_type", [] { parse(Proto().varint(1, 1).bytes); });

  Proto dup_graph;
  dup_graph.msg(5, raw_tensor("w", kFloat, {}, "abcd")).msg(5, raw_tensor("w", kFloat, {}, "abcd"));
  expect_error("duplicate initializer", invalid, "initializer 'w' appears twice", [&] { load(model_of(dup_graph).bytes); });

  // Wire-level damage.
  expect_error("truncated varint", invalid, "truncated varint at byte 1 (in ModelProto)",
               [] { load(std::string("\x08\x80", 2)); });
  expect_error("varint overflow", invalid, "overflows 64 bits",
               [] { load(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11)); });
  expect_error("group", invalid, "group", [] { load(std::string("\x0b\x0c", 2)); });
  expect_error("field 0", invalid, "invalid field number 0", [] { load(std::string("\x00\x00", 2)); });
  expect_error("long length", invalid, "declares 100 bytes but only 1 remain", [] { load(std::string("\x3a\x64\x00", 3)); });
  expect_error("wrong wire type", invalid, "field 4 has wire type 0, expected 2",
               [] { load(model_of(Proto().msg(1, Proto().varint(4, 3))).bytes); });
  expect_error("empty file", invalid, "no graph", [] { load(""); });
  expect_error("not onnx", invalid, "", [] { load("hello, world: this is not a model"); });

  // Graph structure.
  Proto undefined_input;
  undefined_input.msg(1, node("Relu", {"nowhere"}, {"y"}, "r")).msg(12, value_info("y", kFloat, {}));
  expect_error("undefined input", invalid, "input 'nowhere'", [&] { load(model_of(undefined_input).bytes); });
  Proto undefined_output;
  undefined_output.msg(12, value_info("ghost", kFloat, {}));
  expect_error("undefined output", invalid, "graph output 'ghost'", [&] { load(model_of(undefined_output).bytes); });
  Proto no_op;
  no_op.msg(1, Proto().str(1, "x").str(3, "nameless"));
  expect_error("no op_type", invalid, "node #0 'nameless' has no op_type", [&] { load(model_of(no_op).bytes); });
  Proto cycle;
  cycle.msg(1, node("Relu", {"b"}, {"a"}, "r1")).msg(1, node("Relu", {"a"}, {"b"}, "r2")).msg(12, value_info("a", kFloat, {}));
  expect_error("cycle", invalid, "cycle", [&] { load(model_of(cycle).bytes); });

  // Unsupported ONNX features.
  Proto sparse_values = raw_tensor("sp", kFloat, {1}, "abcd");
  Proto sparse_graph;
  sparse_graph.msg(15, Proto().msg(1, sparse_values));
  expect_error("sparse initializer", unsupported, "sparse initializer 'sp'", [&] { load(model_of(sparse_graph).bytes); });
  Proto ref_graph;
  ref_graph.msg(1, node("Relu", {"x"}, {"y"}, "r", {Proto().str(1, "alpha").str(21, "outer_alpha").varint(20, 1)}));
  expect_error("ref_attr_name", unsupported, "Relu node 'r': attribute 'alpha' refers to a function attribute",
               [&] { load(model_of(ref_graph).bytes); });
  Proto seq_type;
  seq_type.msg(4, Proto());
  Proto seq_graph;
  seq_graph.msg(11, Proto().str(1, "seq").msg(2, seq_type));
  expect_error("sequence input", unsupported, "graph input 'seq' is a sequence", [&] { load(model_of(seq_graph).bytes); });
  Proto string_input;
  string_input.msg(11, value_info("s", kString, {1}));
  expect_error("string input", unsupported, "graph input 's': element type string", [&] { load(model_of(string_input).bytes); });
  Proto string_constant;
  string_constant.msg(1, node("Constant", {}, {"c"}, "c", {Proto().str(1, "value_string").str(4, "hi").varint(20, 3)}));
  expect_error("string constant", unsupported, "value_string", [&] { load(model_of(string_constant).bytes); });

  // Subgraphs nested past the limit: an error, not a stack overflow.
  Proto deep;
  deep.msg(1, node("Relu", {"x"}, {"y"}, "leaf")).msg(11, value_info("x", kFloat, {}));
  for (int i = 0; i < 40; ++i) {
    Proto outer;
    outer.msg(1, node("If", {"c"}, {"y"}, "if" + std::to_string(i), {attr_graph("then_branch", deep)}));
    outer.msg(11, value_info("c", kBool, {}));
    deep = outer;
  }
  expect_error("deep nesting", invalid, "nested more than", [&] { load(model_of(deep).bytes); });
}

// External data: read from a file beside the model, never from outside its directory.
void test_external_data() {
  const fs::path dir = fs::temp_directory_path() / ("inferd_loader_test_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(dir / "sub");
  {
    std::ofstream out(dir / "weights.bin", std::ios::binary);
    const std::vector<float> values{9, 9, 1.5f, 2.5f, 9};
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  }
  auto entry = [](const std::string& key, const std::string& value) { return Proto().str(1, key).str(2, value); };
  auto external = [&](const std::string& location, const std::string& offset, const std::string& length) {
    Proto t = tensor_header("w", kFloat, {2});
    t.msg(13, entry("location", location));
    if (!offset.empty()) t.msg(13, entry("offset", offset));
    if (!length.empty()) t.msg(13, entry("length", length));
    t.varint(14, 1);
    return one_initializer_model(t);
  };

  const std::string good = external("weights.bin", "8", "8");
  const OnnxModel m = load(good, dir.string());
  const Tensor* w = m.graph.constant(id_of(m.graph, "w"));
  EXPECT(w && values_of<float>(*w) == std::vector<float>({1.5f, 2.5f}));
  {
    std::ofstream out(dir / "model.onnx", std::ios::binary);
    out << good;
  }
  const OnnxModel from_file = load_onnx_file((dir / "model.onnx").string());
  const Tensor* w2 = from_file.graph.constant(id_of(from_file.graph, "w"));
  EXPECT(w2 && values_of<float>(*w2) == std::vector<float>({1.5f, 2.5f}));

  const ErrorKind invalid = ErrorKind::invalid_model;
  const std::string d = dir.string();
  expect_error("external ..", invalid, "must not contain '..'", [&] { load(external("../weights.bin", "", ""), d); });
  expect_error("external sub/..", invalid, "must not contain '..'", [&] { load(external("sub/../weights.bin", "", ""), d); });
  expect_error("external absolute", invalid, "must be a relative path", [&] { load(external("/etc/passwd", "", ""), d); });
  expect_error("external missing", invalid, "does not exist", [&] { load(external("nothing.bin", "", ""), d); });
  expect_error("external short", invalid, "too few", [&] { load(external("weights.bin", "16", ""), d); });
  expect_error("external length", invalid, "length is 12 bytes, expected 8", [&] { load(external("weights.bin", "0", "12"), d); });
  expect_error("external bad offset", invalid, "not a valid byte count", [&] { load(external("weights.bin", "-4", ""), d); });
  expect_error("external no dir", invalid, "no directory", [&] { load(external("weights.bin", "", "")); });
  expect_error("missing model file", ErrorKind::invalid_argument, "no such file",
               [&] { load_onnx_file((dir / "absent.onnx").string()); });
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// ---------------------------------------------------------------------------------------------
// The conformance cases.

bool mentions_exotic_type(const std::string& message) {
  static const char* const words[] = {"string", "float8", "int4", "uint4", "int2", "uint2", "float4e2m1",
                                      "complex", "sequence", "optional", "map", "sparse"};
  for (const char* w : words)
    if (message.find(w) != std::string::npos) return true;
  return false;
}

std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (int i = 0;; ++i) {
    fs::path p = dir / (prefix + std::to_string(i) + ".pb");
    if (!fs::exists(p)) return out;
    out.push_back(p);
  }
}

void check_declared(const Value& v, const Tensor& t, const std::string& where) {
  if (v.dtype != DType::undefined && v.dtype != t.dtype) {
    std::fprintf(stderr, "FAIL %s: declared %s, file holds %s\n", where.c_str(), dtype_name(v.dtype), dtype_name(t.dtype));
    ++failures;
  }
  if (!v.has_shape) return;
  bool same = v.dims.size() == t.shape.size();
  for (size_t i = 0; same && i < v.dims.size(); ++i) same = v.dims[i].value < 0 || v.dims[i].value == t.shape[i];
  if (!same) {
    std::fprintf(stderr, "FAIL %s: declared rank %zu, file holds %s\n", where.c_str(), v.dims.size(),
                 shape_to_string(t.shape).c_str());
    ++failures;
  }
}

void test_conformance_cases(const fs::path& root) {
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(root))
    if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  int loaded = 0, unsupported_models = 0, tensors = 0, unsupported_tensors = 0;
  for (const fs::path& dir : cases) {
    const std::string name = dir.filename().string();
    OnnxModel model;
    bool model_ok = false;
    try {
      model = load_onnx_file((dir / "model.onnx").string());
      model_ok = true;
      ++loaded;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::unsupported && mentions_exotic_type(e.what())) {
        ++unsupported_models;
      } else {
        std::fprintf(stderr, "FAIL %s/model.onnx: %s\n", name.c_str(), e.what());
        ++failures;
      }
    }
    for (const auto& set : fs::directory_iterator(dir)) {
      if (!set.is_directory()) continue;
      for (const char* prefix : {"input_", "output_"}) {
        const std::vector<fs::path> files = numbered_files(set.path(), prefix);
        for (size_t i = 0; i < files.size(); ++i) {
          const std::string where = name + "/" + files[i].filename().string();
          try {
            const Tensor t = load_tensor_proto_file(files[i].string());
            ++tensors;
            if (!model_ok) continue;
            const std::vector<ValueId>& ids = prefix[0] == 'i' ? model.graph.inputs : model.graph.outputs;
            if (i < ids.size()) check_declared(model.graph.value(ids[i]), t, where);
          } catch (const Error& e) {
            // Sequences, optionals and exotic element types: only where the model itself said so
            // or the tensor's type is one the engine does not hold.
            if ((!model_ok) || (e.kind() == ErrorKind::unsupported && mentions_exotic_type(e.what()))) {
              ++unsupported_tensors;
            } else {
              std::fprintf(stderr, "FAIL %s: %s\n", where.c_str(), e.what());
              ++failures;
            }
          }
        }
      }
    }
  }
  std::printf("conformance: %d models loaded, %d unsupported (exotic types); %d tensors parsed, %d refused\n",
              loaded, unsupported_models, tensors, unsupported_tensors);
  EXPECT(loaded > 600);

  // A few cases known by heart.
  const Tensor x = load_tensor_proto_file((root / "test_add/test_data_set_0/input_0.pb").string());
  EXPECT(x.dtype == DType::f32 && x.shape == Shape({3, 4, 5}));
  const Tensor y = load_tensor_proto_file((root / "test_add/test_data_set_0/input_1.pb").string());
  const Tensor sum = load_tensor_proto_file((root / "test_add/test_data_set_0/output_0.pb").string());
  bool sums = x.size() == 60 && y.size() == 60 && sum.size() == 60;
  for (int64_t i = 0; sums && i < 60; ++i)
    sums = std::fabs(x.data_as<float>()[i] + y.data_as<float>()[i] - sum.data_as<float>()[i]) <= 1e-6f;
  EXPECT(sums);
  const OnnxModel add = load_onnx_file((root / "test_add/model.onnx").string());
  EXPECT(add.graph.nodes.size() == 1 && add.graph.nodes[0].op_type == "Add" && add.graph.inputs.size() == 2);
  EXPECT(add.onnx_opset() == 14);

  // test_constant: the Constant node is gone, its value a constant equal to the expected output.
  const OnnxModel constant = load_onnx_file((root / "test_constant/model.onnx").string());
  EXPECT(constant.graph.nodes.empty() && constant.graph.outputs.size() == 1);
  if (constant.graph.outputs.size() == 1) {
    const Tensor* c = constant.graph.constant(constant.graph.outputs[0]);
    const Tensor expected = load_tensor_proto_file((root / "test_constant/test_data_set_0/output_0.pb").string());
    EXPECT(c && c->shape == expected.shape && c->dtype == expected.dtype &&
           std::memcmp(c->data, expected.data, expected.nbytes()) == 0);
  }

  // A Loop body (Range's function body) reads outer values: it loads as a subgraph.
  const OnnxModel range = load_onnx_file((root / "test_range_float_type_positive_delta_expanded/model.onnx").string());
  bool has_loop_body = false;
  for (const Node& n : range.graph.nodes)
    if (n.op_type == "Loop") {
      const Attribute* body = n.attributes.find("body");
      has_loop_body = body && body->g && !body->g->nodes.empty();
    }
  EXPECT(has_loop_body);
}

// ---------------------------------------------------------------------------------------------
// Robustness: truncations, corruptions and random bytes must load or throw inferd::Error.

struct Rng {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

size_t fuzz_runs = 0;

// Loads (or parses, for a tensor) `bytes`; anything but success or inferd::Error is a failure.
void survives(const std::string& bytes, bool is_tensor, const std::string& what) {
  ++fuzz_runs;
  try {
    if (is_tensor) parse(bytes);
    else load(bytes);
  } catch (const Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL fuzz %s: %s\n", what.c_str(), e.what());
    ++failures;
  } catch (...) {
    std::fprintf(stderr, "FAIL fuzz %s: unknown exception\n", what.c_str());
    ++failures;
  }
}

void fuzz_one(const std::string& original, bool is_tensor, const std::string& name, Rng& rng) {
  // Every truncation of small files, a dense sample of bigger ones.
  const size_t step = original.size() <= 4096 ? 1 : original.size() / 4096;
  for (size_t n = 0; n < original.size(); n += step)
    survives(original.substr(0, n), is_tensor, name + " truncated to " + std::to_string(n));

  static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12, 0x3a};
  for (int i = 0; i < 4000 && !original.empty(); ++i) {
    std::string bytes = original;
    const size_t at = rng.below(bytes.size());
    bytes[at] = static_cast<char>(i % 2 ? rng.next() : interesting[rng.below(sizeof(interesting))]);
    survives(bytes, is_tensor, name + " byte " + std::to_string(at) + " set to " + std::to_string(static_cast<uint8_t>(bytes[at])));
  }
  for (int i = 0; i < 1500 && !original.empty(); ++i) {
    std::string bytes = original;
    const size_t changes = 2 + rng.below(7);
    for (size_t c = 0; c < changes; ++c) bytes[rng.below(bytes.size())] = static_cast<char>(rng.next());
    if (i % 4 == 0) bytes.insert(rng.below(bytes.size()), 1, static_cast<char>(rng.next()));
    if (i % 4 == 1) bytes.erase(rng.below(bytes.size()), 1);
    survives(bytes, is_tensor, name + " multi-byte corruption #" + std::to_string(i));
  }
}

void test_robustness(const fs::path& root) {
  Rng rng{0x9e3779b97f4a7c15ull};
  const auto started = std::chrono::steady_clock::now();

  fuzz_one(hand_built_model(), false, "hand-built model", rng);
  fuzz_one(raw_tensor("t", kFloat, {2, 2}, raw_of(std::vector<float>{1, 2, 3, 4})).bytes, true, "tensor", rng);
  fuzz_one(tensor_header("t", kInt64, {3}).packed_varints(7, {1, -1, 300}).bytes, true, "typed tensor", rng);

  static const char* const cases[] = {
      "test_add", "test_constant", "test_range_float_type_positive_delta_expanded",
      "test_layer_normalization_2d_axis0_expanded", "test_lstm_defaults", "test_cast_FLOAT_to_FLOAT16",
      "test_reshape_reordered_all_dims", "test_slice", "test_gemm_default_scalar_bias",
      "test_conv_with_strides_padding", "test_resize_upsample_scales_linear", "test_clip_default_inbounds_expanded",
      "test_split_equal_parts_2d", "test_einsum_batch_matmul"};
  int fuzzed_cases = 0;
  for (const char* c : cases) {
    const fs::path model = root / c / "model.onnx";
    if (!fs::exists(model)) continue;
    ++fuzzed_cases;
    fuzz_one(onnx_detail::read_whole_file(model.string(), "model"), false, std::string(c) + "/model.onnx", rng);
    const fs::path input = root / c / "test_data_set_0" / "input_0.pb";
    if (fs::exists(input) && fs::file_size(input) <= 4096)
      fuzz_one(onnx_detail::read_whole_file(input.string(), "tensor"), true, std::string(c) + "/input_0.pb", rng);
  }
  if (fs::is_directory(root)) EXPECT(fuzzed_cases >= 12);

  for (int i = 0; i < 3000; ++i) {
    std::string bytes(rng.below(300), '\0');
    for (char& b : bytes) b = static_cast<char>(rng.next());
    survives(bytes, i % 3 == 0, "random bytes #" + std::to_string(i));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("robustness: %zu mutated inputs in %.1f s\n", fuzz_runs, seconds);
}

}  // namespace

int main() {
  test_hand_built_model();
  test_initializer_listed_as_input();
  test_untyped_attribute();
  test_tensor_encodings();
  test_malformed();
  test_external_data();

  const char* env_dir = std::getenv("INFERD_ONNX_TESTS_DIR");
  const fs::path root = env_dir && *env_dir ? fs::path(env_dir) : fs::path("../shared/onnx-backend-tests/node");
  const bool have_cases = fs::is_directory(root);
  if (have_cases) test_conformance_cases(root);
  test_robustness(root);  // uses the conformance models when present

  if (failures) {
    std::fprintf(stderr, "loader_test: %d failure(s)\n", failures);
    return 1;
  }
  if (!have_cases) {
    const char* ci = std::getenv("CI");
    std::fprintf(stderr, "loader_test: conformance cases not found at %s\n", root.string().c_str());
    return ci && std::string(ci) == "true" ? 1 : 77;
  }
  std::printf("loader_test: all passed\n");
  return 0;
}
