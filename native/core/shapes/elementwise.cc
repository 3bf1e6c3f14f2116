// Shapes of the arithmetic ops Add, Sub, Mul, Div, Pow, Mod and of the unary math ops Sqrt, Erf, Exp,
// Log, Neg, Abs, Reciprocal, Floor, Ceil, Round, Sign, Sin, Cos.
//
// Binary ops broadcast numpy-style from opset 7. Before that (Add-1/6 …, Pow-1) B is broadcast onto
// A only when the `broadcast` attribute is 1: B's shape must then match a contiguous run of A's dims
// starting at `axis` (by default, A's last dims), or B must hold one element. The two broadcasting
// checks are shared with the comparison, logical and variadic ops (shapes/logical.cc, variadic.cc).
#include <string>

#include "core/op_schema.h"
#include "core/shape_util.h"
#include "core/shapes/broadcast_rules.h"

namespace inferd {

Shape broadcast_input_shapes(const ShapeContext& ctx, size_t first, size_t count) {
  Shape out = ctx.shape(first);
  bool ok = true;
  for (size_t i = first + 1; i < first + count && ok; ++i) {
    Shape next;
    ok = broadcast_shapes(out, ctx.shape(i), &next);
    out = std::move(next);
  }
  if (!ok) {
    std::string shapes;
    for (size_t i = first; i < first + count; ++i)
      shapes += (i == first ? "" : i + 1 == first + count ? " and " : ", ") + shape_to_string(ctx.shape(i));
    ctx.fail("input shapes ", shapes, " do not broadcast");
  }
  if (out.size() > static_cast<size_t>(kMaxRank))
    fail(ErrorKind::unsupported, ctx.node().label(), ": output rank ", out.size(), " exceeds the supported ",
         kMaxRank);
  return out;
}

// Opset < 7: the output has A's shape; B must fit A as the `broadcast` and `axis` attributes say.
void check_legacy_broadcast(const ShapeContext& ctx) {
  const Shape& a = ctx.shape(0);
  const Shape& b = ctx.shape(1);
  if (a.size() > static_cast<size_t>(kMaxRank))
    fail(ErrorKind::unsupported, ctx.node().label(), ": input rank ", a.size(), " exceeds the supported ",
         kMaxRank);
  const int64_t broadcast = ctx.attributes().get_int("broadcast", 0);
  if (broadcast != 0 && broadcast != 1) ctx.fail("attribute 'broadcast' must be 0 or 1, got ", broadcast);
  if (broadcast == 0) {
    if (a != b)
      ctx.fail("input shapes ", shape_to_string(a), " and ", shape_to_string(b),
               " differ and attribute 'broadcast' is 0");
    return;
  }
  if (shape_size(b) == 1) return;  // one element: broadcast over everything
  const int64_t a_rank = static_cast<int64_t>(a.size()), b_rank = static_cast<int64_t>(b.size());
  if (b_rank > a_rank)
    ctx.fail("input B ", shape_to_string(b), " has a higher rank than input A ", shape_to_string(a));
  int64_t axis = ctx.attributes().get_int("axis", a_rank - b_rank);
  if (axis < 0) axis += a_rank;
  if (axis < 0 || axis + b_rank > a_rank)
    ctx.fail("attribute 'axis' ", ctx.attributes().get_int("axis", 0), " does not fit input B ",
             shape_to_string(b), " into input A ", shape_to_string(a));
  for (int64_t k = 0; k < b_rank; ++k)
    if (b[k] != a[axis + k])
      ctx.fail("input B ", shape_to_string(b), " does not match input A ", shape_to_string(a), " at axis ",
               axis);
}

namespace {

// The element types the CPU computes arithmetic in (float16 and bfloat16 are not computed, but Mod
// takes float16).
void expect_numeric(const ShapeContext& ctx, size_t i) {
  ctx.expect_dtype(i, {DType::f32, DType::f64, DType::i8, DType::i16, DType::i32, DType::i64, DType::u8,
                       DType::u16, DType::u32, DType::u64});
}

void expect_float(const ShapeContext& ctx, size_t i) { ctx.expect_dtype(i, {DType::f32, DType::f64}); }

Shape broadcast_or_fail(const ShapeContext& ctx) { return broadcast_input_shapes(ctx, 0, 2); }

void infer_arith_legacy(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  expect_numeric(ctx, 0);
  ctx.expect_same_dtype(0, 1);
  check_legacy_broadcast(ctx);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

void infer_arith(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  expect_numeric(ctx, 0);
  ctx.expect_same_dtype(0, 1);
  ctx.set_output(0, ctx.dtype(0), broadcast_or_fail(ctx));
}

void infer_pow_legacy(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  expect_float(ctx, 0);
  ctx.expect_same_dtype(0, 1);
  check_legacy_broadcast(ctx);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

// Pow-7: base and exponent of one float type.
void infer_pow_7(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  expect_float(ctx, 0);
  ctx.expect_same_dtype(0, 1);
  ctx.set_output(0, ctx.dtype(0), broadcast_or_fail(ctx));
}

// Pow-12 and later: the exponent may have another type; the result has the base's.
void infer_pow(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i32, DType::i64});
  expect_numeric(ctx, 1);
  ctx.set_output(0, ctx.dtype(0), broadcast_or_fail(ctx));
}

// Mod-10 and later: fmod = 0 (the default) takes the sign of the divisor, as Python's % does, and is
// defined for integers only; fmod = 1 takes the dividend's, as C's fmod, and is required for floats.
void infer_mod(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::f16, DType::i8, DType::i16, DType::i32, DType::i64,
                       DType::u8, DType::u16, DType::u32, DType::u64});
  ctx.expect_same_dtype(0, 1);
  const int64_t fmod = ctx.attributes().get_int("fmod", 0);
  if (fmod != 0 && fmod != 1) ctx.fail("attribute 'fmod' must be 0 or 1, got ", fmod);
  const DType t = ctx.dtype(0);
  if (fmod == 0 && (t == DType::f32 || t == DType::f64 || t == DType::f16))
    ctx.fail("attribute 'fmod' must be 1 for ", dtype_name(t), " inputs");
  ctx.set_output(0, t, broadcast_or_fail(ctx));
}

void infer_unary(ShapeContext& ctx, std::initializer_list<DType> types) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, types);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

void infer_float_unary(ShapeContext& ctx) { infer_unary(ctx, {DType::f32, DType::f64}); }

// Neg-6 added the signed integers.
void infer_signed_unary(ShapeContext& ctx) {
  infer_unary(ctx, {DType::f32, DType::f64, DType::i8, DType::i16, DType::i32, DType::i64});
}

// Abs-6 and Sign: every numeric type.
void infer_numeric_unary(ShapeContext& ctx) {
  infer_unary(ctx, {DType::f32, DType::f64, DType::i8, DType::i16, DType::i32, DType::i64, DType::u8, DType::u16,
                    DType::u32, DType::u64});
}

}  // namespace

INFERD_SCHEMA("Add", 1, 6, infer_arith_legacy);
INFERD_SCHEMA("Add", 7, kMaxOpset, infer_arith);
INFERD_SCHEMA("Sub", 1, 6, infer_arith_legacy);
INFERD_SCHEMA("Sub", 7, kMaxOpset, infer_arith);
INFERD_SCHEMA("Mul", 1, 6, infer_arith_legacy);
INFERD_SCHEMA("Mul", 7, kMaxOpset, infer_arith);
INFERD_SCHEMA("Div", 1, 6, infer_arith_legacy);
INFERD_SCHEMA("Div", 7, kMaxOpset, infer_arith);
INFERD_SCHEMA("Pow", 1, 6, infer_pow_legacy);
INFERD_SCHEMA("Pow", 7, 11, infer_pow_7);
INFERD_SCHEMA("Pow", 12, kMaxOpset, infer_pow);
INFERD_SCHEMA("Mod", 10, kMaxOpset, infer_mod);
INFERD_SCHEMA("Sqrt", 1, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Erf", 9, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Exp", 1, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Log", 1, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Neg", 1, 5, infer_float_unary);
INFERD_SCHEMA("Neg", 6, kMaxOpset, infer_signed_unary);
INFERD_SCHEMA("Abs", 1, 5, infer_float_unary);
INFERD_SCHEMA("Abs", 6, kMaxOpset, infer_numeric_unary);
INFERD_SCHEMA("Reciprocal", 1, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Floor", 1, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Ceil", 1, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Round", 11, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Sign", 9, kMaxOpset, infer_numeric_unary);
INFERD_SCHEMA("Sin", 7, kMaxOpset, infer_float_unary);
INFERD_SCHEMA("Cos", 7, kMaxOpset, infer_float_unary);

}  // namespace inferd
