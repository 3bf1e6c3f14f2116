// The CUDA backend: kernels registered under "cuda", memory from cudaMalloc on the compute device.
// Two instances differ only in what happens to an op without a CUDA kernel: with CPU fallback its
// CPU kernel is made instead (the executor moves its tensors to the host and back), without it the
// model is refused, listing those ops.
#pragma once

#include "core/backend.h"

namespace inferd::gpu {

const Backend& cuda_backend(bool cpu_fallback);
bool is_cuda_backend(const Backend& backend);

}  // namespace inferd::gpu
