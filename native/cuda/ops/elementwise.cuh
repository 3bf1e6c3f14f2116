// Numpy-broadcasting binary arithmetic on the GPU (Add, Sub, Mul, Div, Pow): one thread per output
// element; equal shapes and a scalar operand take a flat path without index arithmetic.
#pragma once

#include "cuda/ops/common.cuh"
