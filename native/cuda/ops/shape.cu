#include "cuda/ops/shape.cuh"

namespace inferd::gpu {
namespace {

class CopyKernel final : public CudaKernel {
 public:
  explicit CopyKernel(const KernelInit& init) : CudaKernel(init) {}
  void run_on(const CudaContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    if (x.nbytes() > 0 && x.data != y.data)
      INFERD_CUDA_CHECK(cudaMemcpyAsync(y.data, x.data, x.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream));
    // Dropout's mask, when asked for, is all true at inference.
    if (ctx.output_count > 1 && ctx.outputs[1] && ctx.output(1).nbytes() > 0)
      INFERD_CUDA_CHECK(cudaMemsetAsync(ctx.output(1).data, 1, ctx.output(1).nbytes(), ctx.stream));
  }
};

class DropoutKernel final : public CudaKernel {
 public:
  explicit DropoutKernel(const KernelInit& init) : CudaKernel(init), copy_(init) {
    if (init.opset >= 12 && init.node.inputs.size() > 2 && init.node.inputs[2] != kNoValue &&
        !init.constant_input(2))
      fail(ErrorKind::unsupported, init.node.label(), ": a computed training_mode has no CUDA kernel");
    if (const Tensor* training = init.constant_input(2); training && training->nbytes() > 0 &&
                                                         *static_cast<const uint8_t*>(training->data) != 0)
      fail(ErrorKind::unsupported, init.node.label(), ": Dropout in training mode has no CUDA kernel");
    if (init.opset < 10 && init.node.outputs.size() > 1 && init.node.outputs[1] != kNoValue)
      fail(ErrorKind::unsupported, init.node.label(), ": Dropout's float mask (before opset 10) has no CUDA kernel");
  }
  void run_on(const CudaContext& ctx) const override { copy_.run_on(ctx); }

 private:
  CopyKernel copy_;
};

std::unique_ptr<Kernel> make_copy(const KernelInit& init) { return std::make_unique<CopyKernel>(init); }
std::unique_ptr<Kernel> make_dropout(const KernelInit& init) { return std::make_unique<DropoutKernel>(init); }

}  // namespace

INFERD_CUDA_KERNEL("Reshape", 1, kMaxOpset, make_copy);
INFERD_CUDA_KERNEL("Flatten", 1, kMaxOpset, make_copy);
INFERD_CUDA_KERNEL("Squeeze", 1, kMaxOpset, make_copy);
INFERD_CUDA_KERNEL("Unsqueeze", 1, kMaxOpset, make_copy);
INFERD_CUDA_KERNEL("Identity", 1, kMaxOpset, make_copy);
INFERD_CUDA_KERNEL("Dropout", 1, kMaxOpset, make_dropout);

}  // namespace inferd::gpu
