// What every rewrite pass needs: who reads and who writes each value while nodes are being removed and
// replaced, questions about constants asked the same way by every pattern, and one place that turns
// the edited node list back into a valid graph (topologically sorted, producers indexed).
//
// A pass looks a pattern up structurally (op types, constant values, single consumers), never by
// node names, and edits through this class so that the indexes it asks stay true between matches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/graph.h"

namespace inferd::opt {

class GraphEdit {
 public:
  // Indexes the graph; `opset` is the model's ai.onnx opset (for ops whose inputs moved across
  // versions, and to ask whether an op this pass emits is supported).
  GraphEdit(Graph& graph, int opset);

  Graph& graph() { return graph_; }
  const Graph& graph() const { return graph_; }
  int opset() const { return opset_; }

  size_t node_count() const { return graph_.nodes.size(); }
  bool alive(int n) const { return n >= 0 && !removed_[static_cast<size_t>(n)]; }
  Node& node(int n) { return graph_.nodes[static_cast<size_t>(n)]; }
  const Node& node(int n) const { return graph_.nodes[static_cast<size_t>(n)]; }

  // The live node writing v, or -1 (a graph input, a constant, an orphan).
  int producer(ValueId v) const;
  // The live nodes reading v, once per input slot that reads it (a node reading it twice is listed twice).
  const std::vector<int>& consumers(ValueId v) const;
  // True for values that must keep their name and their producer's meaning: graph outputs and values
  // a subgraph (If/Loop body) refers to by name.
  bool pinned(ValueId v) const;
  // The one live node that reads v, through exactly one input, when v is not pinned; else -1. A
  // value with a sole consumer may disappear into a fused node.
  int sole_consumer(ValueId v) const;

  const Tensor* constant(ValueId v) const { return v == kNoValue ? nullptr : graph_.constant(v); }
  // A constant of one element (rank 0 or 1, so that it never changes its operation's output rank)
  // converted to double; false for anything else.
  bool scalar(ValueId v, double* value) const;
  // scalar() equal to `expected` within a relative tolerance (exporters round constants such as √2).
  bool scalar_near(ValueId v, double expected, double rel_tol = 1e-4) const;
  // The type this value is known to have: a constant's, or the model's declaration; undefined when unknown.
  DType known_dtype(ValueId v) const;

  // True when (domain, op_type) has a schema and a CPU kernel at `opset` (a pass emits only those).
  static bool supported(const std::string& domain, const std::string& op_type, int opset);

  // Every read of `from` becomes a read of `to`.
  void replace_uses(ValueId from, ValueId to);
  // Output slot `slot` of node n now writes `to` (which must have no other writer).
  void set_output(int n, size_t slot, ValueId to);
  void remove(int n);
  // Node n becomes `replacement`, at the same place in the order.
  void replace(int n, Node replacement);
  // A fusion's edit: the nodes of the matched pattern (`absorbed`, which may include n) go, and node
  // n becomes the fused `replacement`.
  void replace(int n, Node replacement, const std::vector<int>& absorbed);
  // A new constant value named after `hint` (made unique).
  ValueId add_constant(const std::string& hint, Tensor value);

  // Drops removed nodes and sorts the rest topologically (which re-checks that every value has one
  // writer and every read a source). The GraphEdit must not be used afterwards.
  void commit();

 private:
  void index_node(int n, int delta);
  void grow();

  Graph& graph_;
  int opset_;
  std::vector<char> removed_;
  std::vector<int> producer_;
  std::vector<std::vector<int>> consumers_;
  std::vector<char> pinned_;
};

// Small builders for the nodes passes emit.
Attribute int_attribute(const std::string& name, int64_t value);
Attribute float_attribute(const std::string& name, float value);
Attribute string_attribute(const std::string& name, const std::string& value);
Attribute ints_attribute(const std::string& name, std::vector<int64_t> value);
// A node with its attributes' owner set, so that attribute errors name it.
Node make_node(const std::string& domain, const std::string& op_type, const std::string& name,
               std::vector<ValueId> inputs, std::vector<ValueId> outputs, std::vector<Attribute> attributes = {});

// True for an elementwise binary node (Add, Sub, Mul, Div …) in the ai.onnx domain that broadcasts
// numpy-style: not the legacy (opset < 7) form with an `axis` attribute.
bool is_binary(const Node& node, const char* op_type);
// For a binary node with a constant operand: the index (0 or 1) of the other, non-constant input; -1
// when neither or both are constant.
int other_than_constant(const GraphEdit& edit, const Node& node);

// For an activation node a fused op can absorb (Relu, LeakyRelu, Sigmoid, Tanh, Gelu, HardSwish —
// ai.onnx or com.inferd — HardSigmoid, and Clip with constant float bounds): appends the fused op's
// activation attributes (fused_ops.h) and returns true; false for any other node.
bool fusable_activation(const GraphEdit& edit, const Node& node, std::vector<Attribute>* attrs);

// The reduction axes of a ReduceMean node (attribute before opset 18, constant input from 18),
// sorted; false when they are not known at load time or keepdims is 0.
bool reduce_axes(const GraphEdit& edit, const Node& node, std::vector<int64_t>* axes);

}  // namespace inferd::opt
