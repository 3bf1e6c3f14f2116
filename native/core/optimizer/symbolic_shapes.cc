#include "core/optimizer/symbolic_shapes.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>

namespace inferd::opt {
namespace {

bool is_number(const std::string& dim) { return !dim.empty() && std::isdigit(static_cast<unsigned char>(dim[0])); }

// Ops whose output 0 has input 0's shape.
const std::set<std::string>& same_shape_ops() {
  static const std::set<std::string> ops = {
      "Relu",  "LeakyRelu", "Sigmoid", "Tanh",     "HardSigmoid", "HardSwish", "Clip",     "Gelu",
      "Elu",   "Selu",      "Softplus", "PRelu",   "Identity",    "Dropout",   "Neg",      "Abs",
      "Exp",   "Log",       "Sqrt",    "Erf",      "Reciprocal",  "Softmax",   "LogSoftmax", "Cast",
      "BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN"};
  return ops;
}

// numpy-style broadcasting ops.
const std::set<std::string>& broadcast_ops() {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean"};
  return ops;
}

// One spatial output dim of a Conv or pool: floor((in + pads − extent) / stride) + 1 (ceil with
// ceil_mode), or ceil(in / stride) under SAME_*. A named `in` gives an expression, or `in` itself when
// the window keeps the size.
std::string window_dim(const std::string& in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_sum,
                       const std::string& auto_pad, bool ceil_mode) {
  if (stride < 1 || kernel < 1 || dilation < 1) return "";
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  const int64_t pads = auto_pad == "VALID" ? 0 : pad_sum;
  const int64_t extent = (kernel - 1) * dilation + 1;
  if (is_number(in)) {
    const int64_t n = std::stoll(in);
    if (same) return std::to_string((n + stride - 1) / stride);
    const int64_t span = n + pads - extent;
    if (span < 0) return "";
    return std::to_string((ceil_mode ? (span + stride - 1) / stride : span / stride) + 1);
  }
  if (stride == 1 && (same || pads == extent - 1)) return in;
  if (same) return "ceil(" + in + "/" + std::to_string(stride) + ")";
  return std::string(ceil_mode ? "ceil" : "floor") + "((" + in + "+" + std::to_string(pads - extent) + ")/" +
         std::to_string(stride) + ")+1";
}

}  // namespace

SymbolicShapes::SymbolicShapes(const Graph& graph) : graph_(graph), shapes_(graph.values.size()) {
  for (ValueId v : graph.inputs)
    if (graph.value(v).has_shape) set(v, declared(v));
  for (const auto& [id, tensor] : graph.constants) {
    Dims dims;
    for (int64_t d : tensor.shape) dims.push_back(std::to_string(d));
    set(id, std::move(dims));
  }
  for (const Node& node : graph.nodes) {
    infer(node);
    // What no rule gave, the model's declaration may.
    for (ValueId out : node.outputs)
      if (out != kNoValue && !shapes_[static_cast<size_t>(out)] && graph.value(out).has_shape) set(out, declared(out));
  }
}

bool SymbolicShapes::same_shape(ValueId a, ValueId b) const {
  const Dims* x = shape(a);
  const Dims* y = shape(b);
  return x && y && *x == *y;
}

const std::vector<std::string>* SymbolicShapes::shape(ValueId v) const {
  if (v == kNoValue || static_cast<size_t>(v) >= shapes_.size() || !shapes_[static_cast<size_t>(v)]) return nullptr;
  return &*shapes_[static_cast<size_t>(v)];
}

void SymbolicShapes::set(ValueId v, Dims dims) {
  if (v == kNoValue || static_cast<size_t>(v) >= shapes_.size()) return;
  for (const std::string& d : dims)
    if (d.empty()) return;  // a dim that could not be named: the shape stays unknown
  shapes_[static_cast<size_t>(v)] = std::move(dims);
}

SymbolicShapes::Dims SymbolicShapes::declared(ValueId v) const {
  const Value& value = graph_.value(v);
  Dims dims;
  for (size_t i = 0; i < value.dims.size(); ++i) {
    const Dim& d = value.dims[i];
    if (d.value >= 0) dims.push_back(std::to_string(d.value));
    else if (!d.param.empty()) dims.push_back("$" + d.param);
    else dims.push_back("?" + std::to_string(v) + "." + std::to_string(i));  // equal only to itself
  }
  return dims;
}

void SymbolicShapes::infer(const Node& node) {
  if (node.outputs.empty() || node.outputs[0] == kNoValue || node.inputs.empty()) return;
  const bool onnx = node.domain.empty() || node.domain == "com.inferd";
  if (!onnx) return;
  const std::string& op = node.op_type;
  const Dims* x = shape(node.inputs[0]);
  if (same_shape_ops().count(op)) {
    if (x) set(node.outputs[0], *x);
    return;
  }
  if (broadcast_ops().count(op)) {
    Dims out;
    for (ValueId in : node.inputs) {
      const Dims* s = shape(in);
      if (!s) return;
      if (s->size() > out.size()) out.insert(out.begin(), s->size() - out.size(), "1");
      for (size_t i = 0; i < s->size(); ++i) {
        std::string& o = out[out.size() - s->size() + i];
        const std::string& d = (*s)[i];
        if (d == o || d == "1") continue;
        if (o == "1") o = d;
        else return;  // sizes that cannot be matched by name (they might broadcast, or be an error)
      }
    }
    set(node.outputs[0], std::move(out));
    return;
  }
  if (!x || x->size() < 3) return;
  const size_t s = x->size() - 2;
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    Dims out = {(*x)[0], (*x)[1]};
    out.resize(x->size(), "1");
    set(node.outputs[0], std::move(out));
    return;
  }
  const bool conv = op == "Conv" || op == "FusedConv";
  if (!conv && op != "MaxPool" && op != "AveragePool" && op != "LpPool") return;
  std::vector<int64_t> kernel = node.attributes.get_ints("kernel_shape", {});
  std::string channels = (*x)[1];
  if (conv) {
    const Dims* w = node.inputs.size() > 1 ? shape(node.inputs[1]) : nullptr;
    if (!w || w->size() != x->size()) return;
    channels = (*w)[0];
    if (kernel.empty())
      for (size_t d = 0; d < s; ++d) {
        if (!is_number((*w)[d + 2])) return;
        kernel.push_back(std::stoll((*w)[d + 2]));
      }
  }
  if (kernel.size() != s) return;
  const std::vector<int64_t> strides = node.attributes.get_ints("strides", std::vector<int64_t>(s, 1));
  const std::vector<int64_t> dilations = node.attributes.get_ints("dilations", std::vector<int64_t>(s, 1));
  const std::vector<int64_t> pads = node.attributes.get_ints("pads", std::vector<int64_t>(2 * s, 0));
  if (strides.size() != s || dilations.size() != s || pads.size() != 2 * s) return;
  const std::string auto_pad = node.attributes.get_string("auto_pad", "NOTSET");
  const bool ceil_mode = !conv && node.attributes.get_int("ceil_mode", 0) != 0;
  Dims out = {(*x)[0], channels};
  for (size_t d = 0; d < s; ++d)
    out.push_back(window_dim((*x)[d + 2], kernel[d], strides[d], dilations[d], pads[d] + pads[d + s], auto_pad,
                             ceil_mode));
  for (ValueId o : node.outputs) set(o, out);  // MaxPool's Indices too
}

}  // namespace inferd::opt
