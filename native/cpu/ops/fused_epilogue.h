// A fused op's activation (core/optimizer/fused_ops.h) as sgemm's epilogue, which the fused kernels
// (FusedGemm, FusedMatMul, FusedConv) all apply to their results while they are in cache: one copy
// of the activation math, compiled for the CPU's widest ISA with the rest of sgemm.
#pragma once

#include "core/optimizer/fused_ops.h"
#include "cpu/kernels/sgemm.h"

namespace inferd {

inline SgemmActivation sgemm_activation(FusedActivation kind) {
  switch (kind) {
    case FusedActivation::none: return SgemmActivation::none;
    case FusedActivation::relu: return SgemmActivation::relu;
    case FusedActivation::leaky_relu: return SgemmActivation::leaky_relu;
    case FusedActivation::sigmoid: return SgemmActivation::sigmoid;
    case FusedActivation::tanh: return SgemmActivation::tanh;
    case FusedActivation::gelu: return SgemmActivation::gelu;
    case FusedActivation::gelu_tanh: return SgemmActivation::gelu_tanh;
    case FusedActivation::clip: return SgemmActivation::clip;
    case FusedActivation::hard_sigmoid: return SgemmActivation::hard_sigmoid;
    case FusedActivation::hard_swish: return SgemmActivation::hard_swish;
  }
  return SgemmActivation::none;
}

// An epilogue that applies `spec` and nothing else (no bias, no residual yet).
inline SgemmEpilogue activation_epilogue(const ActivationSpec& spec) {
  SgemmEpilogue e;
  e.activation = sgemm_activation(spec.kind);
  e.activation_alpha = spec.alpha;
  e.activation_beta = spec.beta;
  return e;
}

}  // namespace inferd
