// The engine's public C++ API, part 3: what a host program needs to know about the GPU. Every
// function exists in every build; without the CUDA backend (or without a visible GPU) they report
// "nothing there" instead of failing, so callers need no #ifdef.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace inferd {

// True when this build has the CUDA backend and a GPU is visible; otherwise `why`, when given, says
// what is missing.
bool cuda_available(std::string* why = nullptr);

// Pins [data, data + bytes) for the GPU (cudaHostRegister), so that copies from and to it are
// asynchronous DMA: for long-lived buffers that runs read inputs from and write outputs to, such as
// a server's SharedArrayBuffer batch slots. Returns false (and changes nothing) without a GPU or
// when the driver refuses. Unregister before the memory is freed.
bool register_host_memory(void* data, size_t bytes);
void unregister_host_memory(void* data);

// A reading of the compute GPU from NVML (the driver's management library, opened at run time).
struct GpuStats {
  std::string name;
  double utilization_percent = 0;  // share of the last sample period a kernel was running
  uint64_t memory_used_bytes = 0;
  uint64_t memory_total_bytes = 0;
};
// False when there is no CUDA backend, no GPU, or no NVML.
bool read_gpu_stats(GpuStats* out);

}  // namespace inferd
