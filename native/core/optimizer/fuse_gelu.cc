// Decomposed GELU → one Gelu node. Two families, each in the orderings exporters produce:
//   erf:   a = 1 + Erf(x / √2)                               (or Erf(x · 1/√2))
//   tanh:  a = 1 + Tanh(√(2/π) · (x + 0.044715 · x³))        (x³ as Pow(x, 3), x·(x·x) or (x·x)·x)
// then y = x · a · ½ as ((x · a) · ½), (x · (a · ½)) or ((x · ½) · a), any operand order.
// Models of opset 20 and later get ai.onnx Gelu; older ones the same op registered as com.inferd Gelu.
#include <cmath>

#include "core/optimizer/fused_ops.h"
#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"

namespace inferd::opt {
namespace {

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;

struct Match {
  std::vector<int> nodes;  // every node of the pattern but the anchor (Erf or Tanh)
  ValueId x = kNoValue;
  ValueId y = kNoValue;
  DType dtype = DType::undefined;  // the constants' type, hence x's
};

// `v`'s producer when it is a binary `op` whose only reader is `reader`; else -1.
int producer_read_only_by(const GraphEdit& edit, ValueId v, int reader, const char* op) {
  const int p = edit.producer(v);
  if (p < 0 || edit.sole_consumer(v) != reader || !is_binary(edit.node(p), op)) return -1;
  return p;
}

// For a binary node with one constant operand near `expected`: the other operand; else kNoValue.
ValueId operand_beside(const GraphEdit& edit, const Node& node, double expected) {
  const int other = other_than_constant(edit, node);
  if (other < 0 || !edit.scalar_near(node.inputs[static_cast<size_t>(1 - other)], expected)) return kNoValue;
  return node.inputs[static_cast<size_t>(other)];
}

// The node reading v alone, when it is a binary `op`; else -1.
int sole_binary_consumer(const GraphEdit& edit, ValueId v, const char* op) {
  const int c = edit.sole_consumer(v);
  return c >= 0 && is_binary(edit.node(c), op) ? c : -1;
}

// From the Erf or Tanh output: the Add of 1, then x · a · ½ in one of its orderings. Fills m.nodes
// and m.y; false when the rest of the pattern is not there.
bool match_tail(const GraphEdit& edit, ValueId inner, Match* m) {
  const int add = sole_binary_consumer(edit, inner, "Add");
  if (add < 0 || operand_beside(edit, edit.node(add), 1.0) != inner) return false;
  const Node& add_node = edit.node(add);
  m->dtype = edit.known_dtype(add_node.inputs[add_node.inputs[0] == inner ? 1 : 0]);
  const ValueId a = edit.node(add).outputs[0];
  const int k1 = sole_binary_consumer(edit, a, "Mul");
  if (k1 < 0) return false;
  const Node& mul1 = edit.node(k1);
  const ValueId other = mul1.inputs[0] == a ? mul1.inputs[1] : mul1.inputs[0];
  if (other == a) return false;
  m->nodes.push_back(add);
  m->nodes.push_back(k1);
  if (other == m->x || edit.scalar_near(other, 0.5)) {
    // (x · a) · ½  or  x · (a · ½): one more Mul by whichever factor is missing.
    const int k2 = sole_binary_consumer(edit, mul1.outputs[0], "Mul");
    if (k2 < 0) return false;
    const Node& mul2 = edit.node(k2);
    const ValueId last = mul2.inputs[0] == mul1.outputs[0] ? mul2.inputs[1] : mul2.inputs[0];
    const bool ok = other == m->x ? edit.scalar_near(last, 0.5) : last == m->x;
    if (!ok) return false;
    m->nodes.push_back(k2);
    m->y = mul2.outputs[0];
    return true;
  }
  // (x · ½) · a
  const int half = producer_read_only_by(edit, other, k1, "Mul");
  if (half < 0 || operand_beside(edit, edit.node(half), 0.5) != m->x) return false;
  m->nodes.push_back(half);
  m->y = mul1.outputs[0];
  return true;
}

// Erf(x / √2) or Erf(x · 1/√2).
bool match_erf(const GraphEdit& edit, int erf, Match* m) {
  const Node& node = edit.node(erf);
  if (node.inputs.size() != 1 || node.outputs.size() != 1) return false;
  const ValueId d = node.inputs[0];
  int scale = producer_read_only_by(edit, d, erf, "Div");
  if (scale >= 0) {
    const Node& div = edit.node(scale);
    if (!edit.scalar_near(div.inputs[1], kSqrt2) || edit.constant(div.inputs[0])) return false;
    m->x = div.inputs[0];
  } else {
    scale = producer_read_only_by(edit, d, erf, "Mul");
    if (scale < 0) return false;
    m->x = operand_beside(edit, edit.node(scale), 1.0 / kSqrt2);
    if (m->x == kNoValue) return false;
  }
  m->nodes.push_back(scale);
  return match_tail(edit, node.outputs[0], m);
}

// x³ read only by `reader`: Pow(x, 3), x·(x·x) or (x·x)·x.
bool match_cube(const GraphEdit& edit, ValueId q, ValueId x, int reader, Match* m) {
  const int p = edit.producer(q);
  if (p < 0 || edit.sole_consumer(q) != reader) return false;
  const Node& node = edit.node(p);
  if (is_binary(node, "Pow")) {
    if (node.inputs[0] != x || !edit.scalar_near(node.inputs[1], 3.0)) return false;
    m->nodes.push_back(p);
    return true;
  }
  if (!is_binary(node, "Mul")) return false;
  const ValueId sq = node.inputs[0] == x ? node.inputs[1] : node.inputs[0];
  if (node.inputs[0] != x && node.inputs[1] != x) return false;
  const int s = producer_read_only_by(edit, sq, p, "Mul");
  if (s < 0 || edit.node(s).inputs[0] != x || edit.node(s).inputs[1] != x) return false;
  m->nodes.push_back(p);
  m->nodes.push_back(s);
  return true;
}

// Tanh(√(2/π) · (x + 0.044715 · x³)).
bool match_tanh(const GraphEdit& edit, int tanh, Match* m) {
  const Node& node = edit.node(tanh);
  if (node.inputs.size() != 1 || node.outputs.size() != 1) return false;
  const int scale = producer_read_only_by(edit, node.inputs[0], tanh, "Mul");
  if (scale < 0) return false;
  const ValueId s = operand_beside(edit, edit.node(scale), kSqrt2OverPi);
  const int sum = s == kNoValue ? -1 : producer_read_only_by(edit, s, scale, "Add");
  if (sum < 0) return false;
  const Node& add = edit.node(sum);
  for (size_t i = 0; i < 2; ++i) {
    const ValueId x = add.inputs[i], c = add.inputs[1 - i];
    const int cubic = producer_read_only_by(edit, c, sum, "Mul");
    if (cubic < 0 || edit.constant(x)) continue;
    const ValueId q = operand_beside(edit, edit.node(cubic), 0.044715);
    Match attempt = *m;
    attempt.x = x;
    attempt.nodes.insert(attempt.nodes.end(), {scale, sum, cubic});
    if (q == kNoValue || !match_cube(edit, q, x, cubic, &attempt)) continue;
    if (!match_tail(edit, node.outputs[0], &attempt)) continue;
    *m = std::move(attempt);
    return true;
  }
  return false;
}

}  // namespace

int fuse_gelu(Graph& graph, int opset) {
  const char* domain = opset >= 20 ? "" : kInternalDomain;
  if (!GraphEdit::supported(domain, "Gelu", opset)) return 0;
  GraphEdit edit(graph, opset);
  int fused = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    if (!edit.alive(n) || !edit.node(n).domain.empty()) continue;
    const std::string& op = edit.node(n).op_type;
    const bool erf = op == "Erf";
    if (!erf && op != "Tanh") continue;
    Match m;
    if (!(erf ? match_erf(edit, n, &m) : match_tanh(edit, n, &m))) continue;
    // The constants say the type: float and double have Gelu kernels, other types stay decomposed.
    if (m.dtype != DType::f32 && m.dtype != DType::f64) continue;
    std::vector<Attribute> attrs;
    if (!erf) attrs.push_back(string_attribute("approximate", "tanh"));
    Node gelu = make_node(domain, "Gelu", edit.node(n).name, {m.x}, {m.y}, std::move(attrs));
    edit.replace(n, std::move(gelu), m.nodes);
    ++fused;
  }
  edit.commit();
  return fused;
}

}  // namespace inferd::opt
