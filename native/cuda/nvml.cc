#include "cuda/nvml.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <mutex>

#include "cuda/device.h"

namespace inferd::gpu {
namespace {

// The NVML C ABI: nvmlReturn_t is an int enum (0 = success), devices are opaque handles.
struct Utilization {
  unsigned int gpu, memory;
};
struct Memory {
  unsigned long long total, free, used;
};
using init_fn = int (*)();
using handle_by_index_fn = int (*)(unsigned int, void**);
using handle_by_pci_fn = int (*)(const char*, void**);
using utilization_fn = int (*)(void*, Utilization*);
using memory_fn = int (*)(void*, Memory*);
using name_fn = int (*)(void*, char*, unsigned int);

struct Nvml {
  handle_by_index_fn by_index = nullptr;
  handle_by_pci_fn by_pci = nullptr;
  utilization_fn utilization = nullptr;
  memory_fn memory = nullptr;
  name_fn name = nullptr;
  void* device = nullptr;
};

const Nvml* nvml() {
  static const Nvml* instance = []() -> const Nvml* {
    if (visible_device_count() == 0) return nullptr;
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return nullptr;
    auto init = reinterpret_cast<init_fn>(dlsym(lib, "nvmlInit_v2"));
    auto* n = new Nvml();
    n->by_index = reinterpret_cast<handle_by_index_fn>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
    n->by_pci = reinterpret_cast<handle_by_pci_fn>(dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    n->utilization = reinterpret_cast<utilization_fn>(dlsym(lib, "nvmlDeviceGetUtilizationRates"));
    n->memory = reinterpret_cast<memory_fn>(dlsym(lib, "nvmlDeviceGetMemoryInfo"));
    n->name = reinterpret_cast<name_fn>(dlsym(lib, "nvmlDeviceGetName"));
    if (!init || init() != 0 || !n->utilization || !n->memory) return nullptr;
    // CUDA and NVML may number devices differently; the PCI bus id names the same one in both.
    char bus[32] = {};
    const int index = compute_device().index;
    if (n->by_pci && cudaDeviceGetPCIBusId(bus, sizeof bus, index) == cudaSuccess) n->by_pci(bus, &n->device);
    if (!n->device && n->by_index) n->by_index(static_cast<unsigned>(index), &n->device);
    if (!n->device) return nullptr;
    return n;
  }();
  return instance;
}

}  // namespace

bool nvml_read(GpuStats* out) {
  const Nvml* n = nvml();
  if (!n) return false;
  Utilization u{};
  Memory m{};
  if (n->utilization(n->device, &u) != 0 || n->memory(n->device, &m) != 0) return false;
  char name[96] = {};
  if (n->name && n->name(n->device, name, sizeof name) == 0) out->name = name;
  out->utilization_percent = u.gpu;
  out->memory_used_bytes = m.used;
  out->memory_total_bytes = m.total;
  return true;
}

}  // namespace inferd::gpu
