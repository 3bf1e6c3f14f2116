// Turning CUDA runtime error codes into inferd errors that say which call failed and why. For CUDA
// sources and the C++ files of the backend that include the runtime API.
#pragma once

#include <cuda_runtime_api.h>

#include "inferd/error.h"

namespace inferd::gpu {

// Throws Error(runtime) naming the call and the runtime's description of `status`.
inline void check_cuda(cudaError_t status, const char* call) {
  if (status != cudaSuccess) fail(ErrorKind::runtime, "CUDA: ", call, " failed: ", cudaGetErrorString(status));
}

}  // namespace inferd::gpu

#define INFERD_CUDA_CHECK(call) ::inferd::gpu::check_cuda((call), #call)
