// Shapes of the comparisons Equal, Less, Greater, LessOrEqual, GreaterOrEqual, of the logical ops And,
// Or, Xor, Not, and of Where. Comparisons and logical ops give bool tensors of the broadcast shape;
// before opset 7 they broadcast as the arithmetic ops did then (the `broadcast` and `axis`
// attributes). Where broadcasts its condition, X and Y together and has X's type.
#include <initializer_list>

#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/shapes/broadcast_rules.h"

namespace inferd {

namespace {

constexpr std::initializer_list<DType> kNumeric = {DType::f32, DType::f64, DType::i8,  DType::i16, DType::i32,
                                                   DType::i64, DType::u8,  DType::u16, DType::u32, DType::u64};

void expect_held(const ShapeContext& ctx, size_t i) {
  if (ctx.dtype(i) == DType::string)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input ", i,
         " has type string; the engine holds no string tensors");
}

void infer_binary_to_bool(ShapeContext& ctx, std::initializer_list<DType> types, bool legacy) {
  ctx.expect_inputs(2, 2);
  expect_held(ctx, 0);
  ctx.expect_dtype(0, types);
  ctx.expect_same_dtype(0, 1);
  if (legacy) {
    check_legacy_broadcast(ctx);
    ctx.set_output(0, DType::boolean, ctx.shape(0));
  } else {
    ctx.set_output(0, DType::boolean, broadcast_input_shapes(ctx, 0, 2));
  }
}

// Equal-1 and Equal-7: bool and the 32- and 64-bit integers; Equal-11 added every numeric type (and
// Equal-19 strings, which the engine does not hold).
void infer_equal_1(ShapeContext& ctx) {
  infer_binary_to_bool(ctx, {DType::boolean, DType::i32, DType::i64}, true);
}
void infer_equal_7(ShapeContext& ctx) {
  infer_binary_to_bool(ctx, {DType::boolean, DType::i32, DType::i64}, false);
}
void infer_equal_11(ShapeContext& ctx) {
  infer_binary_to_bool(ctx, {DType::boolean, DType::f32, DType::f64, DType::i8, DType::i16, DType::i32, DType::i64,
                             DType::u8, DType::u16, DType::u32, DType::u64},
                       false);
}

// Less and Greater: floats until opset 8, every numeric type from 9; LessOrEqual, GreaterOrEqual (12).
void infer_order_1(ShapeContext& ctx) { infer_binary_to_bool(ctx, {DType::f32, DType::f64}, true); }
void infer_order_7(ShapeContext& ctx) { infer_binary_to_bool(ctx, {DType::f32, DType::f64}, false); }
void infer_order_9(ShapeContext& ctx) { infer_binary_to_bool(ctx, kNumeric, false); }

// And, Or, Xor.
void infer_logical_1(ShapeContext& ctx) { infer_binary_to_bool(ctx, {DType::boolean}, true); }
void infer_logical_7(ShapeContext& ctx) { infer_binary_to_bool(ctx, {DType::boolean}, false); }

void infer_not(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::boolean});
  ctx.set_output(0, DType::boolean, ctx.shape(0));
}

// Where(condition, X, Y): X and Y of any type the engine holds, the same for both.
void infer_where(ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  if (ctx.dtype(0) != DType::boolean)
    ctx.fail("input 'condition' has type ", dtype_name(ctx.dtype(0)), ", expected bool");
  expect_held(ctx, 1);
  if (dtype_size(ctx.dtype(1)) == 0)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input 1 has type ", dtype_name(ctx.dtype(1)));
  ctx.expect_same_dtype(1, 2);
  ctx.set_output(0, ctx.dtype(1), broadcast_input_shapes(ctx, 0, 3));
}

}  // namespace

INFERD_SCHEMA("Equal", 1, 6, infer_equal_1);
INFERD_SCHEMA("Equal", 7, 10, infer_equal_7);
INFERD_SCHEMA("Equal", 11, kMaxOpset, infer_equal_11);
INFERD_SCHEMA("Less", 1, 6, infer_order_1);
INFERD_SCHEMA("Less", 7, 8, infer_order_7);
INFERD_SCHEMA("Less", 9, kMaxOpset, infer_order_9);
INFERD_SCHEMA("Greater", 1, 6, infer_order_1);
INFERD_SCHEMA("Greater", 7, 8, infer_order_7);
INFERD_SCHEMA("Greater", 9, kMaxOpset, infer_order_9);
INFERD_SCHEMA("LessOrEqual", 12, kMaxOpset, infer_order_9);
INFERD_SCHEMA("GreaterOrEqual", 12, kMaxOpset, infer_order_9);
INFERD_SCHEMA("And", 1, 6, infer_logical_1);
INFERD_SCHEMA("And", 7, kMaxOpset, infer_logical_7);
INFERD_SCHEMA("Or", 1, 6, infer_logical_1);
INFERD_SCHEMA("Or", 7, kMaxOpset, infer_logical_7);
INFERD_SCHEMA("Xor", 1, 6, infer_logical_1);
INFERD_SCHEMA("Xor", 7, kMaxOpset, infer_logical_7);
INFERD_SCHEMA("Not", 1, kMaxOpset, infer_not);
INFERD_SCHEMA("Where", 9, kMaxOpset, infer_where);

}  // namespace inferd
