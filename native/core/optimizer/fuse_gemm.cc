// Bias, residual and activation fused into matrix products:
//   MatMul(A, B const [K, N]) → Add(bias const [N]) → Add(residual) → act
//                                              ⇒  com.inferd FusedMatMul(A, B, bias, residual)
//   Gemm(A, B, C) → Add(residual) → act        ⇒  com.inferd FusedGemm(A, B, C, residual)
// with act one of those fusable_activation (graph_edit.h) accepts, each part optional but at least
// one present. The residual is any computed value (a transformer's skip connection: MatMul → Add
// bias → Add residual → LayerNormalization). Its shape is usually unknown at load and the Add
// broadcasts, so nothing here checks it: the fused ops take any residual that broadcasts, as the Add
// did (see fused_ops.h). Each absorbed value must have its producer's fused successor as sole reader
// and must not be a graph output. Float only: a constant operand (or the model's declaration) must
// say so, since the fused kernels run the float SGEMM.
#include <algorithm>

#include "core/optimizer/fused_ops.h"
#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"

namespace inferd::opt {
namespace {

// The bias of `add` (an Add reading `product` and a float constant that broadcasts along the last
// dim of a product with N columns), as a constant of shape [N]; kNoValue when it is not one.
ValueId bias_of(GraphEdit& edit, const Node& add, ValueId product, int64_t N) {
  if (!is_binary(add, "Add")) return kNoValue;
  const int other = add.inputs[0] == product ? 1 : 0;
  if (add.inputs[static_cast<size_t>(1 - other)] != product || add.inputs[static_cast<size_t>(other)] == product)
    return kNoValue;
  const ValueId bias = add.inputs[static_cast<size_t>(other)];
  const Tensor* t = edit.constant(bias);
  if (!t || t->dtype != DType::f32 || t->rank() > 1) return kNoValue;
  if (t->rank() == 1 && t->shape[0] == N) return bias;
  if (t->size() != 1) return kNoValue;
  // A one-element bias: spelled out to [N] so the kernel reads one layout.
  Tensor full = Tensor::allocate(DType::f32, {N});
  std::fill_n(full.data_as<float>(), N, *t->data_as<float>());
  return edit.add_constant(edit.graph().value(bias).name + "/broadcast", std::move(full));
}

// The residual of `add` (an Add reading `product` once and, as its other operand, a computed value),
// or kNoValue when it is not one. A constant other operand is a bias, not a residual.
ValueId residual_of(const GraphEdit& edit, const Node& add, ValueId product) {
  if (!is_binary(add, "Add")) return kNoValue;
  const int other = add.inputs[0] == product ? 1 : 0;
  const ValueId residual = add.inputs[static_cast<size_t>(other)];
  if (add.inputs[static_cast<size_t>(1 - other)] != product || residual == product || residual == kNoValue ||
      edit.constant(residual))
    return kNoValue;
  return residual;
}

}  // namespace

int fuse_gemm_activation(Graph& graph, int opset) {
  GraphEdit edit(graph, opset);
  if (!GraphEdit::supported(kInternalDomain, "FusedGemm", opset) ||
      !GraphEdit::supported(kInternalDomain, "FusedMatMul", opset))
    return 0;
  int fused = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    if (!edit.alive(n)) continue;
    const Node& product = edit.node(n);
    if (!product.domain.empty() || product.outputs.size() != 1 || product.inputs.size() < 2) continue;
    const bool matmul = product.op_type == "MatMul";
    if (!matmul && product.op_type != "Gemm") continue;

    std::vector<ValueId> inputs = product.inputs;
    std::vector<Attribute> attrs;
    std::vector<int> absorbed;
    ValueId out = product.outputs[0];
    if (matmul) {
      const Tensor* b = edit.constant(product.inputs[1]);
      if (!b || b->dtype != DType::f32 || b->rank() != 2) continue;
      const int add = edit.sole_consumer(out);
      if (add >= 0) {
        const ValueId bias = bias_of(edit, edit.node(add), out, b->shape[1]);
        if (bias != kNoValue) {
          inputs.push_back(bias);
          absorbed.push_back(add);
          out = edit.node(add).outputs[0];
        }
      }
    } else {
      bool is_float = false;
      for (ValueId in : product.inputs) is_float = is_float || edit.known_dtype(in) == DType::f32;
      if (!is_float) continue;
      for (const Attribute& a : product.attributes.items())
        if (a.name == "transA" || a.name == "transB" || a.name == "alpha" || a.name == "beta") attrs.push_back(a);
    }
    const int add = edit.sole_consumer(out);
    const ValueId residual = add >= 0 ? residual_of(edit, edit.node(add), out) : kNoValue;
    if (residual != kNoValue) {
      inputs.resize(3, kNoValue);  // an absent bias (C) stays an omitted input
      inputs.push_back(residual);
      absorbed.push_back(add);
      out = edit.node(add).outputs[0];
    }
    const int act = edit.sole_consumer(out);
    if (act >= 0 && fusable_activation(edit, edit.node(act), &attrs)) {
      absorbed.push_back(act);
      out = edit.node(act).outputs[0];
    }
    if (absorbed.empty()) continue;

    const std::string& name = edit.node(n).name;
    Node node = make_node(kInternalDomain, matmul ? "FusedMatMul" : "FusedGemm", name, std::move(inputs), {out},
                          std::move(attrs));
    edit.replace(n, std::move(node), absorbed);
    ++fused;
  }
  edit.commit();
  return fused;
}

}  // namespace inferd::opt
