// Planning a run: shape inference in node order with concrete input shapes, folding of nodes whose
// inputs become known (shape arithmetic), placement of every value, and the static memory plan. A node
// whose shapes need data only a run produces ends the plan as a segment (see plan.h).
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
// A computed value that decides shapes keys the continuation planned for it; past this size, keying
// plans by contents stops making sense.
constexpr size_t kMaxWatchedValueBytes = 1 << 16;

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

bool has_subgraphs(const Node& node) { return !subgraphs_of(node).empty(); }

// Builds one segment: shapes the nodes from plan.next_node on, then lays out memory and steps.
class SegmentPlanner {
 public:
  SegmentPlanner(const ModelImpl& model, Plan& plan) : model_(model), graph_(model.graph()), plan_(plan) {}

  void run() {
    shape_nodes();
    place_outputs();
    plan_arena();
    flatten_steps();
  }

 private:
  void shape_nodes() {
    std::vector<DType> dtypes, out_dtypes;
    std::vector<const Shape*> shapes;
    std::vector<const Tensor*> values;
    std::vector<Shape> out_shapes;
    std::vector<Tensor> out_values;
    for (size_t k = plan_.next_node; k < graph_.nodes.size(); ++k) {
      const Node& node = graph_.nodes[k];
      const size_t n_in = node.inputs.size();
      dtypes.assign(n_in, DType::undefined);
      shapes.assign(n_in, nullptr);
      values.assign(n_in, nullptr);
      bool inputs_known = n_in > 0;
      for (size_t i = 0; i < n_in; ++i) {
        const ValueId id = node.inputs[i];
        if (id == kNoValue) continue;
        const Tensor* t = plan_.tensors[static_cast<size_t>(id)];
        if (!t) fail(ErrorKind::runtime, node.label(), ": input '", graph_.value(id).name, "' has no producer");
        dtypes[i] = t->dtype;
        shapes[i] = &t->shape;
        values[i] = plan_.known[static_cast<size_t>(id)];
        inputs_known = inputs_known && values[i] != nullptr;
      }
      bool data_dependent = false;
      try {
        infer_node(node, *model_.schemas[k], model_.opset, dtypes, shapes, values, &out_dtypes, &out_shapes,
                   &out_values, &data_dependent);
      } catch (RuntimeValueRequired& e) {
        const ValueId id = e.node_input < n_in ? node.inputs[e.node_input] : kNoValue;
        if (id == kNoValue) throw;
        const size_t v = static_cast<size_t>(id);
        const size_t bytes = plan_.tensors[v]->nbytes();
        // A small model input: the session plans again with its value in the plan's key, which keeps
        // the plan in one piece.
        if (plan_.placement[v] == Placement::caller_input && bytes <= kMaxKeyedInputBytes) {
          e.graph_input = plan_.caller_index[v];
          throw;
        }
        if (bytes > kMaxWatchedValueBytes) throw;
        plan_.watch_values.push_back(id);
        pause(node, k);
        return;
      }

      std::vector<ValueId> outs = node.outputs;
      for (ValueId& out : outs)
        if (out == kNoValue) out = static_cast<ValueId>(plan_.next_scratch++);

      if (data_dependent && inputs_known && !has_subgraphs(node)) {
        // NonZero of a constant: its result is as constant as its input.
        out_values = evaluate_node(node, *model_.schemas[k], model_.opset, values);
        keep_known(outs, out_values);
        continue;
      }
      if (data_dependent) {
        for (size_t i = 0; i < outs.size(); ++i) {
          const size_t v = static_cast<size_t>(outs[i]);
          plan_.values[v] = Tensor::view(out_dtypes[i], std::move(out_shapes[i]), nullptr);
          plan_.placement[v] = Placement::dynamic;
          plan_.tensors[v] = &plan_.values[v];
          plan_.dynamic_outputs.push_back(DynamicOutput{&plan_.values[v], nullptr});
          plan_.watch_shapes.push_back(outs[i]);
        }
        add_step(k, std::move(outs), true);
        pause(node, k + 1);
        return;
      }

      bool outputs_known = true;
      int64_t out_elements = 0;
      for (size_t i = 0; i < outs.size(); ++i) {
        outputs_known = outputs_known && out_values[i].dtype != DType::undefined;
        out_elements += shape_size(out_shapes[i]);
      }
      if (!outputs_known && inputs_known && out_elements <= kPlanTimeFoldLimit && !has_subgraphs(node)) {
        out_values = evaluate_node(node, *model_.schemas[k], model_.opset, values);
        outputs_known = true;
      }
      if (outputs_known) {
        keep_known(outs, out_values);
        continue;
      }
      for (size_t i = 0; i < outs.size(); ++i) {
        const size_t v = static_cast<size_t>(outs[i]);
        plan_.values[v] = Tensor::view(out_dtypes[i], std::move(out_shapes[i]), nullptr);
        plan_.placement[v] = Placement::arena;
        plan_.tensors[v] = &plan_.values[v];
      }
      add_step(k, std::move(outs), false);
    }
    plan_.next_node = graph_.nodes.size();
  }

  void keep_known(const std::vector<ValueId>& outs, std::vector<Tensor>& out_values) {
    for (size_t i = 0; i < outs.size(); ++i) {
      plan_.owned.push_back(std::move(out_values[i]));
      const Tensor& t = plan_.owned.back();
      const size_t v = static_cast<size_t>(outs[i]);
      plan_.values[v] = Tensor::view(t.dtype, t.shape, t.data);
      plan_.placement[v] = Placement::constant;
      plan_.tensors[v] = &plan_.values[v];
      plan_.known[v] = &t;
    }
  }

  void add_step(size_t k, std::vector<ValueId> outs, bool data_dependent) {
    step_node_.push_back(k);
    step_outputs_.push_back(std::move(outs));
    step_data_dependent_.push_back(data_dependent);
  }

  void pause(const Node& node, size_t next) {
    plan_.paused_at = &node;
    plan_.next_node = next;
  }

  // A complete plan's graph outputs go straight into the caller's buffers when a step of this segment
  // writes them; the rest are copied (or, with owned outputs, read where they are).
  void place_outputs() {
    if (!plan_.complete()) return;
    for (size_t j = 0; j < graph_.outputs.size(); ++j) {
      const size_t v = static_cast<size_t>(graph_.outputs[j]);
      const Tensor* t = plan_.tensors[v];
      if (!t) fail(ErrorKind::runtime, "graph output '", graph_.value(graph_.outputs[j]).name, "' was never computed");
      if (plan_.placement[v] == Placement::arena && !plan_.owned_outputs) {
        plan_.placement[v] = Placement::caller_output;
        plan_.caller_index[v] = static_cast<int>(j);
        plan_.output_bindings.emplace_back(graph_.outputs[j], static_cast<int>(j));
      } else {
        plan_.output_copies.emplace_back(t, static_cast<int>(j));
      }
      plan_.output_shapes.push_back(t->shape);
      plan_.output_dtypes.push_back(t->dtype);
    }
  }

  // Lifetimes of this segment's arena values, in steps, then the memory plan. A value that outlives
  // the segment (read by a later segment, or an output the session hands back) lives to its end.
  void plan_arena() {
    const size_t value_count = plan_.values.size();
    std::vector<int> first(value_count, -1), last(value_count, -1);
    for (size_t s = 0; s < step_node_.size(); ++s) {
      for (ValueId out : step_outputs_[s])
        first[static_cast<size_t>(out)] = last[static_cast<size_t>(out)] = static_cast<int>(s);
      for (ValueId in : graph_.nodes[step_node_[s]].inputs)
        if (in != kNoValue) last[static_cast<size_t>(in)] = std::max(last[static_cast<size_t>(in)], static_cast<int>(s));
    }
    const int end = static_cast<int>(step_node_.size());
    auto outlive = [&](ValueId id) {
      if (id != kNoValue && plan_.placement[static_cast<size_t>(id)] == Placement::arena) last[static_cast<size_t>(id)] = end;
    };
    if (!plan_.complete()) {
      for (size_t k = plan_.next_node; k < graph_.nodes.size(); ++k)
        for (ValueId in : graph_.nodes[k].inputs) outlive(in);
      for (ValueId id : plan_.watch_values) outlive(id);
    }
    if (!plan_.complete() || plan_.owned_outputs)
      for (ValueId out : graph_.outputs) outlive(out);

    std::vector<BufferRequest> requests;
    std::vector<ValueId> request_values;
    for (size_t v = 0; v < value_count; ++v) {
      if (plan_.placement[v] != Placement::arena) continue;
      requests.push_back({plan_.values[v].nbytes(), first[v], last[v], 0});
      request_values.push_back(static_cast<ValueId>(v));
    }
    plan_.arena_bytes = plan_memory(requests);
    for (size_t r = 0; r < requests.size(); ++r) {
      plan_.arena_offset[static_cast<size_t>(request_values[r])] = requests[r].offset;
      plan_.arena_values.push_back(request_values[r]);
    }
  }

  // Steps, with their tensors' addresses flattened once.
  void flatten_steps() {
    for (size_t s = 0; s < step_node_.size(); ++s) {
      const Node& node = graph_.nodes[step_node_[s]];
      Step step;
      step.node = &node;
      step.kernel = model_.kernels[step_node_[s]].get();
      step.data_dependent = step_data_dependent_[s];
      step.first_input = plan_.step_inputs.size();
      for (ValueId in : node.inputs)
        plan_.step_inputs.push_back(in == kNoValue ? nullptr : plan_.tensors[static_cast<size_t>(in)]);
      step.input_count = node.inputs.size();
      step.first_output = plan_.step_outputs.size();
      for (ValueId out : step_outputs_[s]) plan_.step_outputs.push_back(plan_.tensors[static_cast<size_t>(out)]);
      step.output_count = step_outputs_[s].size();
      plan_.steps.push_back(step);
    }
  }

  const ModelImpl& model_;
  const Graph& graph_;
  Plan& plan_;
  std::vector<size_t> step_node_;
  std::vector<std::vector<ValueId>> step_outputs_;
  std::vector<char> step_data_dependent_;
};

// Sizes a plan's per-value tables: the graph's values plus a scratch slot for every optional output
// a node leaves unnamed (sized up front so that pointers into `values` stay valid).
void size_tables(const Graph& graph, Plan& plan) {
  size_t scratch = 0;
  for (const Node& node : graph.nodes)
    for (ValueId out : node.outputs) scratch += out == kNoValue;
  const size_t value_count = graph.values.size() + scratch;
  plan.values.resize(value_count);
  plan.placement.assign(value_count, Placement::unused);
  plan.arena_offset.assign(value_count, 0);
  plan.caller_index.assign(value_count, -1);
}

}  // namespace

std::unique_ptr<Plan> make_plan(const ModelImpl& model, const std::vector<Shape>& input_shapes,
                                const std::vector<const TensorRef*>& input_values,
                                const std::vector<DType>& input_dtypes, bool owned_outputs) {
  check_input_shapes(model, input_shapes);
  const Graph& graph = model.graph();
  auto plan = std::make_unique<Plan>();
  plan->input_shapes = input_shapes;
  plan->owned_outputs = owned_outputs;
  size_tables(graph, *plan);
  plan->tensors.assign(plan->values.size(), nullptr);
  plan->known.assign(plan->values.size(), nullptr);
  plan->next_scratch = graph.values.size();

  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const ValueId id = graph.inputs[i];
    const size_t v = static_cast<size_t>(id);
    const DType dtype = i < input_dtypes.size() ? input_dtypes[i] : graph.value(id).dtype;
    plan->input_dtypes.push_back(dtype);
    plan->values[v] = Tensor::view(dtype, input_shapes[i], nullptr);
    plan->placement[v] = Placement::caller_input;
    plan->caller_index[v] = static_cast<int>(i);
    plan->tensors[v] = &plan->values[v];
    plan->input_values.push_back(id);
    if (i < input_values.size() && input_values[i]) {
      const TensorRef& ref = *input_values[i];
      plan->owned.push_back(Tensor::allocate(ref.dtype, input_shapes[i]));
      Tensor& copy = plan->owned.back();
      if (copy.nbytes() > 0) std::memcpy(copy.data, ref.data, copy.nbytes());
      plan->known[v] = &copy;
      plan->keyed_values.emplace_back(static_cast<int>(i), &copy);
    }
  }
  for (const auto& [id, tensor] : graph.constants) {
    const size_t v = static_cast<size_t>(id);
    plan->values[v] = Tensor::view(tensor.dtype, tensor.shape, tensor.data);
    plan->placement[v] = Placement::constant;
    plan->tensors[v] = &plan->values[v];
    plan->known[v] = &tensor;
  }

  SegmentPlanner(model, *plan).run();
  return plan;
}

Plan::Continuation make_continuation(const ModelImpl& model, const Plan& parent) {
  Plan::Continuation c;
  c.plan = std::make_unique<Plan>();
  Plan& plan = *c.plan;
  size_tables(model.graph(), plan);
  plan.owned_outputs = parent.owned_outputs;
  plan.depth = parent.depth + 1;
  plan.next_node = parent.next_node;
  plan.next_scratch = parent.next_scratch;
  plan.tensors = parent.tensors;
  plan.known = parent.known;
  for (size_t v = 0; v < parent.placement.size(); ++v)
    if (parent.placement[v] != Placement::unused) plan.placement[v] = Placement::earlier;

  for (ValueId id : parent.watch_shapes) c.shapes.push_back(parent.tensors[static_cast<size_t>(id)]->shape);
  for (ValueId id : parent.watch_values) {
    const Tensor& now = *parent.tensors[static_cast<size_t>(id)];
    plan.owned.push_back(Tensor::allocate(now.dtype, now.shape));
    Tensor& copy = plan.owned.back();
    if (copy.nbytes() > 0) std::memcpy(copy.data, now.data, copy.nbytes());
    plan.known[static_cast<size_t>(id)] = &copy;
    c.values.push_back(copy);
  }

  SegmentPlanner(model, plan).run();
  return c;
}

bool continuation_matches(const Plan& parent, const Plan::Continuation& c) {
  for (size_t i = 0; i < parent.watch_shapes.size(); ++i)
    if (parent.tensors[static_cast<size_t>(parent.watch_shapes[i])]->shape != c.shapes[i]) return false;
  for (size_t i = 0; i < parent.watch_values.size(); ++i) {
    const Tensor& now = *parent.tensors[static_cast<size_t>(parent.watch_values[i])];
    const Tensor& seen = c.values[i];
    if (now.dtype != seen.dtype || now.shape != seen.shape ||
        (seen.nbytes() > 0 && std::memcmp(now.data, seen.data, seen.nbytes()) != 0))
      return false;
  }
  return true;
}

}  // namespace inferd
