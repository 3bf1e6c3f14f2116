#include "core/kernel_registry.h"

namespace inferd {

KernelRegistry& KernelRegistry::instance() {
  static KernelRegistry registry;
  return registry;
}

void KernelRegistry::add(const KernelDef& def) { defs_.push_back(def); }

const KernelDef* KernelRegistry::find(const std::string& backend, const std::string& domain,
                                      const std::string& op_type, int opset) const {
  for (const KernelDef& d : defs_)
    if (op_type == d.op_type && backend == d.backend && domain == d.domain && opset >= d.since_version &&
        opset <= d.until_version)
      return &d;
  return nullptr;
}

}  // namespace inferd
