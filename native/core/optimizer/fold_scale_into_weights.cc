// A constant scale after a product of two computed operands, moved into the weights that make one
// of them:
//   MatMul(X, W) or com.inferd FusedMatMul(X, W, b?)  (W, b float constants; no residual, no activation)
//     → Reshape | Transpose | Squeeze | Unsqueeze | Flatten …  (any number, each the only node
//       reading its input's values: Shape and Size may read it too)
//     → MatMul(P, R) or MatMul(R, P) → Div(c) or Mul(c)   (c a float constant of one element)
//   ⇒ the same with W/c and b/c (W·c, b·c for Mul), and no Div/Mul.
// Attention's scores Q·Kᵀ / √d are the case: the division is a pass over batch × heads × S² values
// per layer, while Q's projection absorbs it for nothing (exactly, when √d is a power of two). The
// layout ops move values without changing them, so scaling before them is scaling after them.
#include <cmath>

#include "core/optimizer/fused_ops.h"
#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"

namespace inferd::opt {
namespace {

bool moves_values_only(const Node& node) {
  if (!node.domain.empty() || node.outputs.size() != 1 || node.inputs.empty()) return false;
  const std::string& op = node.op_type;
  return op == "Reshape" || op == "Transpose" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten" ||
         op == "Identity";
}

// A float constant matrix, or a float constant vector (the bias), that may be scaled.
bool scalable(const GraphEdit& edit, ValueId v, int rank) {
  const Tensor* t = edit.constant(v);
  return t && t->dtype == DType::f32 && t->rank() == rank;
}

// Node p: a product whose result divided (or multiplied) by c is the same product with its weights
// and bias so scaled.
bool scalable_product(const GraphEdit& edit, const Node& p) {
  if (p.outputs.size() != 1 || p.inputs.size() < 2 || !scalable(edit, p.inputs[1], 2)) return false;
  if (p.domain.empty() && p.op_type == "MatMul") return true;
  if (p.domain != kInternalDomain || p.op_type != "FusedMatMul") return false;
  if (p.inputs.size() > 3 && p.inputs[3] != kNoValue) return false;  // a residual is not scaled
  if (p.inputs.size() > 2 && p.inputs[2] != kNoValue && !scalable(edit, p.inputs[2], 1)) return false;
  return read_activation(p).kind == FusedActivation::none;
}

// Whether `reader` is the only node that reads v's values (once): Shape and Size read its shape only,
// which scaling leaves alone (exporters compute Reshape targets from Shape(q)).
bool sole_value_reader(const GraphEdit& edit, ValueId v, int reader) {
  if (edit.pinned(v)) return false;
  int reads = 0;
  for (int c : edit.consumers(v)) {
    const Node& node = edit.node(c);
    if (c == reader) ++reads;
    else if (!node.domain.empty() || (node.op_type != "Shape" && node.op_type != "Size")) return false;
  }
  return reads == 1;
}

// The product that makes `v` through layout ops only, each value on the way read by the next node
// alone (`reader` reads v); -1 when there is none.
int product_behind(const GraphEdit& edit, ValueId v, int reader) {
  for (;;) {
    const int p = edit.producer(v);
    if (p < 0 || !sole_value_reader(edit, v, reader)) return -1;
    const Node& node = edit.node(p);
    if (scalable_product(edit, node)) return p;
    if (!moves_values_only(node)) return -1;
    reader = p;
    v = node.inputs[0];
  }
}

ValueId scaled(GraphEdit& edit, ValueId v, double c, bool divide) {
  const Tensor& t = *edit.constant(v);
  Tensor out = Tensor::allocate(DType::f32, t.shape);
  const float* in = t.data_as<float>();
  float* o = out.data_as<float>();
  const float f = static_cast<float>(c);
  for (int64_t i = 0; i < t.size(); ++i) o[i] = divide ? in[i] / f : in[i] * f;
  return edit.add_constant(edit.graph().value(v).name + (divide ? "/divided" : "/scaled"), std::move(out));
}

}  // namespace

int fold_scale_into_weights(Graph& graph, int opset) {
  GraphEdit edit(graph, opset);
  int folded = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    if (!edit.alive(n)) continue;
    const Node& scale = edit.node(n);
    const bool divide = is_binary(scale, "Div");
    if (!divide && !is_binary(scale, "Mul")) continue;
    const int x_slot = other_than_constant(edit, scale);
    if (x_slot < 0 || (divide && x_slot != 0)) continue;  // c / x is not a scale
    const ValueId c_value = scale.inputs[static_cast<size_t>(1 - x_slot)];
    double c;
    if (edit.known_dtype(c_value) != DType::f32 || !edit.scalar(c_value, &c) || !std::isfinite(c) || c == 0) continue;
    const ValueId scores = scale.inputs[static_cast<size_t>(x_slot)];
    const int mm = edit.producer(scores);
    if (mm < 0 || edit.sole_consumer(scores) != n) continue;
    const Node& matmul = edit.node(mm);
    if (!matmul.domain.empty() || matmul.op_type != "MatMul" || matmul.inputs.size() != 2) continue;
    int p = product_behind(edit, matmul.inputs[0], mm);
    if (p < 0) p = product_behind(edit, matmul.inputs[1], mm);
    if (p < 0) continue;

    Node product = edit.node(p);
    product.inputs[1] = scaled(edit, product.inputs[1], c, divide);
    if (product.inputs.size() > 2 && product.inputs[2] != kNoValue)
      product.inputs[2] = scaled(edit, product.inputs[2], c, divide);
    edit.replace(p, std::move(product));
    // The MatMul now writes what the Div/Mul wrote (a graph output keeps its name).
    const ValueId result = edit.node(n).outputs[0];
    edit.remove(n);
    edit.set_output(mm, 0, result);
    ++folded;
  }
  edit.commit();
  return folded;
}

}  // namespace inferd::opt
