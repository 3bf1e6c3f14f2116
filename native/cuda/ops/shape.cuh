// The ops that only relabel a tensor's shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity, and
// Dropout at inference): one device-to-device copy, since plans never alias outputs to inputs.
#pragma once

#include "cuda/ops/common.cuh"
