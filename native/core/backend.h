// The interface between graph/executor logic and compute. The executor never names a device: it asks
// the backend for kernels and for the memory they compute in. CPU is the only backend today; a CUDA
// backend implements the same members (the ones marked optional have host-memory defaults).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/kernel.h"

namespace inferd {

class Backend {
 public:
  virtual ~Backend() = default;

  // "cpu", "cuda": the key kernels are registered under.
  virtual const char* name() const = 0;

  // True when this backend has a kernel for (domain, op type) at this opset.
  virtual bool supports(const std::string& domain, const std::string& op_type, int opset) const;

  // Makes the kernel for a node; throws Error(unsupported) when supports() is false.
  virtual std::unique_ptr<Kernel> create_kernel(const KernelInit& init) const;

  // Memory kernels of this backend read and write (arenas, constants). 64-byte aligned.
  virtual void* allocate(size_t bytes) const = 0;
  virtual void release(void* pointer) const = 0;

  // Optional: moves bytes between host memory and this backend's memory. Defaults copy on the host.
  virtual void copy_from_host(void* dst, const void* src, size_t bytes) const;
  virtual void copy_to_host(void* dst, const void* src, size_t bytes) const;
  // Optional: waits for queued work (asynchronous backends); the CPU computes synchronously.
  virtual void synchronize() const {}
};

// The process-wide CPU backend.
const Backend& cpu_backend();

// The backend a model loads onto for ModelOptions::provider ("cpu", "cuda", "auto"); `model` lets
// "auto" check that every op has a kernel there. `cpu_fallback`: with "cuda", ops without a CUDA
// kernel run their CPU kernel on host copies (true) or the model is refused (false). Throws
// Error(invalid_argument) for an unknown name or for "cuda" where no GPU is usable, saying why.
struct OnnxModel;
const Backend& select_backend(const std::string& provider, const OnnxModel& model, bool cpu_fallback);
const Backend& select_backend(const std::string& provider, const OnnxModel& model);

}  // namespace inferd
