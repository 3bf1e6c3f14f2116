// Kernels, registered per backend beside their code: (backend, domain, op type, opset range) → factory.
//   INFERD_CPU_KERNEL("Relu", 6, kMaxOpset, make_relu_kernel);
// Opset ranges are explicit (as ONNX Runtime's are) so a semantic change across opsets picks another
// factory instead of an `if (opset < 13)` inside a kernel.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/kernel.h"
#include "core/op_schema.h"

namespace inferd {

using KernelFactory = std::unique_ptr<Kernel> (*)(const KernelInit&);

struct KernelDef {
  const char* backend;  // "cpu", "cuda"
  const char* domain;   // "" for ai.onnx
  const char* op_type;
  int since_version;
  int until_version;
  KernelFactory make;
};

class KernelRegistry {
 public:
  static KernelRegistry& instance();
  void add(const KernelDef& def);
  const KernelDef* find(const std::string& backend, const std::string& domain, const std::string& op_type,
                        int opset) const;
  const std::vector<KernelDef>& all() const { return defs_; }

 private:
  std::vector<KernelDef> defs_;
};

struct KernelRegistrar {
  explicit KernelRegistrar(const KernelDef& def) { KernelRegistry::instance().add(def); }
};

#define INFERD_KERNEL(backend, op_type, since, until, factory)                         \
  static const ::inferd::KernelRegistrar INFERD_CONCAT(kernel_registrar_, __LINE__)( \
      ::inferd::KernelDef{backend, "", op_type, since, until, factory})
#define INFERD_CPU_KERNEL(op_type, since, until, factory) INFERD_KERNEL("cpu", op_type, since, until, factory)

}  // namespace inferd
