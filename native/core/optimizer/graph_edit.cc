#include "core/optimizer/graph_edit.h"

#include <algorithm>
#include <cmath>

#include "core/backend.h"
#include "core/op_schema.h"
#include "core/optimizer/fused_ops.h"

namespace inferd::opt {
namespace {

// Names a subgraph (and its own subgraphs) uses: an outer value it reads is referred to by name.
void collect_subgraph_names(const Graph& g, std::vector<std::string>* names) {
  for (const Value& v : g.values) names->push_back(v.name);
  for (const Node& node : g.nodes)
    for (const Attribute& a : node.attributes.items()) {
      if (a.g) collect_subgraph_names(*a.g, names);
    }
}

double element_as_double(const Tensor& t) {
  switch (t.dtype) {
    case DType::f32: return *t.data_as<float>();
    case DType::f64: return *t.data_as<double>();
    case DType::f16: return half_to_float(*t.data_as<uint16_t>());
    case DType::i32: return *t.data_as<int32_t>();
    case DType::i64: return static_cast<double>(*t.data_as<int64_t>());
    case DType::boolean: return *t.data_as<bool>() ? 1.0 : 0.0;
    default: return std::nan("");
  }
}

}  // namespace

GraphEdit::GraphEdit(Graph& graph, int opset) : graph_(graph), opset_(opset) {
  removed_.assign(graph_.nodes.size(), 0);
  grow();
  for (size_t n = 0; n < graph_.nodes.size(); ++n) index_node(static_cast<int>(n), +1);
  for (ValueId out : graph_.outputs) pinned_[static_cast<size_t>(out)] = 1;
  std::vector<std::string> names;
  for (const Node& node : graph_.nodes)
    for (const Attribute& a : node.attributes.items())
      if (a.g) collect_subgraph_names(*a.g, &names);
  for (const std::string& name : names) {
    auto it = graph_.value_index.find(name);
    if (it != graph_.value_index.end()) pinned_[static_cast<size_t>(it->second)] = 1;
  }
}

void GraphEdit::grow() {
  const size_t n = graph_.values.size();
  producer_.resize(n, -1);
  consumers_.resize(n);
  pinned_.resize(n, 0);
}

void GraphEdit::index_node(int n, int delta) {
  const Node& node = graph_.nodes[static_cast<size_t>(n)];
  for (ValueId in : node.inputs) {
    if (in == kNoValue) continue;
    std::vector<int>& c = consumers_[static_cast<size_t>(in)];
    if (delta > 0) c.push_back(n);
    else c.erase(std::find(c.begin(), c.end(), n));
  }
  for (ValueId out : node.outputs)
    if (out != kNoValue) producer_[static_cast<size_t>(out)] = delta > 0 ? n : -1;
}

int GraphEdit::producer(ValueId v) const { return v == kNoValue ? -1 : producer_[static_cast<size_t>(v)]; }

const std::vector<int>& GraphEdit::consumers(ValueId v) const { return consumers_[static_cast<size_t>(v)]; }

bool GraphEdit::pinned(ValueId v) const { return pinned_[static_cast<size_t>(v)] != 0; }

int GraphEdit::sole_consumer(ValueId v) const {
  if (v == kNoValue || pinned(v)) return -1;
  const std::vector<int>& c = consumers(v);
  return c.size() == 1 ? c[0] : -1;
}

bool GraphEdit::scalar(ValueId v, double* value) const {
  const Tensor* t = constant(v);
  if (!t || t->rank() > 1 || t->size() != 1) return false;
  *value = element_as_double(*t);
  return !std::isnan(*value);
}

bool GraphEdit::scalar_near(ValueId v, double expected, double rel_tol) const {
  double value;
  return scalar(v, &value) && std::fabs(value - expected) <= rel_tol * std::fabs(expected);
}

DType GraphEdit::known_dtype(ValueId v) const {
  if (v == kNoValue) return DType::undefined;
  if (const Tensor* t = constant(v)) return t->dtype;
  return graph_.value(v).dtype;
}

bool GraphEdit::supported(const std::string& domain, const std::string& op_type, int opset) {
  return SchemaRegistry::instance().find(domain, op_type, opset) && cpu_backend().supports(domain, op_type, opset);
}

void GraphEdit::replace_uses(ValueId from, ValueId to) {
  std::vector<int> readers = consumers_[static_cast<size_t>(from)];
  std::sort(readers.begin(), readers.end());
  readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
  for (int n : readers) {
    index_node(n, -1);
    for (ValueId& in : node(n).inputs)
      if (in == from) in = to;
    index_node(n, +1);
  }
}

void GraphEdit::set_output(int n, size_t slot, ValueId to) {
  index_node(n, -1);
  node(n).outputs[slot] = to;
  index_node(n, +1);
}

void GraphEdit::remove(int n) {
  if (!alive(n)) return;
  index_node(n, -1);
  removed_[static_cast<size_t>(n)] = 1;
}

void GraphEdit::replace(int n, Node replacement) {
  if (alive(n)) index_node(n, -1);
  node(n) = std::move(replacement);
  removed_[static_cast<size_t>(n)] = 0;
  index_node(n, +1);
}

void GraphEdit::replace(int n, Node replacement, const std::vector<int>& absorbed) {
  for (int a : absorbed) remove(a);
  replace(n, std::move(replacement));
}

ValueId GraphEdit::add_constant(const std::string& hint, Tensor value) {
  std::string name = hint;
  for (int suffix = 1; graph_.value_index.count(name); ++suffix) name = hint + "_" + std::to_string(suffix);
  const ValueId id = graph_.value_id(name);
  grow();
  Value& v = graph_.value(id);
  v.dtype = value.dtype;
  v.dims.clear();
  for (int64_t d : value.shape) v.dims.push_back(Dim{d, {}});
  v.has_shape = true;
  v.is_constant = true;
  graph_.constants[id] = std::move(value);
  return id;
}

void GraphEdit::commit() {
  std::vector<Node> kept;
  kept.reserve(graph_.nodes.size());
  for (size_t n = 0; n < graph_.nodes.size(); ++n)
    if (!removed_[n]) kept.push_back(std::move(graph_.nodes[n]));
  graph_.nodes = std::move(kept);
  graph_.sort_topologically();
}

Attribute int_attribute(const std::string& name, int64_t value) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::i;
  a.i = value;
  return a;
}

Attribute float_attribute(const std::string& name, float value) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::f;
  a.f = value;
  return a;
}

Attribute string_attribute(const std::string& name, const std::string& value) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::s;
  a.s = value;
  return a;
}

Attribute ints_attribute(const std::string& name, std::vector<int64_t> value) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::ints;
  a.ints = std::move(value);
  return a;
}

Node make_node(const std::string& domain, const std::string& op_type, const std::string& name,
               std::vector<ValueId> inputs, std::vector<ValueId> outputs, std::vector<Attribute> attributes) {
  Node node;
  node.domain = domain;
  node.op_type = op_type;
  node.name = name;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes.set_owner(node.label());
  for (Attribute& a : attributes) node.attributes.add(std::move(a));
  return node;
}

bool is_binary(const Node& node, const char* op_type) {
  return node.domain.empty() && node.op_type == op_type && node.inputs.size() == 2 && node.outputs.size() == 1 &&
         node.inputs[0] != kNoValue && node.inputs[1] != kNoValue && !node.attributes.has("axis");
}

int other_than_constant(const GraphEdit& edit, const Node& node) {
  const bool c0 = edit.constant(node.inputs[0]) != nullptr, c1 = edit.constant(node.inputs[1]) != nullptr;
  if (c0 == c1) return -1;
  return c0 ? 1 : 0;
}

bool fusable_activation(const GraphEdit& edit, const Node& node, std::vector<Attribute>* attrs) {
  if (node.inputs.empty() || node.inputs[0] == kNoValue || node.outputs.size() != 1) return false;
  const std::string& op = node.op_type;
  const bool onnx = node.domain.empty();
  if (onnx && (op == "Relu" || op == "Sigmoid" || op == "Tanh")) {
    attrs->push_back(string_attribute("activation", op));
    return true;
  }
  if (onnx && op == "LeakyRelu") {
    attrs->push_back(string_attribute("activation", op));
    attrs->push_back(float_attribute("activation_alpha", node.attributes.get_float("alpha", 0.01f)));
    return true;
  }
  if (op == "Gelu" && (onnx || node.domain == kInternalDomain)) {
    const std::string approximate = node.attributes.get_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh") return false;
    attrs->push_back(string_attribute("activation", op));
    attrs->push_back(string_attribute("activation_approximate", approximate));
    return true;
  }
  if ((onnx || node.domain == kInternalDomain) && op == "HardSwish") {
    attrs->push_back(string_attribute("activation", op));
    return true;
  }
  if (onnx && op == "HardSigmoid") {
    attrs->push_back(string_attribute("activation", op));
    attrs->push_back(float_attribute("activation_alpha", node.attributes.get_float("alpha", 0.2f)));
    attrs->push_back(float_attribute("activation_beta", node.attributes.get_float("beta", 0.5f)));
    return true;
  }
  if (onnx && op == "Clip") {
    std::vector<Attribute> bounds;
    if (edit.opset() < 11) {
      if (node.attributes.has("min")) bounds.push_back(float_attribute("activation_alpha", node.attributes.get_float("min", 0)));
      if (node.attributes.has("max")) bounds.push_back(float_attribute("activation_beta", node.attributes.get_float("max", 0)));
    } else {
      const char* names[2] = {"activation_alpha", "activation_beta"};
      for (size_t i = 1; i < 3; ++i) {
        if (node.inputs.size() <= i || node.inputs[i] == kNoValue) continue;
        const Tensor* t = edit.constant(node.inputs[i]);
        if (!t || t->dtype != DType::f32 || t->size() != 1) return false;
        bounds.push_back(float_attribute(names[i - 1], *t->data_as<float>()));
      }
    }
    attrs->push_back(string_attribute("activation", op));
    for (Attribute& a : bounds) attrs->push_back(std::move(a));
    return true;
  }
  return false;
}

bool reduce_axes(const GraphEdit& edit, const Node& node, std::vector<int64_t>* axes) {
  if (!node.domain.empty() || node.op_type != "ReduceMean" || node.inputs.empty() || node.inputs[0] == kNoValue)
    return false;
  if (node.attributes.get_int("keepdims", 1) != 1) return false;
  if (edit.opset() < 18) {
    if (!node.attributes.has("axes")) return false;
    *axes = node.attributes.get_ints("axes", {});
  } else {
    const Tensor* t = node.inputs.size() > 1 ? edit.constant(node.inputs[1]) : nullptr;
    if (!t || t->rank() != 1) return false;
    axes->clear();
    for (int64_t i = 0; i < t->size(); ++i) {
      if (t->dtype == DType::i64) axes->push_back(t->data_as<int64_t>()[i]);
      else if (t->dtype == DType::i32) axes->push_back(t->data_as<int32_t>()[i]);
      else return false;
    }
  }
  std::sort(axes->begin(), axes->end());
  return !axes->empty();
}

}  // namespace inferd::opt
