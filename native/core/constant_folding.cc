#include "core/constant_folding.h"

#include <unordered_map>

#include "core/kernel_registry.h"
#include "core/thread_pool.h"

namespace inferd {
namespace {

// Evaluating a data-dependent node (NonZero of a constant) once: its outputs own their memory.
class OwningScope final : public RunScope {
 public:
  void allocate_output(Tensor& output, const int64_t* dims, size_t rank) override {
    output = Tensor::allocate(output.dtype, Shape(dims, dims + rank));
  }
  const std::vector<Tensor>& run_subgraph(const ModelImpl&, const Tensor* const*, size_t) override {
    fail(ErrorKind::runtime, "subgraphs are not evaluated while folding constants");
  }
  std::shared_ptr<void>& kernel_state(const void* owner) override { return states_[owner]; }
  void* scratch(const void*, int, size_t bytes) override {
    buffers_.push_back(std::make_unique<AlignedBuffer>(bytes));
    return buffers_.back()->data();
  }

 private:
  std::vector<std::unique_ptr<AlignedBuffer>> buffers_;
  std::unordered_map<const void*, std::shared_ptr<void>> states_;
};

}  // namespace

void infer_node(const Node& node, const OpSchema& schema, int opset, const std::vector<DType>& dtypes,
                const std::vector<const Shape*>& shapes, const std::vector<const Tensor*>& values,
                std::vector<DType>* output_dtypes, std::vector<Shape>* output_shapes,
                std::vector<Tensor>* output_values, bool* data_dependent) {
  const size_t outs = node.outputs.size();
  output_dtypes->assign(outs, DType::undefined);
  output_shapes->assign(outs, Shape{});
  output_values->assign(outs, Tensor{});
  ShapeContext ctx(node, opset, dtypes.data(), shapes.data(), values.data(), node.inputs.size(),
                   output_dtypes->data(), output_shapes->data(), output_values->data(), outs);
  schema.infer(ctx);
  if (data_dependent) *data_dependent = ctx.data_dependent();
  for (size_t i = 0; i < outs; ++i)
    if ((*output_dtypes)[i] == DType::undefined && node.outputs[i] != kNoValue && !ctx.data_dependent())
      fail(ErrorKind::runtime, node.label(), ": shape inference gave no type for output ", i);
}

std::vector<Tensor> evaluate_node(const Node& node, const OpSchema& schema, int opset,
                                  const std::vector<const Tensor*>& inputs) {
  const size_t n_in = node.inputs.size();
  std::vector<DType> dtypes(n_in, DType::undefined);
  std::vector<const Shape*> shapes(n_in, nullptr);
  for (size_t i = 0; i < n_in; ++i)
    if (inputs[i]) {
      dtypes[i] = inputs[i]->dtype;
      shapes[i] = &inputs[i]->shape;
    }
  std::vector<DType> out_dtypes;
  std::vector<Shape> out_shapes;
  std::vector<Tensor> out_values;
  bool data_dependent = false;
  infer_node(node, schema, opset, dtypes, shapes, inputs, &out_dtypes, &out_shapes, &out_values, &data_dependent);

  bool all_known = true;
  for (size_t i = 0; i < out_values.size(); ++i)
    if (out_values[i].dtype == DType::undefined) all_known = false;
  if (all_known) return out_values;

  std::vector<Tensor> outputs(node.outputs.size());
  std::vector<Tensor*> output_ptrs(node.outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i] = data_dependent ? Tensor{out_dtypes[i], {}, nullptr, nullptr} : Tensor::allocate(out_dtypes[i], out_shapes[i]);
    output_ptrs[i] = &outputs[i];
  }
  OwningScope scope;
  KernelInit init{node, opset, inputs};
  const std::unique_ptr<Kernel> kernel = cpu_backend().create_kernel(init);
  ThreadPool pool(1);
  KernelContext ctx;
  ctx.inputs = inputs.data();
  ctx.input_count = inputs.size();
  ctx.outputs = output_ptrs.data();
  ctx.output_count = output_ptrs.size();
  ctx.threads = &pool;
  ctx.scope = &scope;
  kernel->run(ctx);
  return outputs;
}

void fold_constants(Graph& graph, int opset) {
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (Node& node : graph.nodes) {
    bool foldable = !node.outputs.empty();
    std::vector<const Tensor*> inputs(node.inputs.size(), nullptr);
    for (size_t i = 0; i < node.inputs.size() && foldable; ++i) {
      if (node.inputs[i] == kNoValue) continue;
      inputs[i] = graph.constant(node.inputs[i]);
      if (!inputs[i]) foldable = false;
    }
    const OpSchema* schema = SchemaRegistry::instance().find(node.domain, node.op_type, opset);
    if (!foldable || !schema || !subgraphs_of(node).empty()) {
      kept.push_back(std::move(node));
      continue;
    }
    std::vector<Tensor> outputs = evaluate_node(node, *schema, opset, inputs);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const ValueId id = node.outputs[i];
      if (id == kNoValue) continue;
      graph.value(id).is_constant = true;
      graph.constants[id] = std::move(outputs[i]);
    }
  }
  graph.nodes = std::move(kept);
  graph.index_producers();
  // Drop constants nothing reads any more (e.g. the weight a folded Transpose consumed).
  std::vector<char> used(graph.values.size(), 0);
  for (const Node& node : graph.nodes)
    for (ValueId in : node.inputs)
      if (in != kNoValue) used[static_cast<size_t>(in)] = 1;
  for (ValueId out : graph.outputs) used[static_cast<size_t>(out)] = 1;
  for (auto it = graph.constants.begin(); it != graph.constants.end();)
    it = used[static_cast<size_t>(it->first)] ? std::next(it) : graph.constants.erase(it);
}

}  // namespace inferd
