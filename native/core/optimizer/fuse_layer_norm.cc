// The decomposed LayerNorm older exporters emit, over the last k axes of x:
//   m = ReduceMean(x);  d = x − m;  v = ReduceMean(Pow(d, 2) or d·d);  s = Sqrt(v + ε);  n = d / s
//   y = n · γ + β       (γ and β constants, each optional, either operand order)
// becomes LayerNormalization(x, γ, β) with axis = −k and epsilon = ε: ai.onnx from opset 17, the same
// op registered as com.inferd LayerNormalization for older models. Float only (ε's type says so).
#include <algorithm>

#include "core/optimizer/fused_ops.h"
#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"

namespace inferd::opt {
namespace {

// The k of reduction axes that are exactly the last k of x ([-k … -1], or positive axes when x's
// rank is declared); 0 otherwise.
int64_t trailing_axes(const GraphEdit& edit, ValueId x, std::vector<int64_t> axes) {
  const Value& v = edit.graph().value(x);
  const int64_t rank = v.has_shape ? static_cast<int64_t>(v.dims.size()) : -1;
  for (int64_t& a : axes) {
    if (a >= 0) {
      if (rank < 0 || a >= rank) return 0;
      a -= rank;
    }
  }
  std::sort(axes.begin(), axes.end());
  const int64_t k = static_cast<int64_t>(axes.size());
  for (int64_t i = 0; i < k; ++i)
    if (axes[static_cast<size_t>(i)] != i - k) return 0;
  return k;
}

// The constant operand of `node` (a binary op reading `v`) when it is float with rank <= k, so that it
// broadcasts the same way over the normalised dims as over all of x; else kNoValue.
ValueId affine_operand(const GraphEdit& edit, const Node& node, ValueId v, int64_t k) {
  const size_t other = node.inputs[0] == v ? 1 : 0;
  if (node.inputs[1 - other] != v) return kNoValue;
  const Tensor* t = edit.constant(node.inputs[other]);
  if (!t || t->dtype != DType::f32 || t->rank() > k) return kNoValue;
  return node.inputs[other];
}

}  // namespace

int fuse_layer_norm(Graph& graph, int opset) {
  const char* domain = opset >= 17 ? "" : kInternalDomain;
  if (!GraphEdit::supported(domain, "LayerNormalization", opset)) return 0;
  GraphEdit edit(graph, opset);
  int fused = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    if (!edit.alive(n)) continue;
    std::vector<int64_t> axes;
    if (!reduce_axes(edit, edit.node(n), &axes)) continue;
    const ValueId x = edit.node(n).inputs[0];
    const int64_t k = trailing_axes(edit, x, axes);
    if (k == 0 || edit.constant(x)) continue;
    std::vector<int> nodes;

    // d = x − mean(x), read by the square and by the Div only.
    const ValueId mean = edit.node(n).outputs[0];
    const int sub = edit.sole_consumer(mean);
    if (sub < 0 || !is_binary(edit.node(sub), "Sub") || edit.node(sub).inputs[0] != x ||
        edit.node(sub).inputs[1] != mean)
      continue;
    const ValueId d = edit.node(sub).outputs[0];
    if (edit.pinned(d)) continue;
    std::vector<int> readers = edit.consumers(d);
    std::sort(readers.begin(), readers.end());
    readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
    if (readers.size() != 2) continue;
    int square = -1, div = -1;
    for (int r : readers) {
      const Node& node = edit.node(r);
      if (is_binary(node, "Pow") && node.inputs[0] == d && edit.scalar_near(node.inputs[1], 2.0)) square = r;
      else if (is_binary(node, "Mul") && node.inputs[0] == d && node.inputs[1] == d) square = r;
      else if (is_binary(node, "Div") && node.inputs[0] == d && node.inputs[1] != d) div = r;
    }
    if (square < 0 || div < 0 || edit.consumers(d).size() != (edit.node(square).op_type == "Mul" ? 3u : 2u)) continue;

    // v = mean(d²) over the same axes; s = √(v + ε); the Div reads s.
    const int var = edit.sole_consumer(edit.node(square).outputs[0]);
    std::vector<int64_t> var_axes;
    if (var < 0 || !reduce_axes(edit, edit.node(var), &var_axes) || var_axes != axes) continue;
    const ValueId v = edit.node(var).outputs[0];
    const int add_eps = edit.sole_consumer(v);
    if (add_eps < 0 || !is_binary(edit.node(add_eps), "Add")) continue;
    const Node& eps_node = edit.node(add_eps);
    const ValueId eps_value = eps_node.inputs[0] == v ? eps_node.inputs[1] : eps_node.inputs[0];
    double epsilon;
    if (eps_value == v || !edit.scalar(eps_value, &epsilon) || edit.known_dtype(eps_value) != DType::f32) continue;
    const int sqrt = edit.sole_consumer(eps_node.outputs[0]);
    if (sqrt < 0) continue;
    const Node& sqrt_node = edit.node(sqrt);
    if (!sqrt_node.domain.empty() || sqrt_node.op_type != "Sqrt" || sqrt_node.outputs.size() != 1 ||
        edit.sole_consumer(sqrt_node.outputs[0]) != div || edit.node(div).inputs[1] != sqrt_node.outputs[0])
      continue;
    nodes.insert(nodes.end(), {sub, square, var, add_eps, sqrt, div});

    // y = n · γ + β, each step optional.
    ValueId y = edit.node(div).outputs[0], gamma = kNoValue, beta = kNoValue;
    int next = edit.sole_consumer(y);
    if (next >= 0 && is_binary(edit.node(next), "Mul") &&
        (gamma = affine_operand(edit, edit.node(next), y, k)) != kNoValue) {
      nodes.push_back(next);
      y = edit.node(next).outputs[0];
      next = edit.sole_consumer(y);
    }
    if (next >= 0 && is_binary(edit.node(next), "Add") &&
        (beta = affine_operand(edit, edit.node(next), y, k)) != kNoValue) {
      nodes.push_back(next);
      y = edit.node(next).outputs[0];
    }
    if (gamma == kNoValue) {
      // LayerNormalization's Scale is required: a one, broadcast over the normalised dims.
      Tensor one = Tensor::allocate(DType::f32, {1});
      *one.data_as<float>() = 1.0f;
      gamma = edit.add_constant(edit.graph().value(x).name + "/layer_norm_scale", std::move(one));
    }

    std::vector<ValueId> inputs = {x, gamma};
    if (beta != kNoValue) inputs.push_back(beta);
    Node layer_norm = make_node(domain, "LayerNormalization", edit.node(n).name, std::move(inputs), {y},
                                {int_attribute("axis", -k), float_attribute("epsilon", static_cast<float>(epsilon))});
    edit.replace(n, std::move(layer_norm), nodes);
    ++fused;
  }
  edit.commit();
  return fused;
}

}  // namespace inferd::opt
