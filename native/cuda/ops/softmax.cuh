// Softmax and LogSoftmax on the GPU: a tensor read as [outer, n, inner] rows along the axis. Rows of
// contiguous elements (inner = 1) get a block each, with block reductions for the max and the sum;
// strided rows get a thread each.
#pragma once

#include "cuda/ops/common.cuh"
