// What the engine knows of an operator independently of any backend: how its output types and shapes
// follow from its inputs. A schema is registered beside its family's shape functions
// (core/shapes/<family>.cc) with INFERD_SCHEMA; kernels are registered per backend (kernel_registry.h).
//
// Shape functions run at plan time with concrete input shapes (every dynamic dim is bound by then).
// Inputs whose *values* decide shapes (Reshape's shape, Unsqueeze's axes from opset 13…) are read with
// ShapeContext::value(): they are known when they are constants or computed from shapes only.
#pragma once

#include <climits>
#include <string>
#include <vector>

#include "core/graph.h"
#include "inferd/error.h"
#include "inferd/tensor.h"

namespace inferd {

inline constexpr int kMaxOpset = INT_MAX;

// Thrown when a shape depends on a value only known at run time (e.g. Reshape's shape fed as a graph
// input). The session then re-plans with the values of small integer inputs as part of the plan key.
class RuntimeValueRequired : public Error {
 public:
  RuntimeValueRequired(const std::string& message, size_t node_input)
      : Error(ErrorKind::unsupported, message), node_input(node_input) {}
  size_t node_input;      // which input of the node the shape function needed the value of
  int graph_input = -1;   // set by the planner when that value is a model input, fed by the caller
};

class ShapeContext {
 public:
  ShapeContext(const Node& node, int opset, const DType* input_dtypes, const Shape* const* input_shapes,
               const Tensor* const* input_values, size_t input_count, DType* output_dtypes,
               Shape* output_shapes, Tensor* output_values, size_t output_count)
      : node_(node), opset_(opset), in_dtypes_(input_dtypes), in_shapes_(input_shapes),
        in_values_(input_values), in_count_(input_count), out_dtypes_(output_dtypes),
        out_shapes_(output_shapes), out_values_(output_values), out_count_(output_count) {}

  const Node& node() const { return node_; }
  const Attributes& attributes() const { return node_.attributes; }
  int opset() const { return opset_; }

  size_t input_count() const { return in_count_; }
  size_t output_count() const { return out_count_; }
  // False when input i is omitted ("" in the model) or beyond the inputs given.
  bool has_input(size_t i) const { return i < in_count_ && in_shapes_[i] != nullptr; }
  DType dtype(size_t i) const;
  const Shape& shape(size_t i) const;
  int rank(size_t i) const { return static_cast<int>(shape(i).size()); }
  // The input's value when known at plan time, else nullptr.
  const Tensor* value(size_t i) const { return has_input(i) ? in_values_[i] : nullptr; }
  // As value(), but throws Error(unsupported) naming `what` when the value is computed at run time.
  const Tensor& require_value(size_t i, const char* what) const;
  // The known value of a 1-D (or scalar) integer input as int64s (accepts int32 and int64).
  std::vector<int64_t> require_ints(size_t i, const char* what) const;

  void set_output(size_t i, DType dtype, Shape shape);
  // For ops whose result follows from shapes alone (Shape, Size): gives the output's value at plan
  // time, so that later shape arithmetic folds and the node never runs.
  void set_output_value(size_t i, Tensor value);

  // For ops whose output sizes follow from their input *data* (NonZero, If, Loop): the output's type
  // (undefined when only the run tells, e.g. a subgraph output declared without one) and what is
  // known of its shape (-1 where unknown). The kernel sizes (and, if need be, types) the output when
  // it runs; the planner ends a plan segment at this node.
  void set_output_data_dependent(size_t i, DType dtype, Shape partial_shape = {});
  bool data_dependent() const { return data_dependent_; }

  // Checks and messages that every shape function needs, each naming the node.
  void expect_inputs(size_t min_count, size_t max_count) const;
  void expect_dtype(size_t i, std::initializer_list<DType> allowed) const;
  void expect_same_dtype(size_t a, size_t b) const;
  // Normalises a possibly negative axis against `rank`; throws naming the attribute when out of range.
  int64_t axis(int64_t axis, int64_t rank, const char* what) const;
  template <typename... Parts> [[noreturn]] void fail(Parts&&... parts) const {
    inferd::fail(ErrorKind::invalid_model, node_.label(), ": ", std::forward<Parts>(parts)...);
  }

 private:
  const Node& node_;
  int opset_;
  const DType* in_dtypes_;
  const Shape* const* in_shapes_;
  const Tensor* const* in_values_;
  size_t in_count_;
  DType* out_dtypes_;
  Shape* out_shapes_;
  Tensor* out_values_;
  size_t out_count_;
  bool data_dependent_ = false;
};

using ShapeFn = void (*)(ShapeContext&);

struct OpSchema {
  const char* domain;     // "" for ai.onnx
  const char* op_type;
  int since_version;      // first opset this definition covers
  int until_version;      // last opset it covers (kMaxOpset when current)
  ShapeFn infer;
};

class SchemaRegistry {
 public:
  static SchemaRegistry& instance();
  void add(const OpSchema& schema);
  // The schema covering `opset` for (domain, op_type), or nullptr.
  const OpSchema* find(const std::string& domain, const std::string& op_type, int opset) const;
  const std::vector<OpSchema>& all() const { return schemas_; }

 private:
  std::vector<OpSchema> schemas_;
};

struct SchemaRegistrar {
  explicit SchemaRegistrar(const OpSchema& schema) { SchemaRegistry::instance().add(schema); }
};

#define INFERD_CONCAT_INNER(a, b) a##b
#define INFERD_CONCAT(a, b) INFERD_CONCAT_INNER(a, b)
// INFERD_SCHEMA("Relu", 6, kMaxOpset, infer_same_as_input);
#define INFERD_SCHEMA(op_type, since, until, fn)                                      \
  static const ::inferd::SchemaRegistrar INFERD_CONCAT(schema_registrar_, __LINE__)( \
      ::inferd::OpSchema{"", op_type, since, until, fn})

}  // namespace inferd
