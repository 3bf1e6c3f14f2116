// Running a plan on the GPU. The session makes the plan (shapes, placements, arena offsets) exactly
// as for the CPU and allocates its arena through the model's backend (device memory for CUDA); this
// executor then does the device side of a run on the session's own stream:
//   caller inputs host → device (asynchronous when the caller's memory is registered as pinned),
//   each step's CUDA kernel, or, for a step whose op has only a CPU kernel, its inputs device →
//   host, the CPU kernel, its outputs host → device,
//   outputs device → host, then one synchronization.
// Nothing is allocated on the device in a steady state: the buffers for inputs, outputs and host
// staging only grow, and per-plan device state is made at a plan's first run.
// Plain C++ (no CUDA headers), so that the session can hold one.
#pragma once

#include <memory>

namespace inferd {

class ModelImpl;
struct Plan;
class StepObserver;
struct TensorRef;
class ThreadPool;

namespace gpu {

// True when `model` computes on the CUDA backend (its session must run plans through CudaExecutor).
bool runs_on_cuda(const ModelImpl& model);

class CudaExecutor {
 public:
  explicit CudaExecutor(const ModelImpl& model);
  ~CudaExecutor();
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  // Computes `plan` (made by make_plan for this model) from the caller's host inputs into the
  // caller's host outputs, both already validated by the session. `arena` is the session's arena
  // of at least plan.arena_bytes, allocated by the model's backend. `threads` runs CPU-fallback
  // steps; `observer` (may be null) gets each step's time, which then synchronizes per step.
  void run(Plan& plan, void* arena, const TensorRef* inputs, const TensorRef* outputs, ThreadPool& threads,
           StepObserver* observer);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace gpu
}  // namespace inferd
