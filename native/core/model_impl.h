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

// Every node of `model` whose op has no schema or no kernel on `backend`.
std::vector<UnsupportedOp> find_unsupported_ops(const OnnxModel& model, const Backend& backend);

}  // namespace inferd
