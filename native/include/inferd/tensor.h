// Tensors as the engine sees them: an element type, a shape and a pointer to densely packed,
// row-major bytes. A Tensor may own its bytes (initializers, folded constants) or merely view memory
// owned by someone else (a caller's typed array, a region of a session's arena).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inferd/dtype.h"

namespace inferd {

using Shape = std::vector<int64_t>;

// Number of elements; throws Error(invalid_model) on a negative dim or on overflow past 2^62.
int64_t shape_size(const Shape& shape);
// "[1, 784]"
std::string shape_to_string(const Shape& shape);

// 64-byte aligned heap bytes: wide SIMD loads never split a cache line at a tensor's start.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t bytes);
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

struct Tensor {
  DType dtype = DType::undefined;
  Shape shape;
  void* data = nullptr;
  // Set when this tensor owns its bytes; copies share them.
  std::shared_ptr<AlignedBuffer> storage;

  // A zero-filled tensor that owns its bytes.
  static Tensor allocate(DType dtype, Shape shape);
  // A tensor over memory owned elsewhere.
  static Tensor view(DType dtype, Shape shape, void* data);

  int64_t size() const;    // element count
  size_t nbytes() const;   // size() * dtype_size(dtype)
  int rank() const { return static_cast<int>(shape.size()); }
  template <typename T> T* data_as() { return static_cast<T*>(data); }
  template <typename T> const T* data_as() const { return static_cast<const T*>(data); }
};

// What a caller hands the engine at run time: no owned memory, no allocation to build one.
struct TensorRef {
  DType dtype = DType::undefined;
  const int64_t* dims = nullptr;
  int rank = 0;
  void* data = nullptr;
  size_t byte_length = 0;
};

}  // namespace inferd
