// The graph IR: values (tensors flowing between nodes) and nodes, by index. Built by the ONNX loader,
// rewritten by load-time passes (constant folding), then read-only: plans are made from it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/attributes.h"
#include "inferd/dtype.h"
#include "inferd/tensor.h"

namespace inferd {

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;  // an omitted optional input ("" in ONNX)

// A declared dimension: value >= 0 is fixed; otherwise dynamic, named by param when the model names it.
struct Dim {
  int64_t value = -1;
  std::string param;
};

struct Value {
  std::string name;
  DType dtype = DType::undefined;   // declared type, when the model declares one
  std::vector<Dim> dims;            // declared shape, when has_shape
  bool has_shape = false;
  int producer = -1;                // index of the node that writes it; -1 for inputs and constants
  bool is_constant = false;         // an initializer, a Constant node's value, or a folded result
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;               // "" for ai.onnx ("ai.onnx" is normalised to "")
  std::vector<ValueId> inputs;      // kNoValue for an omitted optional input
  std::vector<ValueId> outputs;     // kNoValue for an omitted optional output
  Attributes attributes;
  // The last `implicit_inputs` entries of `inputs` are values of this graph that the node's
  // subgraphs (If branches, a Loop body) read by name, in the order of outer_references() over each
  // graph attribute in turn. Listing them as inputs keeps them alive, ordered and renamable like any
  // other input; the subgraph receives them as extra inputs after its declared ones.
  size_t implicit_inputs = 0;

  // "Gemm node 'fc1'" (or "Gemm node #3" when unnamed), for error messages.
  std::string label() const;
};

struct Graph {
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;          // in topological order once the loader has finished
  std::vector<ValueId> inputs;      // graph inputs the caller feeds (initializers excluded)
  std::vector<ValueId> outputs;
  std::unordered_map<ValueId, Tensor> constants;  // initializers and folded values
  std::unordered_map<std::string, ValueId> value_index;  // name → id, kept by value_id()

  // The value with this name, created (with no type) if the graph has none yet.
  ValueId value_id(const std::string& name);
  const Value& value(ValueId id) const { return values.at(static_cast<size_t>(id)); }
  Value& value(ValueId id) { return values.at(static_cast<size_t>(id)); }
  const Tensor* constant(ValueId id) const;

  // Orders nodes so every value is written before it is read; throws Error(invalid_model) naming a
  // value read but never written, or a cycle.
  void sort_topologically();
  // Sets every Value::producer from the current node order.
  void index_producers();
};

// Names `graph` reads without defining them: values of enclosing graphs, which ONNX lets subgraphs
// (If branches, Loop bodies) use directly, and which nested subgraphs pass up through it. In first-use
// order, each once.
std::vector<std::string> outer_references(const Graph& graph);

// The subgraphs a node holds in its attributes, in attribute order.
std::vector<const Graph*> subgraphs_of(const Node& node);

// What a ModelProto carries around its graph.
struct OnnxModel {
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opsets;  // domain ("" = ai.onnx) → version
  std::string producer_name;
  std::string producer_version;
  Graph graph;
  int64_t onnx_opset() const;             // opsets[""], or 1 when absent
};

}  // namespace inferd
