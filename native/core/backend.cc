#include "core/backend.h"

#include <cstring>

#include "core/kernel_registry.h"
#include "inferd/error.h"

namespace inferd {

bool Backend::supports(const std::string& domain, const std::string& op_type, int opset) const {
  return KernelRegistry::instance().find(name(), domain, op_type, opset) != nullptr;
}

std::unique_ptr<Kernel> Backend::create_kernel(const KernelInit& init) const {
  const KernelDef* def = KernelRegistry::instance().find(name(), init.node.domain, init.node.op_type, init.opset);
  if (!def)
    fail(ErrorKind::unsupported, init.node.label(), ": no ", name(), " kernel for opset ", init.opset);
  return def->make(init);
}

void Backend::copy_from_host(void* dst, const void* src, size_t bytes) const { std::memcpy(dst, src, bytes); }
void Backend::copy_to_host(void* dst, const void* src, size_t bytes) const { std::memcpy(dst, src, bytes); }

}  // namespace inferd
