// Evaluation of nodes whose inputs are all known before a run: at load time (initializer-only
// subgraphs, e.g. weight transposes) and at plan time (arithmetic on shapes).
#pragma once

#include <vector>

#include "core/backend.h"
#include "core/graph.h"
#include "core/op_schema.h"

namespace inferd {

// Infers a node's output types and shapes. `values` gives known input values (nullptr = unknown);
// output_values receives values the schema could compute from shapes alone (dtype undefined = none).
// *data_dependent, when given, tells whether output sizes are known only by running the node.
void infer_node(const Node& node, const OpSchema& schema, int opset, const std::vector<DType>& dtypes,
                const std::vector<const Shape*>& shapes, const std::vector<const Tensor*>& values,
                std::vector<DType>* output_dtypes, std::vector<Shape>* output_shapes,
                std::vector<Tensor>* output_values, bool* data_dependent = nullptr);

// Runs one node on the CPU on known inputs and returns its outputs as owned tensors. Not for nodes
// with subgraphs (If, Loop), which need a session.
std::vector<Tensor> evaluate_node(const Node& node, const OpSchema& schema, int opset,
                                  const std::vector<const Tensor*>& inputs);

// Replaces every node of the graph whose inputs are all constants by its computed outputs.
void fold_constants(Graph& graph, int opset);

}  // namespace inferd
