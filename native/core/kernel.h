// The contract between the executor and a backend's compute: a Kernel is made once per node when a
// model loads (so it may pre-pack weights), is shared by every thread, and runs on tensors whose
// shapes and memory the executor's plan has already fixed.
#pragma once

#include <cstddef>
#include <memory>

#include "core/graph.h"
#include "inferd/tensor.h"

namespace inferd {

class ThreadPool;

struct KernelContext {
  const Tensor* const* inputs = nullptr;  // nullptr entries for omitted optional inputs
  size_t input_count = 0;
  Tensor* const* outputs = nullptr;       // shapes set and memory assigned by the plan
  size_t output_count = 0;
  ThreadPool* threads = nullptr;          // never null while running

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
