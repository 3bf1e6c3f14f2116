#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include "core/kernel_registry.h"
#include "cuda/cuda_check.h"
#include "cuda/device.h"

namespace inferd::gpu {
namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(bool cpu_fallback) : cpu_fallback_(cpu_fallback) {}
  const char* name() const override { return "cuda"; }

  bool supports(const std::string& domain, const std::string& op_type, int opset) const override {
    return Backend::supports(domain, op_type, opset) ||
           (cpu_fallback_ && cpu_backend().supports(domain, op_type, opset));
  }

  std::unique_ptr<Kernel> create_kernel(const KernelInit& init) const override {
    if (KernelRegistry::instance().find("cuda", init.node.domain, init.node.op_type, init.opset)) {
      try {
        return Backend::create_kernel(init);
      } catch (const Error& e) {
        // A CUDA kernel may decline a configuration it does not implement (a 3-D Conv, say).
        if (e.kind() != ErrorKind::unsupported || !cpu_fallback_) throw;
      }
    }
    if (!cpu_fallback_)
      fail(ErrorKind::unsupported, init.node.label(), ": no CUDA kernel (opset ", init.opset,
           ") and CPU fallback is off");
    return cpu_backend().create_kernel(init);
  }

  void* allocate(size_t bytes) const override {
    use_compute_device();
    void* p = nullptr;
    INFERD_CUDA_CHECK(cudaMalloc(&p, bytes == 0 ? 1 : bytes));
    return p;
  }
  void release(void* pointer) const override {
    if (pointer) cudaFree(pointer);
  }
  void copy_from_host(void* dst, const void* src, size_t bytes) const override {
    INFERD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }
  void copy_to_host(void* dst, const void* src, size_t bytes) const override {
    INFERD_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  }
  void synchronize() const override { INFERD_CUDA_CHECK(cudaDeviceSynchronize()); }

 private:
  bool cpu_fallback_;
};

}  // namespace

const Backend& cuda_backend(bool cpu_fallback) {
  static const CudaBackend strict(false), with_fallback(true);
  return cpu_fallback ? with_fallback : strict;
}

bool is_cuda_backend(const Backend& backend) {
  return &backend == &cuda_backend(false) || &backend == &cuda_backend(true);
}

}  // namespace inferd::gpu
