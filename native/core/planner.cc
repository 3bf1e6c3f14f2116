// Planning a run: shape inference in node order with concrete input shapes, folding of nodes whose
// inputs become known (shape arithmetic), placement of every value, and the static memory plan.
#include <algorithm>
#include <cstring>

#include "core/constant_folding.h"
#include "core/memory_plan.h"
#include "core/plan.h"
#include "inferd/error.h"

namespace inferd {
namespace {

// Nodes whose inputs are all known at plan time are evaluated then, unless their result is large:
// plan-time work is meant for shape arithmetic, not for computing activations.
constexpr int64_t kPlanTimeFoldLimit = 1 << 16;

void check_input_shapes(const ModelImpl& model, const std::vector<Shape>& shapes) {
  if (shapes.size() != model.inputs.size())
    fail(ErrorKind::invalid_argument, "the model takes ", model.inputs.size(), " inputs, got ", shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const TensorInfo& info = model.inputs[i];
    const Shape& shape = shapes[i];
    for (size_t d = 0; d < shape.size(); ++d)
      if (shape[d] < 0)
        fail(ErrorKind::out_of_range, "input '", info.name, "': dimension ", d, " is negative (", shape[d], ")");
    if (!info.has_shape) continue;
    if (shape.size() != info.dims.size())
      fail(ErrorKind::out_of_range, "input '", info.name, "' must have rank ", info.dims.size(), ", got shape ",
           shape_to_string(shape));
    for (size_t d = 0; d < shape.size(); ++d)
      if (info.dims[d] >= 0 && info.dims[d] != shape[d])
        fail(ErrorKind::out_of_range, "input '", info.name, "': dimension ", d, " must be ", info.dims[d], ", got ",
             shape[d], " (shape ", shape_to_string(shape), ")");
  }
}

}  // namespace

std::unique_ptr<Plan> make_plan(const ModelImpl& model, const std::vector<Shape>& input_shapes,
                                const std::vector<const TensorRef*>& input_values) {
  check_input_shapes(model, input_shapes);
  const Graph& graph = model.graph();
  auto plan = std::make_unique<Plan>();
  plan->input_shapes = input_shapes;

  // Optional outputs a model leaves unnamed still need somewhere to be written: scratch slots after
  // the graph's own values. Sized up front so that Tensor pointers into `values` stay valid.
  size_t scratch = 0;
  for (const Node& node : graph.nodes)
    for (ValueId out : node.outputs) scratch += out == kNoValue;
  const size_t value_count = graph.values.size() + scratch;
  plan->values.resize(value_count);
  plan->placement.assign(value_count, Placement::unused);
  plan->arena_offset.assign(value_count, 0);
  plan->caller_index.assign(value_count, -1);
  std::vector<const Tensor*> known(value_count, nullptr);

  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const ValueId id = graph.inputs[i];
    const DType declared = graph.value(id).dtype;
    plan->values[static_cast<size_t>(id)] = Tensor::view(declared, input_shapes[i], nullptr);
    plan->placement[static_cast<size_t>(id)] = Placement::caller_input;
    plan->caller_index[static_cast<size_t>(id)] = static_cast<int>(i);
    plan->input_values.push_back(id);
    if (i < input_values.size() && input_values[i]) {
      const TensorRef& ref = *input_values[i];
      plan->owned.push_back(Tensor::allocate(ref.dtype, input_shapes[i]));
      Tensor& copy = plan->owned.back();
      if (copy.nbytes() > 0) std::memcpy(copy.data, ref.data, copy.nbytes());
      known[static_cast<size_t>(id)] = &copy;
      plan->keyed_values.emplace_back(static_cast<int>(i), &copy);
    }
  }
  for (const auto& [id, tensor] : graph.constants) {
    plan->values[static_cast<size_t>(id)] = Tensor::view(tensor.dtype, tensor.shape, tensor.data);
    plan->placement[static_cast<size_t>(id)] = Placement::constant;
    known[static_cast<size_t>(id)] = &tensor;
  }

  // Shape inference and placement, node by node.
  std::vector<std::vector<ValueId>> step_outputs_ids;
  std::vector<size_t> step_node;
  size_t next_scratch = graph.values.size();
  std::vector<DType> dtypes;
  std::vector<const Shape*> shapes;
  std::vector<const Tensor*> values;
  std::vector<DType> out_dtypes;
  std::vector<Shape> out_shapes;
  std::vector<Tensor> out_values;
  for (size_t k = 0; k < graph.nodes.size(); ++k) {
    const Node& node = graph.nodes[k];
    const size_t n_in = node.inputs.size();
    dtypes.assign(n_in, DType::undefined);
    shapes.assign(n_in, nullptr);
    values.assign(n_in, nullptr);
    bool inputs_known = n_in > 0;
    for (size_t i = 0; i < n_in; ++i) {
      const ValueId id = node.inputs[i];
      if (id == kNoValue) continue;
      const Tensor& t = plan->values[static_cast<size_t>(id)];
      dtypes[i] = t.dtype;
      shapes[i] = &t.shape;
      values[i] = known[static_cast<size_t>(id)];
      inputs_known = inputs_known && values[i] != nullptr;
    }
    try {
      infer_node(node, *model.schemas[k], model.opset, dtypes, shapes, values, &out_dtypes, &out_shapes, &out_values);
    } catch (RuntimeValueRequired& e) {
      // Say which model input the value came from, so the session can plan with its value.
      const ValueId id = e.node_input < n_in ? node.inputs[e.node_input] : kNoValue;
      if (id != kNoValue && plan->placement[static_cast<size_t>(id)] == Placement::caller_input)
        e.graph_input = plan->caller_index[static_cast<size_t>(id)];
      throw;
    }

    std::vector<ValueId> outs = node.outputs;
    for (ValueId& out : outs)
      if (out == kNoValue) out = static_cast<ValueId>(next_scratch++);

    bool outputs_known = true;
    int64_t out_elements = 0;
    for (size_t i = 0; i < outs.size(); ++i) {
      outputs_known = outputs_known && out_values[i].dtype != DType::undefined;
      out_elements += shape_size(out_shapes[i]);
    }
    if (!outputs_known && inputs_known && out_elements <= kPlanTimeFoldLimit) {
      out_values = evaluate_node(node, *model.schemas[k], model.opset, values);
      outputs_known = true;
    }
    if (outputs_known) {
      for (size_t i = 0; i < outs.size(); ++i) {
        plan->owned.push_back(std::move(out_values[i]));
        const Tensor& t = plan->owned.back();
        plan->values[static_cast<size_t>(outs[i])] = Tensor::view(t.dtype, t.shape, t.data);
        plan->placement[static_cast<size_t>(outs[i])] = Placement::constant;
        known[static_cast<size_t>(outs[i])] = &t;
      }
      continue;
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      plan->values[static_cast<size_t>(outs[i])] = Tensor::view(out_dtypes[i], std::move(out_shapes[i]), nullptr);
      plan->placement[static_cast<size_t>(outs[i])] = Placement::arena;
    }
    step_node.push_back(k);
    step_outputs_ids.push_back(std::move(outs));
  }

  // Graph outputs a step writes go straight into the caller's buffers; the rest are copied.
  for (size_t j = 0; j < graph.outputs.size(); ++j) {
    const ValueId id = graph.outputs[j];
    const size_t v = static_cast<size_t>(id);
    if (plan->placement[v] == Placement::arena) {
      plan->placement[v] = Placement::caller_output;
      plan->caller_index[v] = static_cast<int>(j);
      plan->output_bindings.emplace_back(id, static_cast<int>(j));
    } else {
      plan->output_copies.emplace_back(id, static_cast<int>(j));
    }
    plan->output_shapes.push_back(plan->values[v].shape);
    plan->output_dtypes.push_back(plan->values[v].dtype);
  }

  // Lifetimes of arena values, in steps, then the memory plan.
  std::vector<int> first(value_count, -1), last(value_count, -1);
  for (size_t s = 0; s < step_node.size(); ++s) {
    for (ValueId out : step_outputs_ids[s]) first[static_cast<size_t>(out)] = last[static_cast<size_t>(out)] = static_cast<int>(s);
    for (ValueId in : graph.nodes[step_node[s]].inputs)
      if (in != kNoValue) last[static_cast<size_t>(in)] = std::max(last[static_cast<size_t>(in)], static_cast<int>(s));
  }
  std::vector<BufferRequest> requests;
  std::vector<ValueId> request_values;
  for (size_t v = 0; v < value_count; ++v) {
    if (plan->placement[v] != Placement::arena) continue;
    requests.push_back({plan->values[v].nbytes(), first[v], last[v], 0});
    request_values.push_back(static_cast<ValueId>(v));
  }
  plan->arena_bytes = plan_memory(requests);
  for (size_t r = 0; r < requests.size(); ++r) {
    plan->arena_offset[static_cast<size_t>(request_values[r])] = requests[r].offset;
    plan->arena_values.push_back(request_values[r]);
  }

  // Steps, with their tensors' addresses flattened once.
  for (size_t s = 0; s < step_node.size(); ++s) {
    const Node& node = graph.nodes[step_node[s]];
    Step step;
    step.node = &node;
    step.kernel = model.kernels[step_node[s]].get();
    step.first_input = plan->step_inputs.size();
    for (ValueId in : node.inputs)
      plan->step_inputs.push_back(in == kNoValue ? nullptr : &plan->values[static_cast<size_t>(in)]);
    step.input_count = node.inputs.size();
    step.first_output = plan->step_outputs.size();
    for (ValueId out : step_outputs_ids[s]) plan->step_outputs.push_back(&plan->values[static_cast<size_t>(out)]);
    step.output_count = step_outputs_ids[s].size();
    plan->steps.push_back(step);
  }
  return plan;
}

}  // namespace inferd
