// Weights packed once, when a model loads, for the kernels that multiply by them (Gemm, MatMul, the
// optimizer's fused products).
#pragma once

#include <memory>

#include "core/kernel.h"
#include "core/thread_pool.h"
#include "cpu/kernels/sgemm.h"

namespace inferd {

// A float B (input 1) that is constant for the model's life is packed into the panels sgemm reads:
// products of a few rows (small batches) otherwise spend most of their time re-packing it. Null when
// B is computed at run time or is not a float matrix.
inline std::unique_ptr<PackedB> pack_constant_b(const KernelInit& init, bool trans_b) {
  const Tensor* b = init.constant_input(1);
  if (!b || b->dtype != DType::f32 || b->rank() != 2) return nullptr;
  const int64_t K = trans_b ? b->shape[1] : b->shape[0], N = trans_b ? b->shape[0] : b->shape[1];
  return std::make_unique<PackedB>(trans_b, K, N, b->data_as<float>(), b->shape[1]);
}

// Whether a product of M rows should read the prepacked B rather than B as stored. One row on one
// thread is a little faster straight from B (sgemm's GEMV path: 66 against 70 µs for an MLP
// 784-512-512-10); on several threads the packed path's fixed split keeps each thread's share of
// the weights in its own L2 from run to run (17 against 22 µs on two threads).
inline bool use_packed(int64_t M, const KernelContext& ctx) {
  return M > 1 || (ctx.threads && ctx.threads->size() > 1);
}

}  // namespace inferd
