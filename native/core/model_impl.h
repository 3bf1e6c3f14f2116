// What a loaded Model holds: the graph after load-time folding, one kernel per remaining node (made
// once, shared by every Session and thread), and the declared inputs/outputs.
#pragma once

#include <memory>
#include <vector>

#include "core/backend.h"
#include "core/graph.h"
#include "core/kernel.h"
#include "core/op_schema.h"
#include "inferd/model.h"

namespace inferd {

class ModelImpl {
 public:
  OnnxModel onnx;
  int opset = 1;
  const Backend* backend = nullptr;
  std::vector<const OpSchema*> schemas;           // per node of onnx.graph.nodes
  std::vector<std::unique_ptr<Kernel>> kernels;   // per node
  std::vector<TensorInfo> inputs, outputs;
  size_t weight_bytes = 0;

  const Graph& graph() const { return onnx.graph; }
};

// Every node of `model` (subgraphs included) whose op has no schema or no kernel on `backend`.
std::vector<UnsupportedOp> find_unsupported_ops(const OnnxModel& model, const Backend& backend);

// A subgraph (If branch, Loop body) of `parent` as a model of its own: its declared inputs, then the
// outer values it reads (outer_references order), as inputs whose shapes are whatever the run gives.
std::shared_ptr<const ModelImpl> build_subgraph_model(const Graph& subgraph, const OnnxModel& parent,
                                                      const Backend& backend, bool optimize);

}  // namespace inferd
