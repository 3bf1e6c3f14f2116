#include "cuda/cuda_kernel.h"

#include <cstring>

#include "inferd/error.h"

namespace inferd::gpu {

CudaKernel::CudaKernel(const KernelInit& init) {
  for (const Tensor* t : init.constant_inputs)
    if (t && t->nbytes() > 0) constants_.push_back(device_copy_of(*t));
}

void CudaKernel::run(const KernelContext&) const {
  fail(ErrorKind::runtime, "a CUDA kernel was called through the host executor (a session without the CUDA hook)");
}

size_t host_ints(const CudaContext& ctx, size_t input, const Node& node, const char* what, int64_t* out,
                 size_t capacity) {
  const Tensor* t = ctx.host_input(input);
  if (!t)
    fail(ErrorKind::unsupported, node.label(), ": on CUDA, input ", input, " (", what,
         ") must be known before the run (an initializer or computed from shapes)");
  const size_t n = static_cast<size_t>(t->size());
  if (n > capacity) fail(ErrorKind::unsupported, node.label(), ": input ", input, " (", what, ") has ", n, " values, at most ", capacity, " supported");
  if (t->dtype == DType::i64) std::memcpy(out, t->data, n * 8);
  else if (t->dtype == DType::i32)
    for (size_t i = 0; i < n; ++i) out[i] = t->data_as<int32_t>()[i];
  else fail(ErrorKind::invalid_model, node.label(), ": input ", input, " (", what, ") must be int32 or int64, got ",
            dtype_name(t->dtype));
  return n;
}

}  // namespace inferd::gpu
