#include "cuda/device_memory.h"

#include <cuda_runtime_api.h>

#include <mutex>
#include <unordered_map>

#include "cuda/cuda_check.h"
#include "cuda/device.h"

namespace inferd::gpu {

DeviceBuffer::DeviceBuffer(size_t bytes) : size_(bytes) {
  use_compute_device();
  if (bytes > 0) INFERD_CUDA_CHECK(cudaMalloc(&data_, bytes));
}

DeviceBuffer::~DeviceBuffer() {
  if (data_) cudaFree(data_);  // errors at process exit (driver already unloaded) are harmless
}

GrowingBuffer::~GrowingBuffer() { release(); }

void GrowingBuffer::release() {
  if (!data_) return;
  if (kind_ == Kind::device) cudaFree(data_);
  else cudaFreeHost(data_);
  data_ = nullptr;
  size_ = 0;
}

void* GrowingBuffer::reserve(size_t bytes) {
  if (bytes <= size_ && data_) return data_;
  release();
  use_compute_device();
  const size_t rounded = align_up(bytes == 0 ? 1 : bytes);
  if (kind_ == Kind::device) INFERD_CUDA_CHECK(cudaMalloc(&data_, rounded));
  else INFERD_CUDA_CHECK(cudaMallocHost(&data_, rounded));
  size_ = rounded;
  return data_;
}

std::shared_ptr<DeviceBuffer> device_copy_of(const Tensor& host) {
  struct Entry {
    size_t bytes;
    std::weak_ptr<DeviceBuffer> copy;
  };
  static std::mutex mutex;
  static auto* cache = new std::unordered_map<const void*, Entry>();  // never destroyed: see DeviceBuffer
  const size_t bytes = host.nbytes();
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache->find(host.data);
  if (it != cache->end() && it->second.bytes == bytes)
    if (std::shared_ptr<DeviceBuffer> copy = it->second.copy.lock()) return copy;
  auto copy = std::make_shared<DeviceBuffer>(bytes);
  if (bytes > 0) INFERD_CUDA_CHECK(cudaMemcpy(copy->data(), host.data, bytes, cudaMemcpyHostToDevice));
  (*cache)[host.data] = Entry{bytes, copy};
  // Forget entries whose copies are gone, so the map does not grow with every model ever loaded.
  for (auto e = cache->begin(); e != cache->end();) e = e->second.copy.expired() ? cache->erase(e) : std::next(e);
  return copy;
}

}  // namespace inferd::gpu
