// cuBLAS, opened with dlopen at run time when the machine has it: the toolkit a build uses need not
// ship cuBLAS, and a binary never fails to load for want of it. Without it the GEMM kernels use
// inferd's own tiled kernel. Only the few entry points inferd calls are declared, with the C ABI
// cuBLAS has kept since CUDA 10 (the _v2 names).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace inferd::gpu {

// A cuBLAS handle bound to one stream (one per session). Unusable (ok() false) without cuBLAS.
class BlasHandle {
 public:
  explicit BlasHandle(cudaStream_t stream);
  ~BlasHandle();
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  bool ok() const { return handle_ != nullptr; }

  // Row-major C[M,N] = alpha * op(A) op(B) + beta * C, batched with element strides (0 = shared).
  // op(A) is [M,K] (A stored [K,M] when trans_a), op(B) is [K,N] (B stored [N,K] when trans_b).
  // Returns false when cuBLAS refused (the caller then uses its own kernel).
  bool sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int64_t stride_a,
             const float* b, int64_t stride_b, float beta, float* c, int64_t stride_c, int batch) const;

 private:
  void* handle_ = nullptr;
};

// True when cuBLAS could be opened; `version` names the library file.
bool blas_available(const char** library = nullptr);

// Opt-in reduced precision for GEMMs (INFERD_CUDA_PRECISION=tf32): TF32 tensor cores, ~10-bit
// mantissa products with FP32 accumulation. FP32 by default.
bool tf32_enabled();

}  // namespace inferd::gpu
