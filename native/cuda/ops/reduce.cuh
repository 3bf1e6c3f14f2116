// Reductions on the GPU (ReduceSum, ReduceMean, ReduceMax, ReduceMin). The input is split into kept
// and reduced dims: when the reduced dims are the trailing ones, each output's elements are
// contiguous and a block reduces them; otherwise a thread walks each output's elements by strides.
#pragma once

#include "cuda/ops/common.cuh"
