// Identity and inference Dropout removal: readers of the output read the input instead. When the
// output is a graph output (or a name a subgraph reads) its name must stay, so the input's producer
// is made to write it directly; when the input has no producer (a graph input or a constant) or is
// itself pinned, the node stays.
#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"

namespace inferd::opt {
namespace {

// Dropout computes nothing at inference. It stays when its mask is read (the mask would have to be
// made) or when training_mode is a constant true (the caller asked for what the engine does not do,
// and the Dropout kernel says so).
bool removable_dropout(const GraphEdit& edit, const Node& node) {
  if (node.outputs.size() > 1 && node.outputs[1] != kNoValue &&
      (edit.pinned(node.outputs[1]) || !edit.consumers(node.outputs[1]).empty()))
    return false;
  double training = 0;
  if (node.inputs.size() > 2 && edit.scalar(node.inputs[2], &training) && training != 0) return false;
  return true;
}

}  // namespace

int remove_identities(Graph& graph, int opset) {
  GraphEdit edit(graph, opset);
  int removed = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    const Node& node = edit.node(n);
    if (!edit.alive(n) || !node.domain.empty() || node.inputs.empty() || node.outputs.empty()) continue;
    if (node.op_type == "Dropout") {
      if (!removable_dropout(edit, node)) continue;
    } else if (node.op_type != "Identity") {
      continue;
    }
    const ValueId x = node.inputs[0], y = node.outputs[0];
    if (x == kNoValue) continue;
    if (y == kNoValue || !edit.pinned(y)) {
      edit.remove(n);
      if (y != kNoValue) edit.replace_uses(y, x);
      ++removed;
      continue;
    }
    const int p = edit.producer(x);
    if (p < 0 || edit.pinned(x)) continue;
    size_t slot = 0;
    while (edit.node(p).outputs[slot] != x) ++slot;
    edit.remove(n);
    edit.set_output(p, slot, y);
    edit.replace_uses(x, y);
    ++removed;
  }
  edit.commit();
  return removed;
}

}  // namespace inferd::opt
