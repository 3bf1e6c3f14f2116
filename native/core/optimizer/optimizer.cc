#include "core/optimizer/optimizer.h"

#include "core/optimizer/passes.h"

namespace inferd {

// The order matters where one pass makes another's pattern:
//  1. Identity/Dropout removal first, so that no pattern below is broken by a pass-through node.
//  2. Conv + BatchNormalization folding (independent of the rest).
//  3. LayerNorm, GELU and HardSwish recognition before the product fusions: removing a decomposed GELU
//     or HardSwish leaves its input with a single reader, so MatMul → Add → Gelu then fuses into one
//     FusedMatMul, and Conv → HardSwish into one FusedConv.
//  4. Residual and activation into Conv (after BatchNormalization folding, which leaves Conv → Relu
//     where there was Conv → BatchNormalization → Relu), bias and activation into Gemm/MatMul.
//  5. Scales into weights after the product fusions, so that the bias a product absorbed is scaled
//     with its weights.
// Each pass sees the graph as the previous one left it (re-indexed and topologically sorted).
void optimize_graph(Graph& graph, int opset) {
  opt::remove_identities(graph, opset);
  opt::fold_conv_batch_norm(graph, opset);
  opt::fuse_layer_norm(graph, opset);
  opt::fuse_gelu(graph, opset);
  opt::fuse_hard_swish(graph, opset);
  opt::fuse_conv_activation(graph, opset);
  opt::fuse_gemm_activation(graph, opset);
  opt::fold_scale_into_weights(graph, opset);
}

}  // namespace inferd
