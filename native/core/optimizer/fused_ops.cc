#include "core/optimizer/fused_ops.h"

#include <limits>

#include "inferd/error.h"

namespace inferd {

ActivationSpec read_activation(const Node& node) {
  const Attributes& attrs = node.attributes;
  const std::string name = attrs.get_string("activation", "");
  ActivationSpec spec;
  if (name.empty()) {
    spec.kind = FusedActivation::none;
  } else if (name == "Relu") {
    spec.kind = FusedActivation::relu;
  } else if (name == "LeakyRelu") {
    spec.kind = FusedActivation::leaky_relu;
    spec.alpha = attrs.get_float("activation_alpha", 0.01f);
  } else if (name == "Sigmoid") {
    spec.kind = FusedActivation::sigmoid;
  } else if (name == "Tanh") {
    spec.kind = FusedActivation::tanh;
  } else if (name == "Gelu") {
    const std::string approximate = attrs.get_string("activation_approximate", "none");
    if (approximate != "none" && approximate != "tanh")
      fail(ErrorKind::invalid_model, node.label(), ": attribute 'activation_approximate' must be \"none\" or \"tanh\", got \"",
           approximate, "\"");
    spec.kind = approximate == "tanh" ? FusedActivation::gelu_tanh : FusedActivation::gelu;
  } else if (name == "Clip") {
    spec.kind = FusedActivation::clip;
    spec.alpha = attrs.get_float("activation_alpha", std::numeric_limits<float>::lowest());
    spec.beta = attrs.get_float("activation_beta", std::numeric_limits<float>::max());
  } else if (name == "HardSigmoid") {
    spec.kind = FusedActivation::hard_sigmoid;
    spec.alpha = attrs.get_float("activation_alpha", 0.2f);
    spec.beta = attrs.get_float("activation_beta", 0.5f);
  } else if (name == "HardSwish") {
    spec.kind = FusedActivation::hard_swish;
  } else {
    fail(ErrorKind::invalid_model, node.label(), ": attribute 'activation' is \"", name,
         "\"; expected \"\" (none), Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Clip, HardSigmoid or HardSwish");
  }
  return spec;
}

}  // namespace inferd
