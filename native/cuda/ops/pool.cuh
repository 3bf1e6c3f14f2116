// Pooling on the GPU: MaxPool and AveragePool (1-D and 2-D; a thread per output element, its window
// walked directly) and the global poolings (a block per channel plane).
#pragma once

#include "cuda/ops/common.cuh"
