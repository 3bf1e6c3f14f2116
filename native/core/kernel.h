// The contract between the executor and a backend's compute: a Kernel is made once per node when a
// model loads (so it may pre-pack weights), is shared by every thread, and runs on tensors whose
// shapes and memory the executor's plan has already fixed.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/graph.h"
#include "inferd/tensor.h"

namespace inferd {

class ThreadPool;
class ModelImpl;

// What the few kernels whose output sizes follow from their input data (NonZero, If, Loop) need from
// the session running them; other kernels never see it. Memory it hands out belongs to the session
// and is reused run after run, so a steady state allocates nothing.
class RunScope {
 public:
  virtual ~RunScope() = default;
  // Gives `output` (one of the step's outputs) this shape and memory for it.
  virtual void allocate_output(Tensor& output, const int64_t* dims, size_t rank) = 0;
  // Runs a subgraph (an If branch, a Loop body) on these inputs in a session kept beside this one;
  // its outputs stay in that session's memory until the subgraph runs again.
  virtual const std::vector<Tensor>& run_subgraph(const ModelImpl& subgraph, const Tensor* const* inputs,
                                                  size_t input_count) = 0;
  // An object `owner` (a kernel) keeps per session for its run's bookkeeping, made on its first run
  // and reused after (null until the kernel sets it).
  virtual std::shared_ptr<void>& kernel_state(const void* owner) = 0;
  // At least `bytes` of 64-byte aligned memory kept for (owner, slot) between calls and runs; its
  // contents survive, growth included (it grows at least twofold, so appending is amortised).
  virtual void* scratch(const void* owner, int slot, size_t bytes) = 0;
};

struct KernelContext {
  const Tensor* const* inputs = nullptr;  // nullptr entries for omitted optional inputs
  size_t input_count = 0;
  Tensor* const* outputs = nullptr;       // shapes set and memory assigned by the plan
  size_t output_count = 0;
  ThreadPool* threads = nullptr;          // never null while running
  RunScope* scope = nullptr;              // set for data-dependent kernels only

  bool has_input(size_t i) const { return i < input_count && inputs[i] != nullptr; }
  const Tensor& input(size_t i) const { return *inputs[i]; }
  Tensor& output(size_t i) const { return *outputs[i]; }
};

struct KernelInit {
  const Node& node;
  int opset;
  // Values of inputs that are constant for the model's life (initializers, folded), by input index;
  // nullptr for inputs computed at run time. Kernels may pre-pack them (e.g. GEMM weight panels).
  std::vector<const Tensor*> constant_inputs;
  // Models built from the node's graph attributes, in attribute order (If's branches, Loop's body),
  // each taking its graph's declared inputs followed by the outer values it reads (see
  // Node::implicit_inputs).
  std::vector<std::shared_ptr<const ModelImpl>> subgraphs;

  const Attributes& attributes() const { return node.attributes; }
  const Tensor* constant_input(size_t i) const {
    return i < constant_inputs.size() ? constant_inputs[i] : nullptr;
  }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Must be safe to call from several threads at once on different contexts: keep per-run state on
  // the stack or in the context, never in the kernel. Throws inferd::Error on bad data.
  virtual void run(const KernelContext& ctx) const = 0;
};

}  // namespace inferd
