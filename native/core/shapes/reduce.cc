// Shapes of the reductions. Each drops (keepdims = 0) or keeps as 1 (keepdims = 1, the default) each
// reduced axis. Their axes are an attribute until an opset moved them to an optional input (ReduceSum
// at 13, the others at 18); from then an empty list reduces everything unless noop_with_empty_axes
// says to reduce nothing. ArgMax reduces one axis, always to int64 indices.
#include <initializer_list>
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

// The element types each reduction's CPU kernel computes on (the ONNX constraints, less float16 and
// bfloat16, which no CPU kernel of the engine computes in).
constexpr std::initializer_list<DType> kMeanTypes = {DType::f32, DType::f64, DType::i32, DType::i64};
constexpr std::initializer_list<DType> kArithmeticTypes = {DType::f32, DType::f64, DType::i32,
                                                           DType::i64, DType::u32, DType::u64};
constexpr std::initializer_list<DType> kOrderedTypes = {DType::f32, DType::f64, DType::i32, DType::i64, DType::u32,
                                                        DType::u64, DType::i8,  DType::u8,  DType::boolean};

enum class Family { mean, arithmetic, ordered };

void expect_reduce_dtype(ShapeContext& ctx, Family family) {
  switch (family) {
    case Family::mean: ctx.expect_dtype(0, kMeanTypes); break;
    case Family::arithmetic: ctx.expect_dtype(0, kArithmeticTypes); break;
    case Family::ordered: ctx.expect_dtype(0, kOrderedTypes); break;
  }
}

// Axes from the attribute (the older opsets).
template <Family F> void infer_reduce_axes_attribute(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  expect_reduce_dtype(ctx, F);
  check_rank(ctx);
  infer_reduce(ctx, ctx.attributes().get_ints("axes", {}), false);
}

// Axes from the optional input 1, with noop_with_empty_axes.
template <Family F> void infer_reduce_axes_input(ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  expect_reduce_dtype(ctx, F);
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

INFERD_SCHEMA("ReduceMean", 1, 17, infer_reduce_axes_attribute<Family::mean>);
INFERD_SCHEMA("ReduceMean", 18, kMaxOpset, infer_reduce_axes_input<Family::mean>);
INFERD_SCHEMA("ReduceSum", 1, 12, infer_reduce_axes_attribute<Family::arithmetic>);
INFERD_SCHEMA("ReduceSum", 13, kMaxOpset, infer_reduce_axes_input<Family::arithmetic>);
INFERD_SCHEMA("ReduceProd", 1, 17, infer_reduce_axes_attribute<Family::arithmetic>);
INFERD_SCHEMA("ReduceProd", 18, kMaxOpset, infer_reduce_axes_input<Family::arithmetic>);
INFERD_SCHEMA("ReduceL2", 1, 17, infer_reduce_axes_attribute<Family::arithmetic>);
INFERD_SCHEMA("ReduceL2", 18, kMaxOpset, infer_reduce_axes_input<Family::arithmetic>);
// bool and the 8-bit integers joined ReduceMax/ReduceMin's types along the way (12, 20); the
// semantics did not change with them, so one definition serves each side of the move of axes.
INFERD_SCHEMA("ReduceMax", 1, 17, infer_reduce_axes_attribute<Family::ordered>);
INFERD_SCHEMA("ReduceMax", 18, kMaxOpset, infer_reduce_axes_input<Family::ordered>);
INFERD_SCHEMA("ReduceMin", 1, 17, infer_reduce_axes_attribute<Family::ordered>);
INFERD_SCHEMA("ReduceMin", 18, kMaxOpset, infer_reduce_axes_input<Family::ordered>);
INFERD_SCHEMA("ArgMax", 1, 11, infer_arg_max);
INFERD_SCHEMA("ArgMax", 12, kMaxOpset, infer_arg_max);

}  // namespace inferd
