// The internal ops load-time passes emit, in the domain "com.inferd". They are registered for every
// opset (1 … kMaxOpset), because the planner looks a node's schema and kernel up at the model's
// ai.onnx opset whatever the node's domain.
//
//   FusedGemm(A, B, C?, residual?)
//                        Gemm (same inputs, attributes transA, transB, alpha, beta and their defaults),
//                        plus an optional residual, followed by an activation.
//   FusedMatMul(A, B, bias?, residual?)
//                        MatMul with a 2-D B [K, N] (A of any rank >= 1, as numpy.matmul), plus an
//                        optional bias broadcast along the last dim (shape [N] or [1]), plus an optional
//                        residual, followed by an activation.
//   residual             a computed tensor added after the bias and before the activation, with the
//                        numpy broadcasting of the Add it replaces: Y = act(product + bias ⊕ residual),
//                        Y of the broadcast shape. Shapes are often unknown at load, so the optimizer
//                        cannot prove the residual has the product's shape; kernels must accept any
//                        shape that broadcasts (the usual case, exactly the product's shape, is the
//                        fast one: added in the product's epilogue). It must not share memory with Y.
//   Gelu(X)              ai.onnx Gelu (opset 20: attribute approximate "none" | "tanh"), for models of
//                        older opsets: the same schema and CPU kernel, registered again here.
//   LayerNormalization(X, Scale, B?)
//                        ai.onnx LayerNormalization (opset 17), likewise for older models.
//   HardSwish(X)         ai.onnx HardSwish (opset 14), likewise for older models.
//   FusedConv(X, W, B?, Z?)
//                        Conv (same inputs and attributes, as ONNX Runtime's com.microsoft FusedConv),
//                        plus an optional Z of exactly Y's shape added to the convolution's result,
//                        then an activation: Y = act(Conv(X, W, B) + Z).
//
// The activation of the fused products, as attributes (ONNX Runtime's FusedGemm spells them so):
//   activation            "" (none), "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu", "Clip",
//                         "HardSigmoid" or "HardSwish"
//   activation_alpha      LeakyRelu's alpha (default 0.01); Clip's min (absent: unbounded);
//                         HardSigmoid's alpha (default 0.2)
//   activation_beta       Clip's max (absent: unbounded); HardSigmoid's beta (default 0.5)
//   activation_approximate
//                         Gelu's approximate: "none" (default) or "tanh"
#pragma once

#include "core/graph.h"

namespace inferd {

inline constexpr const char* kInternalDomain = "com.inferd";

enum class FusedActivation { none, relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh, clip, hard_sigmoid, hard_swish };

struct ActivationSpec {
  FusedActivation kind = FusedActivation::none;
  float alpha = 0;  // leaky_relu: the slope below 0; clip: the lower bound (lowest float when absent);
                    // hard_sigmoid: the slope
  float beta = 0;   // clip: the upper bound (max float when absent); hard_sigmoid: the offset
};

// A fused node's activation from its attributes; throws Error(invalid_model) naming the node and the
// attribute when the activation or its approximation is not one of those above.
ActivationSpec read_activation(const Node& node);

}  // namespace inferd
