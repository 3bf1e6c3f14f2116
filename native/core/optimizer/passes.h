// The load-time rewrite passes, one file each. Every pass takes the graph after constant folding and
// returns how many rewrites it made; each keeps every graph output's name and meaning, and leaves the
// graph topologically sorted. optimizer.cc runs them in order.
#pragma once

#include "core/graph.h"

namespace inferd::opt {

// Identity, and Dropout whose mask nobody reads (at inference Dropout is the identity), rewired away.
int remove_identities(Graph& graph, int opset);

// Conv feeding only an inference BatchNormalization with constant parameters: one Conv with the
// normalisation folded into its weights and bias.
int fold_conv_batch_norm(Graph& graph, int opset);

// The decomposed LayerNorm older exporters emit (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt,
// Div, Mul γ, Add β over trailing axes): one LayerNormalization.
int fuse_layer_norm(Graph& graph, int opset);

// The decomposed GELU (x·½·(1 + erf(x/√2)) and the tanh approximation), in their common orderings:
// one Gelu.
int fuse_gelu(Graph& graph, int opset);

// The decomposed HardSwish (x · Clip(x + 3, 0, 6) / 6 in its common orderings, and
// x · HardSigmoid(x, ⅙, ½)): one HardSwish.
int fuse_hard_swish(Graph& graph, int opset);

// Conv followed by an Add of a tensor of the conv's output shape (a residual) and/or an activation:
// one com.inferd FusedConv.
int fuse_conv_activation(Graph& graph, int opset);

// MatMul with a constant matrix followed by Add of a constant bias, and Gemm or such a MatMul
// followed by an activation: one com.inferd FusedMatMul / FusedGemm.
int fuse_gemm_activation(Graph& graph, int opset);

// MatMul of two computed operands followed by Div or Mul by a float constant scalar, where one
// operand comes from a MatMul/FusedMatMul with constant weights through layout ops only (attention's
// scores / √d): the weights and bias take the scale and the Div/Mul goes.
int fold_scale_into_weights(Graph& graph, int opset);

}  // namespace inferd::opt
