// Transpose on the GPU: any element type (moved by size), any permutation up to kMaxRank dims; a
// thread per output element reads through the permuted input strides.
#pragma once

#include "cuda/ops/common.cuh"
