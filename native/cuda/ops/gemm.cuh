// inferd's own tiled SGEMM, for machines without cuBLAS and for products cuBLAS cannot express in one
// call (broadcast batch dims, Conv's implicit im2col). A block computes a 64×64 tile of C through
// 16-deep slices of A and B staged in shared memory; each of its 256 threads accumulates a 4×4
// patch, whose rows and columns are 16 apart so that a warp's shared-memory reads do not conflict.
// Operands are read through loaders, so that the same kernel computes Gemm, batched MatMul and
// Conv (whose A loader gathers input pixels: an implicit GEMM, no im2col buffer).
//   a(batch, m, k), b(batch, k, n): the operand elements, called only inside [0,M)×[0,K), [0,K)×[0,N)
//   epilogue(batch, m, n, acc): stores one result
#pragma once

#include "cuda/ops/common.cuh"

namespace inferd::gpu {

inline constexpr int kTileM = 64, kTileN = 64, kTileK = 16;

template <class LoadA, class LoadB, class Epilogue>
__global__ void __launch_bounds__(256) tiled_sgemm(int M, int N, int K, LoadA a, LoadB b, Epilogue epilogue) {
  __shared__ float as[kTileK][kTileM + 1];
  __shared__ float bs[kTileK][kTileN];
  const int batch = blockIdx.z;
  const int m0 = blockIdx.y * kTileM, n0 = blockIdx.x * kTileN;
  const int t = threadIdx.x, tx = t % 16, ty = t / 16;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < K; k0 += kTileK) {
    for (int i = 0; i < 4; ++i) {
      const int idx = t + i * 256;
      // A: consecutive threads take consecutive k (row-major A reads coalesce).
      const int ak = idx % kTileK, am = idx / kTileK;
      const int m = m0 + am, k = k0 + ak;
      as[ak][am] = (m < M && k < K) ? a(batch, m, k) : 0.0f;
      // B: consecutive threads take consecutive n.
      const int bn = idx % kTileN, bk = idx / kTileN;
      const int n = n0 + bn, kk = k0 + bk;
      bs[bk][bn] = (n < N && kk < K) ? b(batch, kk, n) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTileK; ++k) {
      float ra[4], rb[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) ra[i] = as[k][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) rb[j] = bs[k][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
      if (m < M && n < N) epilogue(batch, m, n, acc[i][j]);
    }
}

template <class LoadA, class LoadB, class Epilogue>
void launch_tiled_sgemm(int M, int N, int K, int batches, LoadA a, LoadB b, Epilogue epilogue, cudaStream_t stream) {
  if (M == 0 || N == 0 || batches == 0) return;
  const dim3 grid((N + kTileN - 1) / kTileN, (M + kTileM - 1) / kTileM, batches);
  tiled_sgemm<<<grid, 256, 0, stream>>>(M, N, K, a, b, epilogue);
}

// A strided matrix operand: element (m, k) of batch z at base[batch_offset(z) + m*row + k*col].
// Batch offsets come from up to kMaxRank broadcast batch dims.
struct StridedOperand {
  const float* base;
  int64_t row, col;
  Indexer batch_dims;
  Strides batch_strides;
  __device__ __forceinline__ float operator()(int z, int r, int c) const {
    return base[batch_dims.offset(z, batch_strides.s) + r * row + c * col];
  }
};

}  // namespace inferd::gpu
