// Choosing the backend a model computes on. Only the CPU backend exists in a build without CUDA.
#include "core/backend.h"
#include "core/graph.h"
#include "inferd/error.h"

namespace inferd {

const Backend& select_backend(const std::string& provider, const OnnxModel& model) {
  if (provider == "cpu" || provider == "auto" || provider.empty()) return cpu_backend();
  if (provider == "cuda")
    fail(ErrorKind::invalid_argument, "provider 'cuda': this build of inferd has no CUDA backend");
  fail(ErrorKind::invalid_argument, "unknown provider '", provider, "' (expected cpu, cuda or auto)");
}

}  // namespace inferd
