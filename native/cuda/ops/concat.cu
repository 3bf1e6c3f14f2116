#include "cuda/ops/concat.cuh"

namespace inferd::gpu {
namespace {

class ConcatKernel final : public CudaKernel {
 public:
  explicit ConcatKernel(const KernelInit& init, int64_t default_axis)
      : CudaKernel(init), label_(init.node.label()), axis_(init.attributes().get_int("axis", default_axis)) {}
  void run_on(const CudaContext& ctx) const override {
    Tensor& y = ctx.output(0);
    const int axis = normalize_axis(axis_, y.rank(), label_);
    const size_t element = dtype_size(y.dtype);
    const int64_t outer = dims_product(y.shape, 0, axis);
    const size_t out_row = static_cast<size_t>(dims_product(y.shape, axis, y.rank())) * element;
    size_t column = 0;
    for (size_t i = 0; i < ctx.input_count; ++i) {
      if (!ctx.has_input(i)) continue;
      const Tensor& x = ctx.input(i);
      const size_t in_row = static_cast<size_t>(dims_product(x.shape, axis, x.rank())) * element;
      if (in_row > 0 && outer > 0)
        INFERD_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<uint8_t*>(y.data) + column, out_row, x.data, in_row, in_row,
                                            static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, ctx.stream));
      column += in_row;
    }
  }

 private:
  std::string label_;
  int64_t axis_;
};

std::unique_ptr<Kernel> make_concat_v1(const KernelInit& init) { return std::make_unique<ConcatKernel>(init, 1); }
std::unique_ptr<Kernel> make_concat_v4(const KernelInit& init) {
  if (!init.attributes().has("axis")) fail(ErrorKind::invalid_model, init.node.label(), ": attribute axis is required");
  return std::make_unique<ConcatKernel>(init, 0);
}

}  // namespace

INFERD_CUDA_KERNEL("Concat", 1, 3, make_concat_v1);
INFERD_CUDA_KERNEL("Concat", 4, kMaxOpset, make_concat_v4);

}  // namespace inferd::gpu
