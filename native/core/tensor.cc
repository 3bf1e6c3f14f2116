#include "inferd/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "inferd/error.h"

namespace inferd {

int64_t shape_size(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(ErrorKind::invalid_model, "shape ", shape_to_string(shape), " has a negative dimension");
    if (d != 0 && n > (int64_t{1} << 62) / d) fail(ErrorKind::invalid_model, "shape ", shape_to_string(shape), " is too large");
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

AlignedBuffer::AlignedBuffer(size_t bytes) : size_(bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  data_ = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!data_) throw std::bad_alloc();
  std::memset(data_, 0, rounded == 0 ? 64 : rounded);
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

Tensor Tensor::allocate(DType dtype, Shape shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.storage = std::make_shared<AlignedBuffer>(t.nbytes());
  t.data = t.storage->data();
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, void* data) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = data;
  return t;
}

int64_t Tensor::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t Tensor::nbytes() const { return static_cast<size_t>(size()) * dtype_size(dtype); }

}  // namespace inferd
