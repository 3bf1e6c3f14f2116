// Concat on the GPU: each input is a block of rows of the output (viewed as [outer, axis · inner]),
// copied with one strided 2-D memcpy on the stream; no kernel of its own.
#pragma once

#include "cuda/ops/common.cuh"
