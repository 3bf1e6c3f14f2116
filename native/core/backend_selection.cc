// Choosing the backend a model computes on. A build without CUDA has only the CPU backend; a CUDA
// build adds "cuda" (refused, saying why, when no GPU is visible) and "auto" (CUDA when a GPU is
// visible and every node has a CUDA kernel, else CPU).
#include "core/backend.h"
#include "core/graph.h"
#include "core/model_impl.h"
#include "inferd/cuda.h"
#include "inferd/error.h"

#ifdef INFERD_HAS_CUDA
#include "cuda/cuda_backend.h"
#include "cuda/device.h"
#endif

namespace inferd {

// `cpu_fallback` decides what "cuda" does with an op that has no CUDA kernel: run its CPU kernel on
// host copies of its tensors (true), or refuse the model naming each such op (false).
const Backend& select_backend(const std::string& provider, const OnnxModel& model, bool cpu_fallback) {
  if (provider == "cpu" || provider.empty()) return cpu_backend();
#ifdef INFERD_HAS_CUDA
  if (provider == "cuda") {
    std::string why;
    if (gpu::visible_device_count(&why) == 0)
      fail(ErrorKind::invalid_argument, "provider 'cuda': no CUDA GPU is visible (", why, ")");
    return gpu::cuda_backend(cpu_fallback);
  }
  if (provider == "auto") {
    if (gpu::visible_device_count() == 0) return cpu_backend();
    // Every op as the file writes it must have a CUDA kernel; the optimizer's fused ops all do.
    if (!find_unsupported_ops(model, gpu::cuda_backend(false)).empty()) return cpu_backend();
    return gpu::cuda_backend(true);
  }
#else
  if (provider == "auto") return cpu_backend();
  if (provider == "cuda")
    fail(ErrorKind::invalid_argument, "provider 'cuda': this build of inferd has no CUDA backend");
#endif
  fail(ErrorKind::invalid_argument, "unknown provider '", provider, "' (expected cpu, cuda or auto)");
}

const Backend& select_backend(const std::string& provider, const OnnxModel& model) {
  return select_backend(provider, model, /*cpu_fallback=*/true);
}

#ifndef INFERD_HAS_CUDA
// inferd/cuda.h in a build without the CUDA backend (native/cuda/public_api.cc has the real one).
bool cuda_available(std::string* why) {
  if (why) *why = "this build of inferd has no CUDA backend";
  return false;
}
bool register_host_memory(void*, size_t) { return false; }
void unregister_host_memory(void*) {}
bool read_gpu_stats(GpuStats*) { return false; }
#endif

}  // namespace inferd
