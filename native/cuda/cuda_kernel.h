// CUDA kernels: the same registry as the CPU's, under the backend name "cuda", and a Kernel subclass
// whose run takes the session's stream. A CudaKernel computes on device memory only; the CUDA
// executor (cuda_executor.h) hands it device tensors, plus the host copy of each input whose value
// is known before the run (initializers, plan-time constants), for kernels that read parameters
// such as axes or slice bounds.
//   INFERD_CUDA_KERNEL("Relu", 6, kMaxOpset, make_relu);
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <vector>

#include "core/kernel.h"
#include "core/kernel_registry.h"
#include "cuda/device_memory.h"

namespace inferd::gpu {

class BlasHandle;

struct CudaContext {
  const Tensor* const* inputs = nullptr;       // device data; nullptr for omitted optional inputs
  const Tensor* const* host_inputs = nullptr;  // host data of inputs known before the run, else nullptr
  size_t input_count = 0;
  Tensor* const* outputs = nullptr;            // device data, shapes set by the plan
  size_t output_count = 0;
  cudaStream_t stream = nullptr;
  const BlasHandle* blas = nullptr;            // the session's cuBLAS handle; may be unusable

  bool has_input(size_t i) const { return i < input_count && inputs[i] != nullptr; }
  const Tensor& input(size_t i) const { return *inputs[i]; }
  Tensor& output(size_t i) const { return *outputs[i]; }
  // The input's value on the host when known before the run, else nullptr.
  const Tensor* host_input(size_t i) const { return host_inputs && i < input_count ? host_inputs[i] : nullptr; }
};

class CudaKernel : public Kernel {
 public:
  // Uploads the node's constant inputs (once per process, see device_copy_of) so that they are on
  // the device from load on, for as long as the model holds this kernel.
  explicit CudaKernel(const KernelInit& init);
  // Queues the computation on ctx.stream; must not synchronize. Const and thread-safe, as Kernel::run.
  virtual void run_on(const CudaContext& ctx) const = 0;
  // A CUDA kernel never runs through the host executor: calling it there is a wiring error.
  void run(const KernelContext& ctx) const final;

 private:
  std::vector<std::shared_ptr<DeviceBuffer>> constants_;
};

// Whether `kernel` computes on the GPU (else it is a CPU kernel the executor runs on host copies).
inline const CudaKernel* as_cuda_kernel(const Kernel* kernel) { return dynamic_cast<const CudaKernel*>(kernel); }

// Reads a host-known integer input (axes, starts…) of a CUDA kernel into out[0, capacity), returning
// its element count; fails clearly when its value is only computed during the run, or is too long.
size_t host_ints(const CudaContext& ctx, size_t input, const Node& node, const char* what, int64_t* out,
                 size_t capacity);

}  // namespace inferd::gpu

#define INFERD_CUDA_KERNEL(op_type, since, until, factory) INFERD_KERNEL("cuda", op_type, since, until, factory)
// The internal ops of the load-time optimizer (core/optimizer/fused_ops.h), registered for every opset.
#define INFERD_CUDA_INTERNAL_KERNEL(op_type, factory)                                  \
  static const ::inferd::KernelRegistrar INFERD_CONCAT(kernel_registrar_, __LINE__)( \
      ::inferd::KernelDef{"cuda", ::inferd::kInternalDomain, op_type, 1, ::inferd::kMaxOpset, factory})
