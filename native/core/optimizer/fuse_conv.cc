// Residual and activation fused into Conv:
//   Conv(X, W, B?) → Add(·, Z) → act   ⇒  com.inferd FusedConv(X, W, B?, Z)
// where Z is any non-constant tensor proved (symbolic_shapes.h) to have the Conv output's shape, in
// either operand order — a ResNet's or MobileNet's skip connection — and act one of those
// fusable_activation (graph_edit.h) accepts; each part optional but at least one present. Each
// absorbed value must have the next node as its sole reader and must not be a graph output.
//
// An Add whose shapes cannot be proved equal at load (a broadcast operand, a dim the model leaves
// unnamed) stays an Add: FusedConv's Z never broadcasts, and its schema rejects a Z of another shape,
// so a wrong fusion would be an error rather than a wrong answer. The Conv may still take a
// following activation if the Add is not between them.
#include "core/optimizer/fused_ops.h"
#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"
#include "core/optimizer/symbolic_shapes.h"

namespace inferd::opt {

int fuse_conv_activation(Graph& graph, int opset) {
  if (!GraphEdit::supported(kInternalDomain, "FusedConv", opset)) return 0;
  // Shapes of values do not change as nodes fuse (every value keeps its meaning), so one look
  // before the edits serves them all.
  const SymbolicShapes shapes(graph);
  GraphEdit edit(graph, opset);
  int fused = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    if (!edit.alive(n)) continue;
    const Node& conv = edit.node(n);
    if (!conv.domain.empty() || conv.op_type != "Conv" || conv.outputs.size() != 1 || conv.inputs.size() < 2 ||
        conv.inputs.size() > 3)
      continue;
    // The fused kernel is the float Conv's; a constant W (or the model's declaration) must say so.
    if (edit.known_dtype(conv.inputs[1]) != DType::f32 && edit.known_dtype(conv.inputs[0]) != DType::f32) continue;

    std::vector<ValueId> inputs = conv.inputs;
    inputs.resize(3, kNoValue);
    std::vector<Attribute> attrs(conv.attributes.items().begin(), conv.attributes.items().end());
    std::vector<int> absorbed;
    ValueId out = conv.outputs[0];
    const int add = edit.sole_consumer(out);
    if (add >= 0 && is_binary(edit.node(add), "Add")) {
      const Node& add_node = edit.node(add);
      const ValueId z = add_node.inputs[0] == out ? add_node.inputs[1] : add_node.inputs[0];
      if (z != out && !edit.constant(z) && shapes.same_shape(z, out)) {
        inputs.push_back(z);
        absorbed.push_back(add);
        out = add_node.outputs[0];
      }
    }
    const int act = edit.sole_consumer(out);
    if (act >= 0 && fusable_activation(edit, edit.node(act), &attrs)) {
      absorbed.push_back(act);
      out = edit.node(act).outputs[0];
    }
    if (absorbed.empty()) continue;
    while (inputs.size() > 2 && inputs.back() == kNoValue) inputs.pop_back();

    Node node = make_node(kInternalDomain, "FusedConv", edit.node(n).name, std::move(inputs), {out}, std::move(attrs));
    edit.replace(n, std::move(node), absorbed);
    ++fused;
  }
  edit.commit();
  return fused;
}

}  // namespace inferd::opt
