// Shapes as far as they are known at load, before any input shape is bound, for rewrites whose
// validity depends on two values having the same shape at every run (an Add absorbed into a Conv as
// its residual must not broadcast).
//
// Each dim is a name that stands for its size: a number ("64") when the model fixes it; the dim_param
// of a declared dim ("$batch"); or an expression over those that a Conv or pool computes
// ("(($H+-1)/2+1)"), written the same way whenever the same computation is applied to the same
// name. Two dims with the same name therefore have the same size in every run; different names may
// still be equal, so `same_shape` answers "proved equal", never "proved different".
//
// Propagated through the ops of CNNs (Conv, the pools, BatchNormalization, elementwise activations
// and broadcasting arithmetic); any other op's output keeps the shape the model declares for it, if
// any. A dim neither fixed nor named gets a name of its own, equal to nothing but itself.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/graph.h"

namespace inferd::opt {

class SymbolicShapes {
 public:
  explicit SymbolicShapes(const Graph& graph);

  // True when a and b are known to have the same shape in every run.
  bool same_shape(ValueId a, ValueId b) const;
  // The shape as dim names ("64", "$batch", …), or null when not even the rank is known.
  const std::vector<std::string>* shape(ValueId v) const;

 private:
  using Dims = std::vector<std::string>;
  void infer(const Node& node);
  void set(ValueId v, Dims dims);
  Dims declared(ValueId v) const;  // the model's declaration (has_shape must be set)

  const Graph& graph_;
  std::vector<std::optional<Dims>> shapes_;
};

}  // namespace inferd::opt
