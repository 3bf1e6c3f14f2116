// Shapes of Slice and Split.
//
// Slice: for each sliced axis, start and end count from the back when negative, then are clamped to
// the axis ([0, dim] for a positive step, [-1, dim - 1] for a negative one) and the axis keeps
// max(0, ceil((end - start) / step)) elements. Opsets 1–9 give starts/ends/axes as attributes, 10+ as
// inputs with optional axes and steps. The CPU kernel repeats this arithmetic on the same values.
//
// Split: the output sizes along the axis come from the 'split' attribute (< 13), the 'split' input
// (13+; opset 1 accepted either), or num_outputs (18+: ceil(dim / n) each, the last one smaller);
// without any of them the axis is split evenly among the outputs.
#include <algorithm>
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void expect_storable(const ShapeContext& ctx, size_t i) {
  const DType t = ctx.dtype(i);
  if (dtype_size(t) == 0)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input ", i, " has type ", dtype_name(t),
         ", which the engine does not store");
}

void check_rank(const ShapeContext& ctx) {
  if (ctx.rank(0) > kMaxRank)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input of rank ", ctx.rank(0), " exceeds the supported rank ",
         kMaxRank);
}

// ---- Slice ---------------------------------------------------------------------------------------

void slice(ShapeContext& ctx, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
           std::vector<int64_t> axes, std::vector<int64_t> steps) {
  expect_storable(ctx, 0);
  check_rank(ctx);
  const Shape& in = ctx.shape(0);
  const int64_t rank = ctx.rank(0);
  if (starts.size() != ends.size())
    ctx.fail("starts ", shape_to_string(starts), " and ends ", shape_to_string(ends), " differ in length");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size())
    ctx.fail("axes ", shape_to_string(axes), " and starts ", shape_to_string(starts), " differ in length");
  if (steps.size() != starts.size())
    ctx.fail("steps ", shape_to_string(steps), " and starts ", shape_to_string(starts), " differ in length");

  Shape out = in;
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t a = static_cast<size_t>(ctx.axis(axes[i], rank, "axes entry"));
    if (seen[a]) ctx.fail("axes ", shape_to_string(axes), " name axis ", a, " twice");
    seen[a] = true;
    const int64_t dim = in[a], step = steps[i];
    if (step == 0) ctx.fail("steps entry ", i, " is 0");
    int64_t start = starts[i], end = ends[i];
    // Values past ±dim are common (INT64_MAX for "to the end"): adding dim to a negative one
    // cannot overflow, and clamping brings both back in range.
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    if (dim == 0) {
      out[a] = 0;
    } else if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      out[a] = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      out[a] = start > end ? (start - end - 1) / -step + 1 : 0;
    }
  }
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

void infer_slice_1(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const Attributes& a = ctx.attributes();
  slice(ctx, a.require_ints("starts"), a.require_ints("ends"), a.get_ints("axes", {}), {});
}

std::vector<int64_t> optional_ints(ShapeContext& ctx, size_t i, const char* what) {
  if (!ctx.has_input(i)) return {};
  ctx.expect_dtype(i, {DType::i32, DType::i64});
  return ctx.require_ints(i, what);
}

void infer_slice_10(ShapeContext& ctx) {
  ctx.expect_inputs(3, 5);
  ctx.expect_dtype(1, {DType::i32, DType::i64});
  ctx.expect_dtype(2, {DType::i32, DType::i64});
  std::vector<int64_t> starts = ctx.require_ints(1, "input 'starts'");
  std::vector<int64_t> ends = ctx.require_ints(2, "input 'ends'");
  std::vector<int64_t> axes = optional_ints(ctx, 3, "input 'axes'");
  std::vector<int64_t> steps = optional_ints(ctx, 4, "input 'steps'");
  if (ctx.has_input(3) && axes.empty() && !starts.empty())
    ctx.fail("input 'axes' is empty but starts ", shape_to_string(starts), " is not");
  slice(ctx, starts, ends, std::move(axes), std::move(steps));
}

// ---- Split ---------------------------------------------------------------------------------------

void split(ShapeContext& ctx, const std::vector<int64_t>* sizes, int64_t num_outputs) {
  expect_storable(ctx, 0);
  check_rank(ctx);
  const Shape& in = ctx.shape(0);
  if (in.empty()) ctx.fail("cannot split a scalar");
  const size_t axis = static_cast<size_t>(ctx.axis(ctx.attributes().get_int("axis", 0), ctx.rank(0), "attribute 'axis'"));
  const int64_t dim = in[axis];
  const int64_t outputs = static_cast<int64_t>(ctx.output_count());
  std::vector<int64_t> parts;
  if (sizes) {
    if (static_cast<int64_t>(sizes->size()) != outputs)
      ctx.fail("split ", shape_to_string(*sizes), " has ", sizes->size(), " entries for ", outputs, " outputs");
    int64_t total = 0;
    for (int64_t s : *sizes) {
      if (s < 0) ctx.fail("split ", shape_to_string(*sizes), " has a negative entry");
      total += s;
    }
    if (total != dim)
      ctx.fail("split ", shape_to_string(*sizes), " sums to ", total, ", but axis ", axis, " of input ",
               shape_to_string(in), " has ", dim);
    parts = *sizes;
  } else if (num_outputs > 0) {
    if (num_outputs != outputs) ctx.fail("attribute 'num_outputs' is ", num_outputs, " but the node has ", outputs, " outputs");
    const int64_t chunk = (dim + num_outputs - 1) / num_outputs;
    for (int64_t i = 0, left = dim; i < num_outputs; ++i, left -= std::min(chunk, left)) parts.push_back(std::min(chunk, left));
  } else {
    if (outputs == 0 || dim % outputs != 0)
      ctx.fail("axis ", axis, " of input ", shape_to_string(in), " (", dim, ") cannot be split evenly into ",
               outputs, " outputs");
    parts.assign(static_cast<size_t>(outputs), dim / outputs);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    Shape out = in;
    out[axis] = parts[i];
    ctx.set_output(i, ctx.dtype(0), std::move(out));
  }
}

void infer_split_1(ShapeContext& ctx) {  // split from the attribute, or (opset 1 only) input 1
  ctx.expect_inputs(1, 2);
  if (ctx.has_input(1)) {
    const std::vector<int64_t> sizes = ctx.require_ints(1, "input 'split'");
    split(ctx, &sizes, 0);
    return;
  }
  const Attributes& a = ctx.attributes();
  const std::vector<int64_t> sizes = a.get_ints("split", {});
  split(ctx, a.has("split") ? &sizes : nullptr, 0);
}

void infer_split_2(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const Attributes& a = ctx.attributes();
  const std::vector<int64_t> sizes = a.get_ints("split", {});
  split(ctx, a.has("split") ? &sizes : nullptr, 0);
}

void infer_split_13(ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  if (!ctx.has_input(1)) return split(ctx, nullptr, 0);
  ctx.expect_dtype(1, {DType::i64});
  const std::vector<int64_t> sizes = ctx.require_ints(1, "input 'split'");
  split(ctx, &sizes, 0);
}

void infer_split_18(ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  const int64_t num_outputs = ctx.attributes().get_int("num_outputs", 0);
  if (ctx.has_input(1)) {
    if (ctx.attributes().has("num_outputs")) ctx.fail("takes either input 'split' or attribute 'num_outputs', not both");
    ctx.expect_dtype(1, {DType::i64});
    const std::vector<int64_t> sizes = ctx.require_ints(1, "input 'split'");
    return split(ctx, &sizes, 0);
  }
  if (ctx.attributes().has("num_outputs") && num_outputs < 1)
    ctx.fail("attribute 'num_outputs' must be positive, got ", num_outputs);
  split(ctx, nullptr, num_outputs);
}

}  // namespace

INFERD_SCHEMA("Slice", 1, 9, infer_slice_1);
INFERD_SCHEMA("Slice", 10, kMaxOpset, infer_slice_10);
INFERD_SCHEMA("Split", 1, 1, infer_split_1);
INFERD_SCHEMA("Split", 2, 12, infer_split_2);
INFERD_SCHEMA("Split", 13, 17, infer_split_13);
INFERD_SCHEMA("Split", 18, kMaxOpset, infer_split_18);

}  // namespace inferd
