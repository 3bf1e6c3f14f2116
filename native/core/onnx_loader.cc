// ModelProto → OnnxModel: opsets, the graph's values and nodes, initializers and Constant nodes as
// constants, subgraphs for control-flow attributes; then a topological sort. TensorProto parsing is in
// onnx_tensor.cc.
#include "core/onnx_loader.h"

#include <cstring>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "inferd/error.h"

namespace inferd {
namespace {

using onnx_detail::onnx_type_name;
using onnx_detail::read_tensor;

// Subgraphs (If branches, Loop bodies) nest through node attributes, and so does the parser's
// recursion: a limit keeps a hostile file from exhausting the stack. Real models nest a few levels.
constexpr int kMaxGraphDepth = 32;

struct LoadContext {
  std::string external_data_dir;
};

void read_graph(ProtoReader r, Graph& graph, const LoadContext& ctx, int depth);

// A graph input or output as a ValueInfoProto declares it.
struct DeclaredValue {
  std::string name;
  DType dtype = DType::undefined;
  std::vector<Dim> dims;
  bool has_shape = false;
};

void read_shape(ProtoReader r, DeclaredValue& v, const std::string& label) {
  v.has_shape = true;
  v.dims.clear();
  while (r.next()) {
    if (r.field() != 1) {
      r.skip();
      continue;
    }
    ProtoReader dim_reader = r.read_message("dim");
    Dim dim;
    // dim_value and dim_param are a oneof: the last one written wins.
    while (dim_reader.next()) {
      if (dim_reader.field() == 1) {
        dim.value = dim_reader.read_int64();
        dim.param.clear();
        if (dim.value < 0) fail(ErrorKind::invalid_model, label, ": dimension ", v.dims.size(), " is ", dim.value);
      } else if (dim_reader.field() == 2) {
        dim.param = dim_reader.read_string();
        dim.value = -1;
      } else {
        dim_reader.skip();
      }
    }
    v.dims.push_back(std::move(dim));
  }
}

void read_tensor_type(ProtoReader r, DeclaredValue& v, const std::string& label) {
  int32_t elem_type = 0;
  while (r.next()) {
    if (r.field() == 1) elem_type = r.read_int32();
    else if (r.field() == 2) read_shape(r.read_message("shape"), v, label);
    else r.skip();
  }
  if (elem_type < 0) fail(ErrorKind::invalid_model, label, ": element type ", elem_type, " is not a tensor element type");
  if (elem_type == 0) return;  // undeclared
  if (!onnx_type_name(elem_type))
    fail(ErrorKind::unsupported, label, ": element type ", elem_type, " is not one this engine knows");
  if (!dtype_is_supported(elem_type))
    fail(ErrorKind::unsupported, label, ": element type ", onnx_type_name(elem_type), " (", elem_type, ") is not supported");
  v.dtype = static_cast<DType>(elem_type);
}

// `what` is "graph input" or "graph output"; `index` its position, for a value with no name.
DeclaredValue read_value_info(ProtoReader r, const char* what, size_t index) {
  DeclaredValue v;
  std::optional<ProtoReader> type;
  while (r.next()) {
    if (r.field() == 1) v.name = r.read_string();
    else if (r.field() == 2) type = r.read_message("type");
    else r.skip();
  }
  if (v.name.empty()) fail(ErrorKind::invalid_model, what, " #", index, " has no name");
  const std::string label = std::string(what) + " '" + v.name + "'";
  if (!type) return v;  // subgraph inputs and outputs may leave their type to inference
  while (type->next()) {
    const char* other = nullptr;
    switch (type->field()) {
      case 1: read_tensor_type(type->read_message("tensor_type"), v, label); break;
      case 4: other = "a sequence"; break;
      case 5: other = "a map"; break;
      case 7: other = "an opaque value"; break;
      case 8: other = "a sparse tensor"; break;
      case 9: other = "an optional"; break;
      default: type->skip();
    }
    if (other) fail(ErrorKind::unsupported, label, " is ", other, "; the engine supports tensor inputs and outputs only");
  }
  return v;
}

// "'weights'" for a sparse initializer, from its values tensor's name, for the error that rejects it.
std::string sparse_tensor_name(ProtoReader r) {
  std::string name;
  while (r.next()) {
    if (r.field() != 1) {
      r.skip();
      continue;
    }
    ProtoReader values = r.read_message("values");
    while (values.next()) {
      if (values.field() == 8) name = values.read_string();
      else values.skip();
    }
  }
  return name.empty() ? "(unnamed)" : "'" + name + "'";
}

std::shared_ptr<Graph> read_subgraph(ProtoReader r, const std::string& label, const LoadContext& ctx, int depth) {
  if (depth + 1 > kMaxGraphDepth)
    fail(ErrorKind::invalid_model, label, ": subgraphs are nested more than ", kMaxGraphDepth, " levels deep");
  auto graph = std::make_shared<Graph>();
  read_graph(r, *graph, ctx, depth + 1);
  return graph;
}

// `owner` is the node's label; `depth` the nesting depth of the graph that holds the node.
Attribute read_attribute(ProtoReader r, size_t index, const std::string& owner, const LoadContext& ctx, int depth) {
  Attribute a;
  int32_t type = 0;
  bool has_f = false, has_i = false, has_s = false, has_ref = false;
  const char* exotic = nullptr;  // a value kind the engine does not hold
  std::optional<ProtoReader> t, g;
  std::vector<ProtoReader> tensors, graphs;
  // Tensors and graphs are parsed after the loop, once the attribute's name (for errors) is known.
  while (r.next()) {
    switch (r.field()) {
      case 1: a.name = r.read_string(); break;
      case 2: a.f = r.read_float(); has_f = true; break;
      case 3: a.i = r.read_int64(); has_i = true; break;
      case 4: a.s = r.read_string(); has_s = true; break;
      case 5: t = r.read_message("t"); break;
      case 6: g = r.read_message("g"); break;
      case 7: r.read_floats([&](float v) { a.floats.push_back(v); }); break;
      case 8: r.read_varints([&](uint64_t v) { a.ints.push_back(static_cast<int64_t>(v)); }); break;
      case 9: a.strings.push_back(r.read_string()); break;
      case 10: tensors.push_back(r.read_message("tensors")); break;
      case 11: graphs.push_back(r.read_message("graphs")); break;
      case 14: case 15: r.skip(); exotic = "a type proto"; break;
      case 20: type = r.read_int32(); break;
      case 21: r.skip(); has_ref = true; break;
      case 22: case 23: r.skip(); exotic = "a sparse tensor"; break;
      default: r.skip();
    }
  }
  if (a.name.empty()) fail(ErrorKind::invalid_model, owner, ": attribute #", index, " has no name");
  const std::string label = owner + ": attribute '" + a.name + "'";
  if (has_ref)
    fail(ErrorKind::unsupported, label, " refers to a function attribute (ref_attr_name), which is only valid inside a function body");

  if (type == 0) {
    // Files from before IR version 2 have no type field: the value present tells it.
    using T = Attribute::Type;
    const T inferred = t ? T::t : g ? T::g : has_f ? T::f : has_i ? T::i : has_s ? T::s
                     : !a.floats.empty() ? T::floats : !a.ints.empty() ? T::ints : !a.strings.empty() ? T::strings
                     : !tensors.empty() ? T::tensors : !graphs.empty() ? T::graphs : T::undefined;
    if (inferred == T::undefined && exotic) fail(ErrorKind::unsupported, label, " is ", exotic, ", which the engine does not support");
    if (inferred == T::undefined) fail(ErrorKind::invalid_model, label, " has neither a type nor a value");
    type = static_cast<int32_t>(inferred);
  }
  if (type == 11 || type == 12) fail(ErrorKind::unsupported, label, " is a sparse tensor, which the engine does not support");
  if (type == 13 || type == 14) fail(ErrorKind::unsupported, label, " is a type proto, which the engine does not support");
  if (type < 0 || type > 10) fail(ErrorKind::invalid_model, label, ": type ", type, " is not an attribute type");
  a.type = static_cast<Attribute::Type>(type);

  switch (a.type) {
    case Attribute::Type::t:
      if (!t) fail(ErrorKind::invalid_model, label, " has type TENSOR but no tensor");
      a.t = read_tensor(*t, label + " tensor", ctx.external_data_dir, nullptr);
      break;
    case Attribute::Type::g:
      if (!g) fail(ErrorKind::invalid_model, label, " has type GRAPH but no graph");
      a.g = read_subgraph(*g, label, ctx, depth);
      break;
    // Attribute holds no lists of tensors or graphs: no ONNX op the engine targets takes one.
    case Attribute::Type::tensors:
      if (!tensors.empty()) fail(ErrorKind::unsupported, label, " is a list of tensors, which the engine does not support");
      break;
    case Attribute::Type::graphs:
      if (!graphs.empty()) fail(ErrorKind::unsupported, label, " is a list of graphs, which the engine does not support");
      break;
    default: break;
  }
  return a;
}

Node read_node(ProtoReader r, Graph& graph, const LoadContext& ctx, int depth, size_t index) {
  Node node;
  std::vector<std::string> inputs, outputs;
  std::vector<ProtoReader> attributes;
  while (r.next()) {
    switch (r.field()) {
      case 1: inputs.push_back(r.read_string()); break;
      case 2: outputs.push_back(r.read_string()); break;
      case 3: node.name = r.read_string(); break;
      case 4: node.op_type = r.read_string(); break;
      case 5: attributes.push_back(r.read_message("attribute")); break;
      case 7: node.domain = r.read_string(); break;
      default: r.skip();
    }
  }
  if (node.op_type.empty())
    fail(ErrorKind::invalid_model, "node #", index, node.name.empty() ? "" : " '" + node.name + "'", " has no op_type");
  if (node.domain == "ai.onnx") node.domain.clear();
  const std::string label = node.label();
  node.attributes.set_owner(label);

  std::unordered_set<std::string> names;
  for (size_t i = 0; i < attributes.size(); ++i) {
    Attribute a = read_attribute(attributes[i], i, label, ctx, depth);
    if (!names.insert(a.name).second) fail(ErrorKind::invalid_model, label, ": attribute '", a.name, "' appears twice");
    node.attributes.add(std::move(a));
  }
  // An empty name is an omitted optional input or output.
  for (const std::string& name : inputs) node.inputs.push_back(name.empty() ? kNoValue : graph.value_id(name));
  for (const std::string& name : outputs) node.outputs.push_back(name.empty() ? kNoValue : graph.value_id(name));
  return node;
}

Tensor scalar_or_vector(DType dtype, size_t count, bool scalar, const void* values) {
  Tensor t = Tensor::allocate(dtype, scalar ? Shape{} : Shape{static_cast<int64_t>(count)});
  if (count) std::memcpy(t.data, values, count * dtype_size(dtype));
  return t;
}

// The value a Constant node produces (its one attribute, whichever form it takes).
Tensor constant_value(const Node& node) {
  const std::string label = node.label();
  if (!node.inputs.empty()) fail(ErrorKind::invalid_model, label, ": takes no inputs, has ", node.inputs.size());
  if (node.outputs.size() != 1 || node.outputs[0] == kNoValue)
    fail(ErrorKind::invalid_model, label, ": must have exactly one named output");
  const auto& items = node.attributes.items();
  if (items.size() != 1)
    fail(ErrorKind::invalid_model, label, ": must have exactly one attribute (value, value_float, value_ints, …), has ", items.size());
  const Attribute& a = items[0];
  const Attributes& attrs = node.attributes;
  if (a.name == "value") return *attrs.get_tensor("value");
  if (a.name == "value_float") {
    const float v = attrs.get_float("value_float", 0);
    return scalar_or_vector(DType::f32, 1, true, &v);
  }
  if (a.name == "value_floats") {
    const std::vector<float> v = attrs.get_floats("value_floats", {});
    return scalar_or_vector(DType::f32, v.size(), false, v.data());
  }
  if (a.name == "value_int") {
    const int64_t v = attrs.get_int("value_int", 0);
    return scalar_or_vector(DType::i64, 1, true, &v);
  }
  if (a.name == "value_ints") {
    const std::vector<int64_t> v = attrs.get_ints("value_ints", {});
    return scalar_or_vector(DType::i64, v.size(), false, v.data());
  }
  if (a.name == "value_string" || a.name == "value_strings" || a.name == "sparse_value")
    fail(ErrorKind::unsupported, label, ": attribute '", a.name, "' (a string or sparse constant) is not supported");
  fail(ErrorKind::invalid_model, label, ": attribute '", a.name, "' is not one of Constant's");
}

void mark_constant(Value& v, const Tensor& t) {
  v.is_constant = true;
  v.dtype = t.dtype;
  v.dims.clear();
  for (int64_t d : t.shape) v.dims.push_back(Dim{d, {}});
  v.has_shape = true;
}

void declare(Value& v, const DeclaredValue& d) {
  v.dtype = d.dtype;
  v.dims = d.dims;
  v.has_shape = d.has_shape;
}

// Sorts the graph's nodes. A node with subgraphs must also run after the producers of the outer
// values its subgraphs read: they become the node's implicit inputs (see Node::implicit_inputs). In a
// subgraph, values of enclosing graphs count as available (the enclosing graph checks that they exist).
void sort_graph(Graph& graph, bool is_subgraph) {
  for (Node& node : graph.nodes)
    for (const Graph* sub : subgraphs_of(node))
      for (const std::string& name : outer_references(*sub)) {
        node.inputs.push_back(graph.value_id(name));
        ++node.implicit_inputs;
      }

  const size_t declared_inputs = graph.inputs.size();
  const std::vector<std::string> outer = outer_references(graph);
  if (is_subgraph) {
    for (const std::string& name : outer) graph.inputs.push_back(graph.value_id(name));
  } else {
    const std::unordered_set<std::string> undefined(outer.begin(), outer.end());
    for (ValueId id : graph.outputs)
      if (undefined.count(graph.value(id).name))
        fail(ErrorKind::invalid_model, "graph output '", graph.value(id).name,
             "' is not a graph input, an initializer or any node's output");
  }

  graph.sort_topologically();
  graph.inputs.resize(declared_inputs);
}

// `depth` is 0 for the model's graph, 1 for its subgraphs, and so on.
void read_graph(ProtoReader r, Graph& graph, const LoadContext& ctx, int depth) {
  std::vector<DeclaredValue> inputs, outputs;
  std::vector<std::pair<std::string, Tensor>> initializers;
  while (r.next()) {
    switch (r.field()) {
      case 1: graph.nodes.push_back(read_node(r.read_message("node"), graph, ctx, depth, graph.nodes.size())); break;
      case 2: graph.name = r.read_string(); break;
      case 5: {
        std::string name;
        Tensor t = read_tensor(r.read_message("initializer"), "initializer", ctx.external_data_dir, &name);
        if (name.empty()) fail(ErrorKind::invalid_model, "initializer #", initializers.size(), " has no name");
        initializers.emplace_back(std::move(name), std::move(t));
        break;
      }
      case 11: inputs.push_back(read_value_info(r.read_message("input"), "graph input", inputs.size())); break;
      case 12: outputs.push_back(read_value_info(r.read_message("output"), "graph output", outputs.size())); break;
      case 15:
        fail(ErrorKind::unsupported, "sparse initializer ", sparse_tensor_name(r.read_message("sparse_initializer")),
             " is not supported");
      default: r.skip();
    }
  }

  for (auto& [name, tensor] : initializers) {
    const ValueId id = graph.value_id(name);
    if (!graph.constants.emplace(id, tensor).second) fail(ErrorKind::invalid_model, "initializer '", name, "' appears twice");
    mark_constant(graph.value(id), tensor);
  }

  std::unordered_set<ValueId> listed;
  for (const DeclaredValue& d : inputs) {
    const ValueId id = graph.value_id(d.name);
    if (!listed.insert(id).second) fail(ErrorKind::invalid_model, "graph input '", d.name, "' is listed twice");
    if (const Tensor* c = graph.constant(id)) {
      // Before IR version 4 every initializer was also listed as an input; it stays a constant.
      if (d.dtype != DType::undefined && d.dtype != c->dtype)
        fail(ErrorKind::invalid_model, "graph input '", d.name, "' is declared ", dtype_name(d.dtype),
             " but its initializer is ", dtype_name(c->dtype));
      continue;
    }
    declare(graph.value(id), d);
    graph.inputs.push_back(id);
  }

  listed.clear();
  for (const DeclaredValue& d : outputs) {
    const ValueId id = graph.value_id(d.name);
    if (!listed.insert(id).second) fail(ErrorKind::invalid_model, "graph output '", d.name, "' is listed twice");
    Value& v = graph.value(id);
    if (!v.is_constant && v.dtype == DType::undefined && !v.has_shape) declare(v, d);
    graph.outputs.push_back(id);
  }

  // Constant nodes become constants like initializers, so that nothing runs to produce them.
  const std::unordered_set<ValueId> input_ids(graph.inputs.begin(), graph.inputs.end());
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (Node& node : graph.nodes) {
    if (node.op_type != "Constant" || !node.domain.empty()) {
      kept.push_back(std::move(node));
      continue;
    }
    Tensor value = constant_value(node);
    const ValueId id = node.outputs[0];
    if (input_ids.count(id) || !graph.constants.emplace(id, value).second)
      fail(ErrorKind::invalid_model, node.label(), ": output '", graph.value(id).name,
           "' is already a graph input, an initializer or another constant");
    mark_constant(graph.value(id), value);
  }
  graph.nodes = std::move(kept);

  sort_graph(graph, depth > 0);
}

void read_opset(ProtoReader r, OnnxModel& model) {
  std::string domain;
  int64_t version = 0;
  bool has_version = false;
  while (r.next()) {
    if (r.field() == 1) domain = r.read_string();
    else if (r.field() == 2) { version = r.read_int64(); has_version = true; }
    else r.skip();
  }
  if (domain == "ai.onnx") domain.clear();
  const std::string shown = domain.empty() ? "ai.onnx" : domain;
  if (!has_version || version < 1)
    fail(ErrorKind::invalid_model, "opset_import for domain '", shown, "' has version ", version, has_version ? "" : " (missing)");
  auto [it, inserted] = model.opsets.emplace(domain, version);
  if (!inserted && it->second != version)
    fail(ErrorKind::invalid_model, "opset_import lists domain '", shown, "' twice, with versions ", it->second, " and ", version);
}

}  // namespace

OnnxModel load_onnx_bytes(const uint8_t* data, size_t size, const std::string& external_data_dir) {
  OnnxModel model;
  const LoadContext ctx{external_data_dir};
  ProtoReader r(data, size, data, "ModelProto");
  bool has_graph = false;
  while (r.next()) {
    switch (r.field()) {
      case 1: model.ir_version = r.read_int64(); break;
      case 2: model.producer_name = r.read_string(); break;
      case 3: model.producer_version = r.read_string(); break;
      case 7:
        if (has_graph) r.fail("more than one graph");
        has_graph = true;
        read_graph(r.read_message("graph"), model.graph, ctx, 0);
        break;
      case 8: read_opset(r.read_message("opset_import"), model); break;
      default: r.skip();
    }
  }
  if (!has_graph) fail(ErrorKind::invalid_model, "the model has no graph (", size, " bytes read; is this an ONNX file?)");
  return model;
}

OnnxModel load_onnx_file(const std::string& path) {
  const std::string bytes = onnx_detail::read_whole_file(path, "model file");
  return load_onnx_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), onnx_detail::directory_of(path));
}

}  // namespace inferd
