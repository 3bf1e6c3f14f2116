// Unary float activations and math on the GPU (Relu, Sigmoid, Tanh, Gelu, Erf, Exp, …): one thread per
// element, the function a functor.
#pragma once

#include "cuda/ops/common.cuh"
