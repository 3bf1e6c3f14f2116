// Which GPUs this process can use. Plain C++ (no CUDA headers), so that backend selection and the
// binding can ask without being compiled by nvcc.
#pragma once

#include <cstddef>
#include <string>

namespace inferd::gpu {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  int multiprocessors = 0;
  size_t total_memory = 0;
  double peak_fp32_gflops = 0;  // from clock and core count: a nominal ceiling for the harness
};

// GPUs the CUDA runtime reports, 0 when there is no driver or no device; `why`, when given, gets the
// runtime's reason for 0. The answer is computed once per process.
int visible_device_count(std::string* why = nullptr);

// The device inferd computes on: index INFERD_CUDA_DEVICE (default 0). Makes it current on the
// calling thread. Throws Error(invalid_argument) when no GPU is visible.
const DeviceInfo& compute_device();

// Makes the compute device current on this thread (CUDA's current device is per thread).
void use_compute_device();

}  // namespace inferd::gpu
