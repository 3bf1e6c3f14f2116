// Decomposed HardSwish → one HardSwish node. Exporters of models older than opset 14 (which added the
// op) write x · relu6(x + 3) / 6 in pieces; the forms recognised, in either operand order:
//   c = Clip(x + 3, 0, 6)       bounds as attributes (opset < 11) or constant inputs (opset ≥ 11)
//   y = (x · c) / 6,  (x · c) · ⅙,  x · (c / 6)  or  x · (c · ⅙)
// and y = x · HardSigmoid(x) with alpha ⅙ and beta ½. Constants may be scalars or one-element
// tensors. Models of opset 14 and later get ai.onnx HardSwish; older ones com.inferd HardSwish (the
// same schema and kernel).
//
// Paddle's MobileNetV3 exports are the first form, (x · c) / 6, after every BatchNormalization; x
// then has two readers (the Add and the Mul) until this pass leaves it one, which lets the
// producing Conv absorb the activation (fuse_conv.cc).
#include <cmath>

#include "core/optimizer/fused_ops.h"
#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"

namespace inferd::opt {
namespace {

struct Match {
  std::vector<int> nodes;  // every node of the pattern but the anchor (Clip or HardSigmoid)
  ValueId x = kNoValue;
  ValueId y = kNoValue;
};

// The node reading v alone, when it is a binary `op`; else -1.
int sole_binary_consumer(const GraphEdit& edit, ValueId v, const char* op) {
  const int c = edit.sole_consumer(v);
  return c >= 0 && is_binary(edit.node(c), op) ? c : -1;
}

// The operand of binary `node` other than `v` (kNoValue when both are v).
ValueId other_operand(const Node& node, ValueId v) {
  if (node.inputs[0] == v) return node.inputs[1] == v ? kNoValue : node.inputs[1];
  return node.inputs[1] == v ? node.inputs[0] : kNoValue;
}

// Division by 6 (Div(v, 6)) or multiplication by ⅙ (either order), reading v alone: its output, or
// kNoValue.
ValueId divided_by_six(const GraphEdit& edit, ValueId v, std::vector<int>* nodes) {
  const int c = edit.sole_consumer(v);
  if (c < 0) return kNoValue;
  const Node& node = edit.node(c);
  const bool div = is_binary(node, "Div") && node.inputs[0] == v && node.inputs[1] != v &&
                   edit.scalar_near(node.inputs[1], 6.0);
  const bool mul = is_binary(node, "Mul") && edit.scalar_near(other_operand(node, v), 1.0 / 6.0);
  if (!div && !mul) return kNoValue;
  nodes->push_back(c);
  return node.outputs[0];
}

// Clip's bounds are 0 and 6: attributes before opset 11, constant inputs from 11.
bool clips_to_relu6(const GraphEdit& edit, const Node& clip) {
  if (edit.opset() < 11) {
    return clip.inputs.size() == 1 && clip.attributes.has("min") && clip.attributes.has("max") &&
           clip.attributes.get_float("min", 1) == 0.0f && clip.attributes.get_float("max", 0) == 6.0f;
  }
  double lo;
  return clip.inputs.size() == 3 && edit.scalar(clip.inputs[1], &lo) && lo == 0.0 &&
         edit.scalar_near(clip.inputs[2], 6.0);
}

// From Clip(x + 3, 0, 6): x, then the product and the division by 6 in any of the orders above.
bool match_clip(const GraphEdit& edit, int clip, Match* m) {
  const Node& node = edit.node(clip);
  if (node.inputs.empty() || node.outputs.size() != 1 || !clips_to_relu6(edit, node)) return false;
  const ValueId shifted = node.inputs[0];
  const int add = edit.producer(shifted);
  if (add < 0 || edit.sole_consumer(shifted) != clip || !is_binary(edit.node(add), "Add")) return false;
  const Node& add_node = edit.node(add);
  const int x_slot = other_than_constant(edit, add_node);
  if (x_slot < 0 || !edit.scalar_near(add_node.inputs[static_cast<size_t>(1 - x_slot)], 3.0)) return false;
  m->x = add_node.inputs[static_cast<size_t>(x_slot)];
  m->nodes.push_back(add);

  const ValueId c = node.outputs[0];
  // x · c first, then / 6.
  if (const int mul = sole_binary_consumer(edit, c, "Mul"); mul >= 0) {
    const Node& mul_node = edit.node(mul);
    if (other_operand(mul_node, c) == m->x) {
      m->nodes.push_back(mul);
      m->y = divided_by_six(edit, mul_node.outputs[0], &m->nodes);
      return m->y != kNoValue;
    }
  }
  // c / 6 first, then x ·.
  const ValueId scaled = divided_by_six(edit, c, &m->nodes);
  if (scaled == kNoValue) return false;
  const int mul = sole_binary_consumer(edit, scaled, "Mul");
  if (mul < 0 || other_operand(edit.node(mul), scaled) != m->x) return false;
  m->nodes.push_back(mul);
  m->y = edit.node(mul).outputs[0];
  return true;
}

// x · HardSigmoid(x) with alpha ⅙, beta ½.
bool match_hard_sigmoid(const GraphEdit& edit, int hs, Match* m) {
  const Node& node = edit.node(hs);
  if (node.inputs.size() != 1 || node.outputs.size() != 1 || node.inputs[0] == kNoValue) return false;
  const float alpha = node.attributes.get_float("alpha", 0.2f), beta = node.attributes.get_float("beta", 0.5f);
  if (std::fabs(alpha - 1.0 / 6.0) > 1e-4 / 6.0 || beta != 0.5f) return false;
  const int mul = sole_binary_consumer(edit, node.outputs[0], "Mul");
  if (mul < 0 || other_operand(edit.node(mul), node.outputs[0]) != node.inputs[0]) return false;
  m->x = node.inputs[0];
  m->nodes.push_back(mul);
  m->y = edit.node(mul).outputs[0];
  return true;
}

}  // namespace

int fuse_hard_swish(Graph& graph, int opset) {
  const char* domain = opset >= 14 ? "" : kInternalDomain;
  if (!GraphEdit::supported(domain, "HardSwish", opset)) return 0;
  GraphEdit edit(graph, opset);
  int fused = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    if (!edit.alive(n) || !edit.node(n).domain.empty()) continue;
    const std::string& op = edit.node(n).op_type;
    const bool clip = op == "Clip";
    if (!clip && op != "HardSigmoid") continue;
    Match m;
    if (!(clip ? match_clip(edit, n, &m) : match_hard_sigmoid(edit, n, &m))) continue;
    // HardSwish takes float and double; the constant 3 says x's type (Add's operands share one), and an
    // integer Clip chain (possible from opset 12) stays as it is. HardSigmoid takes what HardSwish does.
    if (clip) {
      const Node& add = edit.node(m.nodes[0]);
      const DType dtype = edit.known_dtype(add.inputs[add.inputs[0] == m.x ? 1 : 0]);
      if (dtype != DType::f32 && dtype != DType::f64) continue;
    }
    Node hard_swish = make_node(domain, "HardSwish", edit.node(n).name, {m.x}, {m.y});
    edit.replace(n, std::move(hard_swish), m.nodes);
    ++fused;
  }
  edit.commit();
  return fused;
}

}  // namespace inferd::opt
