// Normalizations on the GPU: LayerNormalization (a block per normalized row, block reductions for
// mean and variance) and BatchNormalization at inference (a per-channel affine map).
#pragma once

#include "cuda/ops/common.cuh"
