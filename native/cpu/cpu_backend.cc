// The CPU backend: kernels registered under "cpu", memory from the host heap.
#include <cstdlib>
#include <new>

#include "core/backend.h"

namespace inferd {
namespace {

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  void* allocate(size_t bytes) const override {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void release(void* pointer) const override { std::free(pointer); }
};

}  // namespace

const Backend& cpu_backend() {
  static const CpuBackend backend;
  return backend;
}

}  // namespace inferd
