// The addon's GPU functions (inferd/cuda.h), for metrics and for pinning batch slots. Both work in a
// build without CUDA, where they report that there is no GPU.
//   exports.gpuStats()              { name, utilizationPercent, memoryUsedBytes, memoryTotalBytes } or null
//   exports.registerHostMemory(buf) pins an ArrayBuffer/SharedArrayBuffer/typed array for DMA; true when done
#pragma once

#include <napi.h>

namespace inferd::binding {

Napi::Value gpu_stats(const Napi::CallbackInfo& info);
Napi::Value register_host_memory(const Napi::CallbackInfo& info);

}  // namespace inferd::binding
