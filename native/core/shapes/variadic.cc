// Shapes of the variadic ops Min, Max, Sum and Mean: one or more inputs of one type, combined
// elementwise. From opset 8 the inputs broadcast numpy-style; before, they must all have one shape.
// Min and Max take every numeric type from opset 12, floats before; Sum and Mean take floats.
#include <initializer_list>
#include <string>

#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/shapes/broadcast_rules.h"

namespace inferd {

namespace {

void infer_variadic(ShapeContext& ctx, std::initializer_list<DType> types, bool broadcast) {
  const size_t n = ctx.input_count();
  if (n == 0) ctx.fail("needs at least one input");
  ctx.expect_inputs(n, n);  // none may be omitted
  ctx.expect_dtype(0, types);
  for (size_t i = 1; i < n; ++i) ctx.expect_same_dtype(0, i);
  if (!broadcast)
    for (size_t i = 1; i < n; ++i)
      if (ctx.shape(i) != ctx.shape(0))
        ctx.fail("input shapes ", shape_to_string(ctx.shape(0)), " and ", shape_to_string(ctx.shape(i)),
                 " differ (inputs broadcast from opset 8)");
  ctx.set_output(0, ctx.dtype(0), broadcast_input_shapes(ctx, 0, n));
}

constexpr std::initializer_list<DType> kFloat = {DType::f32, DType::f64, DType::f16};

void infer_float_same_shape(ShapeContext& ctx) { infer_variadic(ctx, kFloat, false); }
void infer_float_broadcast(ShapeContext& ctx) { infer_variadic(ctx, kFloat, true); }
void infer_numeric_broadcast(ShapeContext& ctx) {
  infer_variadic(ctx, {DType::f32, DType::f64, DType::f16, DType::i8, DType::i16, DType::i32, DType::i64, DType::u8,
                       DType::u16, DType::u32, DType::u64},
                 true);
}

}  // namespace

INFERD_SCHEMA("Min", 1, 7, infer_float_same_shape);
INFERD_SCHEMA("Min", 8, 11, infer_float_broadcast);
INFERD_SCHEMA("Min", 12, kMaxOpset, infer_numeric_broadcast);
INFERD_SCHEMA("Max", 1, 7, infer_float_same_shape);
INFERD_SCHEMA("Max", 8, 11, infer_float_broadcast);
INFERD_SCHEMA("Max", 12, kMaxOpset, infer_numeric_broadcast);
INFERD_SCHEMA("Sum", 1, 7, infer_float_same_shape);
INFERD_SCHEMA("Sum", 8, kMaxOpset, infer_float_broadcast);
INFERD_SCHEMA("Mean", 1, 7, infer_float_same_shape);
INFERD_SCHEMA("Mean", 8, kMaxOpset, infer_float_broadcast);

}  // namespace inferd
