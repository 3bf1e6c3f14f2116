// The CUDA build's side of inferd/cuda.h (backend_selection.cc has the one of a build without CUDA).
#include <cuda_runtime_api.h>

#include "cuda/device.h"
#include "cuda/nvml.h"
#include "inferd/cuda.h"

namespace inferd {

bool cuda_available(std::string* why) { return gpu::visible_device_count(why) > 0; }

bool register_host_memory(void* data, size_t bytes) {
  if (!data || bytes == 0 || gpu::visible_device_count() == 0) return false;
  gpu::use_compute_device();
  if (cudaHostRegister(data, bytes, cudaHostRegisterPortable) != cudaSuccess) {
    cudaGetLastError();  // a refusal (already registered, unsupported) must not stick
    return false;
  }
  return true;
}

void unregister_host_memory(void* data) {
  if (!data || gpu::visible_device_count() == 0) return;
  if (cudaHostUnregister(data) != cudaSuccess) cudaGetLastError();
}

bool read_gpu_stats(GpuStats* out) { return out && gpu::nvml_read(out); }

}  // namespace inferd
