// Gather on the GPU: any element type (moved by size), int32 or int64 indices, negative indices
// counted from the end. An index out of range writes zeros (a kernel cannot throw; the CPU kernel
// reports it).
#pragma once

#include "cuda/ops/common.cuh"
