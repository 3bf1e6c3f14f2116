// Shape of TopK: the input with its axis cut to k; values keep the input's type, indices are int64.
// k is an attribute up to opset 9 and a 1-element int64 input from 10, read at plan time; opset 11
// added 'largest' and 'sorted' (the older opsets always take the largest, sorted).
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void top_k(ShapeContext& ctx, int64_t k) {
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i8, DType::i16, DType::i32, DType::i64, DType::u8, DType::u16,
                       DType::u32, DType::u64});
  const Shape& in = ctx.shape(0);
  if (in.empty()) ctx.fail("input must have rank >= 1, got a scalar");
  const size_t axis = static_cast<size_t>(ctx.axis(ctx.attributes().get_int("axis", -1), ctx.rank(0), "attribute 'axis'"));
  if (k < 0 || k > in[axis])
    ctx.fail("k = ", k, " is out of range [0, ", in[axis], "] for axis ", axis, " of input ", shape_to_string(in));
  Shape out = in;
  out[axis] = k;
  ctx.set_output(0, ctx.dtype(0), out);
  ctx.set_output(1, DType::i64, std::move(out));
}

void infer_top_k_1(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  top_k(ctx, ctx.attributes().require_int("k"));
}

void infer_top_k_10(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_dtype(1, {DType::i64});
  const std::vector<int64_t> k = ctx.require_ints(1, "input 'K'");
  if (k.size() != 1) ctx.fail("input 'K' must hold one element, got ", k.size());
  top_k(ctx, k[0]);
}

}  // namespace

INFERD_SCHEMA("TopK", 1, 9, infer_top_k_1);
INFERD_SCHEMA("TopK", 10, 10, infer_top_k_10);
INFERD_SCHEMA("TopK", 11, kMaxOpset, infer_top_k_10);

}  // namespace inferd
