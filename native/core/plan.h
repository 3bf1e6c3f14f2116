// A Plan: everything about a run that depends on input shapes, worked out once per combination of
// shapes. After planning, a run only binds pointers (caller inputs, caller outputs, arena offsets) and
// calls the steps' kernels in order.
//
// Most models plan in one piece. A node whose output sizes follow from computed data (NonZero, If,
// Loop) or whose shapes need a computed value (a Reshape fed by arithmetic on data) ends the plan
// early: the plan is a *segment*, and what follows is planned at run time, once that data exists, as a
// continuation cached under what was observed (the outputs' shapes, or the needed values). A chain of
// segments runs like one plan; each segment's intermediates live in their own arena (by depth), so a
// later segment can read what an earlier one left.
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
  bool data_dependent = false;                // the kernel sizes its outputs (through the RunScope)
};

// Where a value lives during a run. `earlier`: held by an earlier segment of the chain (see above).
// `dynamic`: sized by its kernel at run time, in memory the segment keeps for it.
enum class Placement { unused, caller_input, constant, arena, caller_output, earlier, dynamic };

// Memory a data-dependent step's output is written to; grown only when a run needs more.
struct DynamicOutput {
  Tensor* tensor = nullptr;
  std::unique_ptr<AlignedBuffer> storage;
};

struct Plan {
  // The key this plan was made for: input shapes and types…
  std::vector<Shape> input_shapes;
  std::vector<DType> input_dtypes;
  // …with these inputs' values (see make_plan)…
  std::vector<std::pair<int, const Tensor*>> keyed_values;
  // …and whether graph outputs stay in the session's memory (true) or go to the caller's buffers.
  bool owned_outputs = false;

  std::vector<Tensor> values;                 // one per graph value (plus scratch outputs) this segment holds
  std::vector<Tensor*> tensors;               // per value: the Tensor holding it at run time (here or earlier)
  std::vector<const Tensor*> known;           // per value: its contents when known at plan time
  std::vector<Placement> placement;           // per entry of `values`
  std::vector<size_t> arena_offset;           // per entry of `values`, when placement == arena
  std::vector<int> caller_index;              // input/output index, when placement is caller_*
  std::deque<Tensor> owned;                   // values computed at plan time (stable addresses)
  std::vector<Step> steps;
  std::vector<const Tensor*> step_inputs;     // flattened; nullptr for omitted optional inputs
  std::vector<Tensor*> step_outputs;          // flattened
  std::vector<ValueId> input_values;          // graph inputs, in order (the first segment only)
  std::vector<ValueId> arena_values;          // values bound to the arena at each run
  std::vector<DynamicOutput> dynamic_outputs;
  std::vector<std::pair<ValueId, int>> output_bindings;  // (value, output index) written in place
  // Graph outputs that no step writes into the caller's buffer (constants, graph inputs, outputs
  // listed twice, values of earlier segments): copied after the steps. Pairs of (tensor, output index).
  std::vector<std::pair<const Tensor*, int>> output_copies;
  std::vector<Shape> output_shapes;           // when complete() and no output is data-dependent
  std::vector<DType> output_dtypes;
  size_t arena_bytes = 0;

  // Segments.
  size_t depth = 0;                 // this segment's arena, counted from the chain's first segment
  size_t next_node = 0;             // the first graph node not planned here; the node count when complete
  size_t next_scratch = 0;          // next id for an unnamed optional output
  bool outputs_data_dependent = false;  // some graph output's shape is known only after a run
  std::vector<ValueId> watch_shapes;    // a paused segment's continuation depends on these shapes…
  std::vector<ValueId> watch_values;    // …and on these values
  const Node* paused_at = nullptr;      // the node that ended the segment, for messages
  struct Continuation {
    std::vector<Shape> shapes;          // of watch_shapes, as observed
    std::vector<Tensor> values;         // copies of watch_values, as observed
    std::unique_ptr<Plan> plan;
  };
  std::vector<Continuation> continuations;  // most recently used first

  bool complete() const { return paused_at == nullptr; }
};

// Model inputs up to this size whose values decide shapes become part of the plan's key (the plan
// stays in one piece); larger ones pause the plan like computed values do.
inline constexpr size_t kMaxKeyedInputBytes = 1024;

// Plans a run of `model` at these input shapes (one per model input, in order). Throws
// Error(out_of_range) naming the input and dimension when a shape contradicts the model.
// `input_values`, when given, has an entry per input: non-null entries are inputs whose values decide
// shapes (Reshape's shape fed by the caller); the plan copies them and is valid only for those values.
// `input_dtypes`, when given, are the inputs' element types (a subgraph's inputs may declare none).
std::unique_ptr<Plan> make_plan(const ModelImpl& model, const std::vector<Shape>& input_shapes,
                                const std::vector<const TensorRef*>& input_values = {},
                                const std::vector<DType>& input_dtypes = {}, bool owned_outputs = false);

// Plans what follows the paused segment `parent`, which has just run: its watched values hold this
// run's data, which the continuation is keyed by (and valid for).
Plan::Continuation make_continuation(const ModelImpl& model, const Plan& parent);

// Whether `continuation` was made for the data the paused `parent` holds now.
bool continuation_matches(const Plan& parent, const Plan::Continuation& continuation);

}  // namespace inferd
