// What every CUDA op family shares: launch geometry, dtype dispatch, N-d index arithmetic with
// fixed-size arrays (kernels take them by value, no device allocation), and the activations that
// fused GEMMs apply in their epilogue.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "core/optimizer/fused_ops.h"
#include "core/shape_util.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_kernel.h"
#include "inferd/error.h"

namespace inferd::gpu {

inline constexpr int kBlock = 256;

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more than needed.
inline unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > (1 << 20) ? (1 << 20) : blocks));
}

#define INFERD_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{blockDim.x} * gridDim.x)

// Row-major dims and per-operand strides, by value into a kernel.
struct Indexer {
  int rank = 0;
  int64_t dims[kMaxRank] = {};

  // The row-major position of linear index i in `dims`, dotted with `strides`.
  __device__ __forceinline__ int64_t offset(int64_t i, const int64_t* strides) const {
    int64_t off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t q = i / dims[d];
      off += (i - q * dims[d]) * strides[d];
      i = q;
    }
    return off;
  }
};

struct Strides {
  int64_t s[kMaxRank] = {};
};

inline Indexer indexer_of(const Shape& shape) {
  Indexer ix;
  ix.rank = static_cast<int>(shape.size());
  for (int d = 0; d < ix.rank; ++d) ix.dims[d] = shape[static_cast<size_t>(d)];
  return ix;
}

// Strides of `in` read as broadcast to `out`.
inline Strides broadcast_strides_of(const Shape& in, const Shape& out) {
  Strides s;
  broadcast_strides(in, out, s.s);
  return s;
}

inline Strides row_major_of(const Shape& shape) {
  Strides s;
  row_major_strides(shape, s.s);
  return s;
}

// Types data-movement kernels copy, by element size.
template <size_t Bytes> struct element_bits;
template <> struct element_bits<1> { using type = uint8_t; };
template <> struct element_bits<2> { using type = uint16_t; };
template <> struct element_bits<4> { using type = uint32_t; };
template <> struct element_bits<8> { using type = uint64_t; };

// Calls f(T{}) with the unsigned type of t's element size (any dtype inferd stores).
template <class F> void dispatch_by_size(DType t, const std::string& label, F&& f) {
  switch (dtype_size(t)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    case 8: f(uint64_t{}); break;
    default: fail(ErrorKind::unsupported, label, ": the CUDA kernel cannot move ", dtype_name(t), " elements");
  }
}

// Calls f(T{}) for the arithmetic types the CUDA kernels compute on.
template <class F> void dispatch_arith(DType t, const std::string& label, F&& f) {
  switch (t) {
    case DType::f32: f(float{}); break;
    case DType::i32: f(int32_t{}); break;
    case DType::i64: f(int64_t{}); break;
    default: fail(ErrorKind::unsupported, label, ": the CUDA kernel does not compute on ", dtype_name(t));
  }
}

inline void require_f32(const Tensor& t, const std::string& label, const char* what) {
  if (t.dtype != DType::f32)
    fail(ErrorKind::unsupported, label, ": the CUDA kernel computes on float only, ", what, " is ", dtype_name(t.dtype));
}

// The fused activations (core/optimizer/fused_ops.h) on the device.
struct DeviceActivation {
  FusedActivation kind = FusedActivation::none;
  float alpha = 0, beta = 0;

  __device__ __forceinline__ float operator()(float x) const {
    switch (kind) {
      case FusedActivation::none: return x;
      case FusedActivation::relu: return x < 0.0f ? 0.0f : x;
      case FusedActivation::leaky_relu: return x < 0.0f ? alpha * x : x;
      case FusedActivation::sigmoid: return 1.0f / (1.0f + expf(-x));
      case FusedActivation::tanh: return tanhf(x);
      case FusedActivation::gelu: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752440f));
      case FusedActivation::gelu_tanh:
        return 0.5f * x * (1.0f + tanhf(0.79788456080286535588f * (x + 0.044715f * x * x * x)));
      case FusedActivation::clip: return fminf(fmaxf(x, alpha), beta);
      case FusedActivation::hard_sigmoid: return fminf(fmaxf(alpha * x + beta, 0.0f), 1.0f);
      case FusedActivation::hard_swish: return x * fminf(fmaxf(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
    }
    return x;
  }
};

inline DeviceActivation device_activation(const ActivationSpec& spec) {
  return DeviceActivation{spec.kind, spec.alpha, spec.beta};
}

// Normalizes an axis attribute to [0, rank), failing with the node's label when out of range.
inline int normalize_axis(int64_t axis, int rank, const std::string& label, const char* what = "axis") {
  if (axis < -rank || axis >= (rank == 0 ? 1 : rank))
    fail(ErrorKind::invalid_model, label, ": ", what, " ", axis, " is out of range for rank ", rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace inferd::gpu

namespace inferd::gpu {

// Sum and max over a block of kBlock threads (every thread gets the result).
template <class Op> __device__ __forceinline__ float block_reduce(float v, Op op) {
  __shared__ float partial[kBlock / 32];
  for (int offset = 16; offset > 0; offset /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // partial may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = partial[0];
  for (int w = 1; w < kBlock / 32; ++w) v = op(v, partial[w]);
  return v;
}
struct sum_op { __device__ float operator()(float a, float b) const { return a + b; } };
struct max_op { __device__ float operator()(float a, float b) const { return fmaxf(a, b); } };
struct min_op { __device__ float operator()(float a, float b) const { return fminf(a, b); } };

}  // namespace inferd::gpu
