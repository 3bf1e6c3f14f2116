// Shape functions of the ops that give a tensor's bytes a new shape without touching them (Reshape,
// Flatten, Squeeze, Unsqueeze, Identity), and of Shape, whose result follows from shapes alone.
//
// Negative axes: the spec allows them from opset 11 (Flatten, Squeeze, Unsqueeze). Older models that
// use them anyway get the opset-11 meaning rather than an error, as ONNX Runtime does: no model that
// is valid under the older spec reads differently.
#include <algorithm>
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

// These ops move bytes without reading them, so every type the engine stores will do.
void expect_storable(const ShapeContext& ctx, size_t i) {
  const DType t = ctx.dtype(i);
  if (dtype_size(t) == 0)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input ", i, " has type ", dtype_name(t),
         ", which the engine does not store");
}

// ---- Reshape -------------------------------------------------------------------------------------

// The output shape for `requested`, where -1 is inferred and (unless allow_zero) 0 copies the input's
// dim at the same index.
Shape reshaped(const ShapeContext& ctx, const Shape& in, const std::vector<int64_t>& requested,
               bool allow_zero) {
  const int64_t total = shape_size(in);
  auto cannot = [&]() {
    ctx.fail("cannot reshape ", shape_to_string(in), " (", total, " elements) to ", shape_to_string(requested));
  };

  Shape out(requested.size());
  int inferred = -1;
  bool has_zero = false;
  int64_t known = 1;  // product of every output dim but the inferred one
  for (size_t i = 0; i < requested.size(); ++i) {
    int64_t d = requested[i];
    if (d == -1) {
      if (inferred >= 0) ctx.fail("shape ", shape_to_string(requested), " has more than one -1");
      inferred = static_cast<int>(i);
      continue;
    }
    if (d < -1) ctx.fail("shape ", shape_to_string(requested), " has invalid dim ", d, " at index ", i);
    if (d == 0 && !allow_zero) {
      if (i >= in.size())
        ctx.fail("shape ", shape_to_string(requested), " copies dim ", i, " (a 0) from input shape ",
                 shape_to_string(in), ", which has rank ", in.size());
      d = in[i];
    }
    if (d == 0) has_zero = true;
    if (d != 0 && known > (int64_t{1} << 62) / d) cannot();
    known *= d;
    out[i] = d;
  }
  if (allow_zero && has_zero && inferred >= 0)
    ctx.fail("shape ", shape_to_string(requested), " has both 0 and -1, which allowzero=1 forbids");

  if (inferred >= 0) {
    // With a zero among the other dims the -1 could be anything: refuse rather than guess.
    if (known == 0 || total % known != 0) cannot();
    out[static_cast<size_t>(inferred)] = total / known;
  } else if (known != total) {
    cannot();
  }
  return out;
}

void infer_reshape_v1(ShapeContext& ctx) {  // the target shape is an attribute
  ctx.expect_inputs(1, 1);
  expect_storable(ctx, 0);
  ctx.set_output(0, ctx.dtype(0), reshaped(ctx, ctx.shape(0), ctx.attributes().require_ints("shape"), false));
}

void infer_reshape_v5(ShapeContext& ctx) {  // the target shape is input 1
  ctx.expect_inputs(2, 2);
  expect_storable(ctx, 0);
  ctx.expect_dtype(1, {DType::i64});
  ctx.set_output(0, ctx.dtype(0), reshaped(ctx, ctx.shape(0), ctx.require_ints(1, "shape"), false));
}

void infer_reshape_v14(ShapeContext& ctx) {  // adds allowzero: 0 means a zero dim, not a copy
  ctx.expect_inputs(2, 2);
  expect_storable(ctx, 0);
  ctx.expect_dtype(1, {DType::i64});
  const int64_t allow_zero = ctx.attributes().get_int("allowzero", 0);
  if (allow_zero != 0 && allow_zero != 1) ctx.fail("attribute 'allowzero' must be 0 or 1, got ", allow_zero);
  ctx.set_output(0, ctx.dtype(0), reshaped(ctx, ctx.shape(0), ctx.require_ints(1, "shape"), allow_zero == 1));
}

// ---- Flatten -------------------------------------------------------------------------------------

void infer_flatten(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  expect_storable(ctx, 0);
  const Shape& in = ctx.shape(0);
  const int rank = ctx.rank(0);
  int64_t axis = ctx.attributes().get_int("axis", 1);
  // Flatten's axis may equal the rank (everything goes to the first dim).
  if (axis < -rank || axis > rank)
    ctx.fail("attribute 'axis' ", axis, " is out of range [", -rank, ", ", rank, "] for input shape ",
             shape_to_string(in));
  if (axis < 0) axis += rank;
  const int split = static_cast<int>(axis);
  ctx.set_output(0, ctx.dtype(0), {dims_product(in, 0, split), dims_product(in, split, rank)});
}

// ---- Squeeze and Unsqueeze -----------------------------------------------------------------------

// Marks each axis (normalised against `rank`) in `chosen`; duplicates are an error.
void mark_axes(const ShapeContext& ctx, const std::vector<int64_t>& axes, int64_t rank, std::vector<bool>* chosen) {
  chosen->assign(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    const size_t k = static_cast<size_t>(ctx.axis(a, rank, "axis"));
    if ((*chosen)[k]) ctx.fail("axes ", shape_to_string(axes), " name axis ", k, " twice");
    (*chosen)[k] = true;
  }
}

// With no axes (or an empty list, as ONNX Runtime reads it) every dim of size 1 goes.
void squeeze(ShapeContext& ctx, const std::vector<int64_t>& axes) {
  expect_storable(ctx, 0);
  const Shape& in = ctx.shape(0);
  std::vector<bool> chosen;
  if (axes.empty()) {
    chosen.resize(in.size());
    for (size_t k = 0; k < in.size(); ++k) chosen[k] = in[k] == 1;
  } else {
    mark_axes(ctx, axes, ctx.rank(0), &chosen);
  }
  Shape out;
  for (size_t k = 0; k < in.size(); ++k) {
    if (!chosen[k]) { out.push_back(in[k]); continue; }
    if (in[k] != 1)
      ctx.fail("cannot squeeze axis ", k, " of input shape ", shape_to_string(in), ": its size is ", in[k],
               ", not 1");
  }
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

void infer_squeeze_v1(ShapeContext& ctx) {  // axes is an optional attribute
  ctx.expect_inputs(1, 1);
  squeeze(ctx, ctx.attributes().get_ints("axes", {}));
}

void infer_squeeze_v13(ShapeContext& ctx) {  // axes is an optional input
  ctx.expect_inputs(1, 2);
  squeeze(ctx, ctx.has_input(1) ? ctx.require_ints(1, "axes") : std::vector<int64_t>{});
}

// Unsqueeze's axes index the output, whose rank is the input's plus one per axis.
void unsqueeze(ShapeContext& ctx, const std::vector<int64_t>& axes) {
  expect_storable(ctx, 0);
  const Shape& in = ctx.shape(0);
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> inserted;
  mark_axes(ctx, axes, out_rank, &inserted);
  Shape out(static_cast<size_t>(out_rank));
  size_t next = 0;
  for (size_t k = 0; k < out.size(); ++k) out[k] = inserted[k] ? 1 : in[next++];
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

void infer_unsqueeze_v1(ShapeContext& ctx) {  // axes is a required attribute
  ctx.expect_inputs(1, 1);
  unsqueeze(ctx, ctx.attributes().require_ints("axes"));
}

void infer_unsqueeze_v13(ShapeContext& ctx) {  // axes is a required input
  ctx.expect_inputs(2, 2);
  unsqueeze(ctx, ctx.require_ints(1, "axes"));
}

// ---- Identity ------------------------------------------------------------------------------------

void infer_identity(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  expect_storable(ctx, 0);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

// ---- Shape ---------------------------------------------------------------------------------------

// The dims [start, end) of input 0 as an int64 vector, given as the output's value at plan time.
void set_shape_slice(ShapeContext& ctx, int64_t start, int64_t end) {
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  auto clamp = [rank](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
  start = clamp(start);
  end = clamp(end);
  const int64_t n = std::max<int64_t>(end - start, 0);
  Tensor dims = Tensor::allocate(DType::i64, {n});
  for (int64_t i = 0; i < n; ++i) dims.data_as<int64_t>()[i] = in[static_cast<size_t>(start + i)];
  ctx.set_output_value(0, std::move(dims));
}

void infer_shape_v1(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  set_shape_slice(ctx, 0, ctx.rank(0));
}

void infer_shape_v15(ShapeContext& ctx) {  // adds start and end, negative and clamped as in Slice
  ctx.expect_inputs(1, 1);
  set_shape_slice(ctx, ctx.attributes().get_int("start", 0), ctx.attributes().get_int("end", ctx.rank(0)));
}

}  // namespace

INFERD_SCHEMA("Reshape", 1, 4, infer_reshape_v1);
INFERD_SCHEMA("Reshape", 5, 13, infer_reshape_v5);
INFERD_SCHEMA("Reshape", 14, kMaxOpset, infer_reshape_v14);
INFERD_SCHEMA("Flatten", 1, kMaxOpset, infer_flatten);
INFERD_SCHEMA("Squeeze", 1, 12, infer_squeeze_v1);
INFERD_SCHEMA("Squeeze", 13, kMaxOpset, infer_squeeze_v13);
INFERD_SCHEMA("Unsqueeze", 1, 12, infer_unsqueeze_v1);
INFERD_SCHEMA("Unsqueeze", 13, kMaxOpset, infer_unsqueeze_v13);
INFERD_SCHEMA("Identity", 1, kMaxOpset, infer_identity);
INFERD_SCHEMA("Shape", 1, 14, infer_shape_v1);
INFERD_SCHEMA("Shape", 15, kMaxOpset, infer_shape_v15);

}  // namespace inferd
