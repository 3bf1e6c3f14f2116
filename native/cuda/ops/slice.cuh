// Slice on the GPU: any element type, steps of any sign; starts, ends, axes and steps are read on
// the host (attributes before opset 10, host-known inputs after), the output shape is the plan's.
#pragma once

#include "cuda/ops/common.cuh"
