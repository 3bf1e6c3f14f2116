// Conv (1-D and 2-D, groups, strides, dilations, pads) on the GPU as an implicit GEMM: rows are
// output pixels (all images of the batch), columns output channels, the depth input channels × kernel
// taps; the tiled SGEMM's A loader gathers input pixels on the fly, so no im2col buffer exists.
// FusedConv (com.inferd) is the same kernel whose store adds the bias, the residual Z and applies the
// activation, so the fused op costs no pass of its own on the GPU either.
#pragma once

#include "cuda/ops/gemm.cuh"
