// Device memory the backend owns: buffers freed with their owner, buffers that only grow (so a
// steady state allocates nothing), pinned host staging, and the process-wide copies of weights.
#pragma once

#include <cstddef>
#include <memory>

#include "inferd/tensor.h"

namespace inferd::gpu {

// Bytes on the compute device, freed on destruction.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// A device (or pinned host) buffer that is reallocated only when asked for more than it holds.
class GrowingBuffer {
 public:
  enum class Kind { device, pinned_host };
  explicit GrowingBuffer(Kind kind) : kind_(kind) {}
  ~GrowingBuffer();
  GrowingBuffer(const GrowingBuffer&) = delete;
  GrowingBuffer& operator=(const GrowingBuffer&) = delete;
  // Returns at least `bytes`; earlier contents are not kept.
  void* reserve(size_t bytes);
  void* data() const { return data_; }

 private:
  void release();
  Kind kind_;
  void* data_ = nullptr;
  size_t size_ = 0;
};

// The device copy of a host tensor that lives as long as a model (an initializer or a load-time
// folded constant), uploaded once per process and shared by every session and thread: a cache
// keyed by the host address, holding weak references so that a model's unload frees its copies.
std::shared_ptr<DeviceBuffer> device_copy_of(const Tensor& host);

// Alignment of every tensor the backend places in device memory (cudaMalloc's own alignment).
inline constexpr size_t kDeviceAlignment = 256;
inline size_t align_up(size_t bytes) { return (bytes + kDeviceAlignment - 1) / kDeviceAlignment * kDeviceAlignment; }

}  // namespace inferd::gpu
