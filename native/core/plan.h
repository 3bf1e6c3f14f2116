// A Plan: everything about a run that depends on input shapes, worked out once per combination of
// shapes. After planning, a run only binds pointers (caller inputs, caller outputs, arena offsets) and
// calls the steps' kernels in order.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "core/graph.h"
#include "core/kernel.h"
#include "core/model_impl.h"

namespace inferd {

struct Step {
  const Node* node = nullptr;
  const Kernel* kernel = nullptr;
  size_t first_input = 0, input_count = 0;    // range in Plan::step_inputs
  size_t first_output = 0, output_count = 0;  // range in Plan::step_outputs
};

enum class Placement { unused, caller_input, constant, arena, caller_output };

struct Plan {
  std::vector<Shape> input_shapes;            // the key this plan was made for…
  std::vector<std::pair<int, const Tensor*>> keyed_values;  // …with these inputs' values (see make_plan)
  std::vector<Tensor> values;                 // one per graph value (plus scratch outputs), shapes fixed
  std::vector<Placement> placement;           // per entry of `values`
  std::vector<size_t> arena_offset;           // per entry of `values`, when placement == arena
  std::vector<int> caller_index;              // input/output index, when placement is caller_*
  std::deque<Tensor> owned;                   // values computed at plan time (stable addresses)
  std::vector<Step> steps;
  std::vector<const Tensor*> step_inputs;     // flattened; nullptr for omitted optional inputs
  std::vector<Tensor*> step_outputs;          // flattened
  std::vector<ValueId> input_values;          // graph inputs, in order
  std::vector<ValueId> arena_values;          // values bound to the arena at each run
  std::vector<std::pair<ValueId, int>> output_bindings;  // (value, output index) written in place
  // Graph outputs that no step writes into the caller's buffer (constants, graph inputs, outputs
  // listed twice): copied after the steps. Pairs of (value, output index).
  std::vector<std::pair<ValueId, int>> output_copies;
  std::vector<Shape> output_shapes;
  std::vector<DType> output_dtypes;
  size_t arena_bytes = 0;
};

// Plans a run of `model` at these input shapes (one per model input, in order). Throws
// Error(out_of_range) naming the input and dimension when a shape contradicts the model.
// `input_values`, when given, has an entry per input: non-null entries are inputs whose values decide
// shapes (Reshape's shape fed by the caller); the plan copies them and is valid only for those values.
std::unique_ptr<Plan> make_plan(const ModelImpl& model, const std::vector<Shape>& input_shapes,
                                const std::vector<const TensorRef*>& input_values = {});

}  // namespace inferd
