// Model loading: parse, check that every op is supported (reporting all that are not at once), fold
// what depends only on initializers, then make one kernel per remaining node.
#include <filesystem>

#include "core/constant_folding.h"
#include "core/kernel_registry.h"
#include "core/model_impl.h"
#include "core/onnx_loader.h"
#include "core/optimizer/optimizer.h"
#include "inferd/error.h"

namespace inferd {
namespace {

TensorInfo describe_value(const Value& v) {
  TensorInfo info;
  info.name = v.name;
  info.dtype = v.dtype;
  info.has_shape = v.has_shape;
  for (const Dim& d : v.dims) {
    info.dims.push_back(d.value);
    info.dim_names.push_back(d.param);
  }
  return info;
}

size_t constant_bytes(const Graph& graph) {
  size_t bytes = 0;
  for (const auto& [id, tensor] : graph.constants) bytes += tensor.nbytes();
  return bytes;
}

std::string list_unsupported(const std::vector<UnsupportedOp>& ops) {
  std::string out;
  for (const UnsupportedOp& op : ops) {
    out += out.empty() ? "" : ", ";
    out += (op.domain.empty() ? "" : op.domain + ".") + op.op_type + " (opset " + std::to_string(op.opset) +
           ", node '" + op.node_name + "')";
  }
  return out;
}

std::unique_ptr<ModelImpl> build(OnnxModel onnx, const Backend& backend, bool optimize, bool is_subgraph) {
  auto impl = std::make_unique<ModelImpl>();
  impl->opset = static_cast<int>(onnx.onnx_opset());
  impl->backend = &backend;
  impl->onnx = std::move(onnx);
  Graph& graph = impl->onnx.graph;

  const std::vector<UnsupportedOp> unsupported = find_unsupported_ops(impl->onnx, *impl->backend);
  if (!unsupported.empty())
    fail(ErrorKind::unsupported, "model uses ", unsupported.size(), " unsupported op",
         unsupported.size() == 1 ? "" : "s", ": ", list_unsupported(unsupported));

  fold_constants(graph, impl->opset);
  if (optimize) {
    optimize_graph(graph, impl->opset);
    fold_constants(graph, impl->opset);  // rewrites may leave new initializer-only nodes
  }

  for (ValueId id : graph.inputs) impl->inputs.push_back(describe_value(graph.value(id)));
  for (ValueId id : graph.outputs) impl->outputs.push_back(describe_value(graph.value(id)));
  // A subgraph's inputs take whatever shapes the enclosing graph feeds (a Loop's carried values may
  // grow from one iteration to the next).
  if (is_subgraph)
    for (TensorInfo& info : impl->inputs) info.has_shape = false;

  for (const Node& node : graph.nodes) {
    impl->schemas.push_back(SchemaRegistry::instance().find(node.domain, node.op_type, impl->opset));
    KernelInit init{node, impl->opset, {}, {}};
    for (ValueId in : node.inputs) init.constant_inputs.push_back(in == kNoValue ? nullptr : graph.constant(in));
    for (const Graph* sub : subgraphs_of(node))
      init.subgraphs.push_back(build_subgraph_model(*sub, impl->onnx, backend, optimize));
    impl->kernels.push_back(impl->backend->create_kernel(init));
  }
  impl->weight_bytes = constant_bytes(graph);
  return impl;
}

}  // namespace

namespace {

void collect_unsupported(const Graph& graph, const OnnxModel& model, const Backend& backend,
                         std::vector<UnsupportedOp>& out) {
  for (const Node& node : graph.nodes) {
    auto it = model.opsets.find(node.domain);
    const int opset = static_cast<int>(it == model.opsets.end() ? 1 : it->second);
    if (!SchemaRegistry::instance().find(node.domain, node.op_type, opset) ||
        !backend.supports(node.domain, node.op_type, opset))
      out.push_back({node.domain, node.op_type, node.name, opset});
    for (const Graph* sub : subgraphs_of(node)) collect_unsupported(*sub, model, backend, out);
  }
}

}  // namespace

std::vector<UnsupportedOp> find_unsupported_ops(const OnnxModel& model, const Backend& backend) {
  std::vector<UnsupportedOp> out;
  collect_unsupported(model.graph, model, backend, out);
  return out;
}

std::shared_ptr<const ModelImpl> build_subgraph_model(const Graph& subgraph, const OnnxModel& parent,
                                                      const Backend& backend, bool optimize) {
  OnnxModel onnx;
  onnx.ir_version = parent.ir_version;
  onnx.opsets = parent.opsets;
  onnx.graph = subgraph;
  for (const std::string& name : outer_references(subgraph)) onnx.graph.inputs.push_back(onnx.graph.value_id(name));
  return build(std::move(onnx), backend, optimize, true);
}

Model::Model(std::unique_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load_file(const std::string& path, const ModelOptions& options) {
  OnnxModel onnx = load_onnx_file(path);
  const Backend& backend = select_backend(options.provider, onnx, options.cpu_fallback);
  return std::shared_ptr<const Model>(new Model(build(std::move(onnx), backend, options.optimize, false)));
}

std::shared_ptr<const Model> Model::load_bytes(const void* data, size_t size, const ModelOptions& options) {
  OnnxModel onnx = load_onnx_bytes(static_cast<const uint8_t*>(data), size, options.external_data_dir);
  const Backend& backend = select_backend(options.provider, onnx, options.cpu_fallback);
  return std::shared_ptr<const Model>(new Model(build(std::move(onnx), backend, options.optimize, false)));
}

Model::Inspection Model::inspect_file(const std::string& path, const ModelOptions& options) {
  const OnnxModel onnx = load_onnx_file(path);
  Inspection out;
  for (ValueId id : onnx.graph.inputs) out.inputs.push_back(describe_value(onnx.graph.value(id)));
  for (ValueId id : onnx.graph.outputs) out.outputs.push_back(describe_value(onnx.graph.value(id)));
  out.opsets = onnx.opsets;
  for (const Node& node : onnx.graph.nodes) ++out.op_census[node.op_type];
  out.unsupported = find_unsupported_ops(onnx, cpu_backend());
  out.ir_version = onnx.ir_version;
  out.producer = onnx.producer_name + (onnx.producer_version.empty() ? "" : " " + onnx.producer_version);
  out.weight_bytes = constant_bytes(onnx.graph);
  return out;
}

const std::vector<TensorInfo>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return impl_->outputs; }
int64_t Model::opset() const { return impl_->opset; }
size_t Model::weight_bytes() const { return impl_->weight_bytes; }
size_t Model::node_count() const { return impl_->graph().nodes.size(); }
const char* Model::provider() const { return impl_->backend->name(); }

}  // namespace inferd
