// Conv → BatchNormalization folding. At inference BatchNormalization is, per output channel m,
// y = (x − mean[m]) · s[m] + β[m] with s[m] = γ[m] / √(var[m] + ε): an affine map that a Conv can
// absorb, W'[m] = W[m] · s[m] and b'[m] = (b[m] − mean[m]) · s[m] + β[m]. The new weights are new
// constants (the old ones may be shared with other nodes; load-time folding drops them when unread).
#include <cmath>

#include "core/optimizer/graph_edit.h"
#include "core/optimizer/passes.h"

namespace inferd::opt {
namespace {

// The data of a float constant of shape [count] (a per-channel parameter), or null.
const float* channel_vector(const GraphEdit& edit, ValueId v, int64_t count) {
  const Tensor* t = edit.constant(v);
  if (!t || t->dtype != DType::f32 || t->rank() != 1 || t->shape[0] != count) return nullptr;
  return t->data_as<float>();
}

// BatchNormalization in inference form: one output read (the others, running and saved statistics,
// omitted or unread), training_mode off, per-channel (`spatial` 1 before opset 9).
bool inference_batch_norm(const GraphEdit& edit, const Node& bn) {
  if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.size() != 5 || bn.outputs.empty())
    return false;
  if (bn.attributes.get_int("training_mode", 0) != 0 || bn.attributes.get_int("spatial", 1) != 1) return false;
  for (size_t i = 1; i < bn.outputs.size(); ++i)
    if (bn.outputs[i] != kNoValue && (edit.pinned(bn.outputs[i]) || !edit.consumers(bn.outputs[i]).empty()))
      return false;
  return bn.outputs[0] != kNoValue;
}

}  // namespace

int fold_conv_batch_norm(Graph& graph, int opset) {
  GraphEdit edit(graph, opset);
  int folded = 0;
  for (int n = 0; n < static_cast<int>(edit.node_count()); ++n) {
    if (!edit.alive(n)) continue;
    const Node& conv = edit.node(n);
    if (!conv.domain.empty() || conv.op_type != "Conv" || conv.inputs.size() < 2 || conv.outputs.size() != 1) continue;
    const Tensor* w = edit.constant(conv.inputs[1]);
    if (!w || w->dtype != DType::f32 || w->rank() < 3 || w->shape[0] <= 0) continue;
    const int64_t M = w->shape[0];
    const bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] != kNoValue;
    const float* bias = has_bias ? channel_vector(edit, conv.inputs[2], M) : nullptr;
    if (has_bias && !bias) continue;
    const int b = edit.sole_consumer(conv.outputs[0]);
    if (b < 0) continue;
    const Node& bn = edit.node(b);
    if (!inference_batch_norm(edit, bn) || bn.inputs[0] != conv.outputs[0]) continue;
    const float* gamma = channel_vector(edit, bn.inputs[1], M);
    const float* beta = channel_vector(edit, bn.inputs[2], M);
    const float* mean = channel_vector(edit, bn.inputs[3], M);
    const float* var = channel_vector(edit, bn.inputs[4], M);
    if (!gamma || !beta || !mean || !var) continue;
    const double epsilon = bn.attributes.get_float("epsilon", 1e-5f);

    Tensor new_w = Tensor::allocate(DType::f32, w->shape);
    Tensor new_b = Tensor::allocate(DType::f32, {M});
    const int64_t per_channel = w->size() / M;
    for (int64_t m = 0; m < M; ++m) {
      const double s = gamma[m] / std::sqrt(static_cast<double>(var[m]) + epsilon);
      const float* src = w->data_as<float>() + m * per_channel;
      float* dst = new_w.data_as<float>() + m * per_channel;
      for (int64_t k = 0; k < per_channel; ++k) dst[k] = static_cast<float>(src[k] * s);
      new_b.data_as<float>()[m] = static_cast<float>(((bias ? bias[m] : 0.0) - mean[m]) * s + beta[m]);
    }
    const std::string name = conv.name.empty() ? "conv" : conv.name;
    Node fused = conv;
    fused.inputs.resize(3);
    fused.inputs[1] = edit.add_constant(name + "/folded_weight", std::move(new_w));
    fused.inputs[2] = edit.add_constant(name + "/folded_bias", std::move(new_b));
    fused.outputs = {bn.outputs[0]};
    edit.remove(b);
    edit.replace(n, std::move(fused));
    ++folded;
  }
  edit.commit();
  return folded;
}

}  // namespace inferd::opt
