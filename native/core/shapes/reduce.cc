// Shapes of the reductions. ReduceMean drops (keepdims = 0) or keeps as 1 (keepdims = 1, the
// default) each reduced axis; its axes are an attribute up to opset 17 and an optional input from 18,
// where an empty list reduces everything unless noop_with_empty_axes says to reduce nothing.
// ArgMax reduces one axis, always to int64 indices.
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void check_rank(const ShapeContext& ctx) {
  if (ctx.rank(0) > kMaxRank)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": input of rank ", ctx.rank(0),
                 " exceeds the supported rank ", kMaxRank);
}

void infer_reduce(ShapeContext& ctx, const std::vector<int64_t>& axes, bool noop_with_empty_axes) {
  const Shape& in = ctx.shape(0);
  const int64_t rank = ctx.rank(0);
  std::vector<bool> reduced(in.size(), axes.empty() && !noop_with_empty_axes);
  for (int64_t axis : axes) {
    const int64_t a = ctx.axis(axis, rank, "axes entry");
    if (reduced[static_cast<size_t>(a)]) ctx.fail("axes name axis ", a, " twice");
    reduced[static_cast<size_t>(a)] = true;
  }
  const bool keepdims = ctx.attributes().get_int("keepdims", 1) != 0;
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) out.push_back(in[d]);
    else if (keepdims) out.push_back(1);
  }
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

void infer_reduce_mean_1(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i32, DType::i64});
  check_rank(ctx);
  infer_reduce(ctx, ctx.attributes().get_ints("axes", {}), false);
}

void infer_reduce_mean_18(ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i32, DType::i64});
  check_rank(ctx);
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    ctx.expect_dtype(1, {DType::i64});
    axes = ctx.require_ints(1, "input 'axes'");
  }
  infer_reduce(ctx, axes, ctx.attributes().get_int("noop_with_empty_axes", 0) != 0);
}

// select_last_index (opset 12) changes which index wins a tie, not the shape: one function serves.
void infer_arg_max(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i32, DType::i64});
  const Shape& in = ctx.shape(0);
  const int64_t axis = ctx.axis(ctx.attributes().get_int("axis", 0), ctx.rank(0), "attribute 'axis'");
  if (in[static_cast<size_t>(axis)] == 0)
    ctx.fail("cannot take ArgMax along axis ", axis, " of size 0 (input ", shape_to_string(in), ")");
  const bool keepdims = ctx.attributes().get_int("keepdims", 1) != 0;
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (static_cast<int64_t>(d) != axis) out.push_back(in[d]);
    else if (keepdims) out.push_back(1);
  }
  ctx.set_output(0, DType::i64, std::move(out));
}

}  // namespace

INFERD_SCHEMA("ReduceMean", 1, 17, infer_reduce_mean_1);
INFERD_SCHEMA("ReduceMean", 18, kMaxOpset, infer_reduce_mean_18);
INFERD_SCHEMA("ArgMax", 1, 11, infer_arg_max);
INFERD_SCHEMA("ArgMax", 12, kMaxOpset, infer_arg_max);

}  // namespace inferd
