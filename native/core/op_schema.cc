#include "core/op_schema.h"

namespace inferd {

SchemaRegistry& SchemaRegistry::instance() {
  static SchemaRegistry registry;
  return registry;
}

void SchemaRegistry::add(const OpSchema& schema) { schemas_.push_back(schema); }

const OpSchema* SchemaRegistry::find(const std::string& domain, const std::string& op_type, int opset) const {
  for (const OpSchema& s : schemas_)
    if (op_type == s.op_type && domain == s.domain && opset >= s.since_version && opset <= s.until_version)
      return &s;
  return nullptr;
}

DType ShapeContext::dtype(size_t i) const {
  if (!has_input(i)) fail("input ", i, " is required");
  return in_dtypes_[i];
}

const Shape& ShapeContext::shape(size_t i) const {
  if (!has_input(i)) fail("input ", i, " is required");
  return *in_shapes_[i];
}

const Tensor& ShapeContext::require_value(size_t i, const char* what) const {
  const Tensor* v = value(i);
  if (!v) {
    if (!has_input(i)) fail(what, " (input ", i, ") is required");
    throw RuntimeValueRequired(detail::concat(node_.label(), ": ", what, " is computed from run-time data; only "
                                              "constants, shape-derived values and small model inputs are supported"),
                               i);
  }
  return *v;
}

std::vector<int64_t> ShapeContext::require_ints(size_t i, const char* what) const {
  const Tensor& t = require_value(i, what);
  if (t.rank() > 1) fail(what, " must be a scalar or 1-D tensor, got shape ", shape_to_string(t.shape));
  std::vector<int64_t> out(static_cast<size_t>(t.size()));
  if (t.dtype == DType::i64) {
    for (size_t k = 0; k < out.size(); ++k) out[k] = t.data_as<int64_t>()[k];
  } else if (t.dtype == DType::i32) {
    for (size_t k = 0; k < out.size(); ++k) out[k] = t.data_as<int32_t>()[k];
  } else {
    fail(what, " must be int64 or int32, got ", dtype_name(t.dtype));
  }
  return out;
}

void ShapeContext::set_output(size_t i, DType dtype, Shape shape) {
  if (i >= out_count_) return;  // an optional output the model does not use
  out_dtypes_[i] = dtype;
  out_shapes_[i] = std::move(shape);
}

void ShapeContext::set_output_data_dependent(size_t i, DType dtype, Shape partial_shape) {
  data_dependent_ = true;
  set_output(i, dtype, std::move(partial_shape));
}

void ShapeContext::set_output_value(size_t i, Tensor value) {
  if (i >= out_count_) return;
  out_dtypes_[i] = value.dtype;
  out_shapes_[i] = value.shape;
  out_values_[i] = std::move(value);
}

void ShapeContext::expect_inputs(size_t min_count, size_t max_count) const {
  size_t given = 0;
  for (size_t i = 0; i < in_count_; ++i)
    if (has_input(i)) given = i + 1;
  if (in_count_ > max_count) fail("takes at most ", max_count, " inputs, got ", in_count_);
  for (size_t i = 0; i < min_count; ++i)
    if (!has_input(i)) fail("input ", i, " is required (", min_count, " required inputs, got ", given, ")");
}

void ShapeContext::expect_dtype(size_t i, std::initializer_list<DType> allowed) const {
  const DType t = dtype(i);
  for (DType a : allowed)
    if (a == t) return;
  std::string list;
  for (DType a : allowed) list += std::string(list.empty() ? "" : ", ") + dtype_name(a);
  inferd::fail(ErrorKind::unsupported, node_.label(), ": input ", i, " has type ", dtype_name(t),
               "; supported: ", list);
}

void ShapeContext::expect_same_dtype(size_t a, size_t b) const {
  if (dtype(a) != dtype(b))
    fail("inputs ", a, " and ", b, " must have the same type, got ", dtype_name(dtype(a)), " and ",
         dtype_name(dtype(b)));
}

int64_t ShapeContext::axis(int64_t axis, int64_t rank, const char* what) const {
  if (axis < -rank || axis >= rank) fail(what, " ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace inferd
