#include "cuda/device.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "cuda/cuda_check.h"
#include "inferd/error.h"

namespace inferd::gpu {
namespace {

struct Discovery {
  int count = 0;
  std::string why;
  DeviceInfo device;
};

int cores_per_multiprocessor(int major, int minor) {
  // FP32 lanes per SM by architecture, as the CUDA samples' _ConvertSMVer2Cores tabulates them.
  switch (major) {
    case 3: return 192;
    case 5: return 128;
    case 6: return minor == 0 ? 64 : 128;
    case 7: return 64;
    case 8: return minor == 0 ? 64 : 128;
    case 9: return 128;
    default: return 128;
  }
}

const Discovery& discover() {
  static const Discovery found = [] {
    Discovery d;
    const cudaError_t status = cudaGetDeviceCount(&d.count);
    if (status != cudaSuccess) {
      d.count = 0;
      d.why = cudaGetErrorString(status);
      // Without a driver the runtime reports an "insufficient" one: say what is really missing.
      if (status == cudaErrorInsufficientDriver) {
        if (void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) dlclose(driver);
        else d.why = "no NVIDIA driver is installed (libcuda.so.1 not found)";
      }
      cudaGetLastError();  // the failed query must not stick to later calls
      return d;
    }
    if (d.count == 0) {
      d.why = "the CUDA driver reports no devices";
      return d;
    }
    int index = 0;
    if (const char* env = std::getenv("INFERD_CUDA_DEVICE")) index = std::atoi(env);
    if (index < 0 || index >= d.count) {
      d.why = "INFERD_CUDA_DEVICE=" + std::to_string(index) + " but only " + std::to_string(d.count) +
              " device(s) are visible";
      d.count = 0;
      return d;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
      d.why = "cudaGetDeviceProperties failed";
      d.count = 0;
      return d;
    }
    d.device.index = index;
    d.device.name = prop.name;
    d.device.compute_major = prop.major;
    d.device.compute_minor = prop.minor;
    d.device.multiprocessors = prop.multiProcessorCount;
    d.device.total_memory = prop.totalGlobalMem;
    int clock_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, index);
    // Two FLOPs per fused multiply-add per lane per cycle.
    d.device.peak_fp32_gflops = 2.0 * prop.multiProcessorCount * cores_per_multiprocessor(prop.major, prop.minor) *
                                (clock_khz / 1e6);
    return d;
  }();
  return found;
}

}  // namespace

int visible_device_count(std::string* why) {
  const Discovery& d = discover();
  if (why) *why = d.why;
  return d.count;
}

const DeviceInfo& compute_device() {
  const Discovery& d = discover();
  if (d.count == 0) fail(ErrorKind::invalid_argument, "no CUDA GPU is visible: ", d.why);
  return d.device;
}

void use_compute_device() {
  // cudaSetDevice is cheap when the device is already current; each thread starts on device 0.
  thread_local int current = -1;
  const int index = compute_device().index;
  if (current != index) {
    INFERD_CUDA_CHECK(cudaSetDevice(index));
    current = index;
  }
}

}  // namespace inferd::gpu
