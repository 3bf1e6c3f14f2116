// Shapes of the ops that make numbers rather than move them: Range, ConstantOfShape, Size, Trilu and
// CumSum.
//
// Range and ConstantOfShape have shapes that follow from their inputs' values, read at plan time.
// Size follows from the input's shape alone and is given as its output's value, so it never runs.
// Trilu and CumSum keep their input's shape; their k and axis may be run-time values, which the
// kernels check when they read them.
#include <cmath>
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

void expect_scalar(const ShapeContext& ctx, size_t i, const char* what) {
  if (shape_size(ctx.shape(i)) != 1 || ctx.rank(i) > 1)
    ctx.fail(what, " must be a scalar, got shape ", shape_to_string(ctx.shape(i)));
}

// ---- Range ---------------------------------------------------------------------------------------

double as_double(const Tensor& t) {
  switch (t.dtype) {
    case DType::f32: return t.data_as<float>()[0];
    case DType::f64: return t.data_as<double>()[0];
    case DType::f16: return half_to_float(t.data_as<uint16_t>()[0]);
    case DType::bf16: return bf16_to_float(t.data_as<uint16_t>()[0]);
    default: return 0;
  }
}

int64_t as_int(const Tensor& t) {
  switch (t.dtype) {
    case DType::i16: return t.data_as<int16_t>()[0];
    case DType::i32: return t.data_as<int32_t>()[0];
    case DType::i64: return t.data_as<int64_t>()[0];
    default: return 0;
  }
}

// max(ceil((limit - start) / delta), 0), exactly for integers.
void range(ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  ctx.expect_same_dtype(0, 1);
  ctx.expect_same_dtype(0, 2);
  const char* names[] = {"input 'start'", "input 'limit'", "input 'delta'"};
  for (size_t i = 0; i < 3; ++i) expect_scalar(ctx, i, names[i]);
  const Tensor& start = ctx.require_value(0, names[0]);
  const Tensor& limit = ctx.require_value(1, names[1]);
  const Tensor& delta = ctx.require_value(2, names[2]);
  const DType t = ctx.dtype(0);
  int64_t n = 0;
  if (t == DType::i16 || t == DType::i32 || t == DType::i64) {
    const int64_t s = as_int(start), l = as_int(limit), d = as_int(delta);
    if (d == 0) ctx.fail("input 'delta' is 0");
    // |l - s| may not fit in int64 for int64 inputs; long double holds it exactly enough to reject.
    if (std::fabs(static_cast<long double>(l) - static_cast<long double>(s)) > static_cast<long double>(int64_t{1} << 62))
      ctx.fail("the range from ", s, " to ", l, " is too long");
    const int64_t span = l - s;
    if (d > 0) n = span > 0 ? (span - 1) / d + 1 : 0;
    else n = span < 0 ? (-span - 1) / -d + 1 : 0;
  } else {
    const double s = as_double(start), l = as_double(limit), d = as_double(delta);
    if (d == 0) ctx.fail("input 'delta' is 0");
    const double count = std::ceil((l - s) / d);
    if (!std::isfinite(s) || !std::isfinite(l) || !std::isfinite(d) || count > static_cast<double>(int64_t{1} << 40))
      ctx.fail("cannot make a range from ", s, " to ", l, " by ", d);
    n = count > 0 ? static_cast<int64_t>(count) : 0;
  }
  ctx.set_output(0, t, {n});
}

void infer_range_11(ShapeContext& ctx) {
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i16, DType::i32, DType::i64});
  range(ctx);
}

void infer_range_27(ShapeContext& ctx) {  // adds float16 and bfloat16, computed in float32 (stash_type)
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i16, DType::i32, DType::i64, DType::f16, DType::bf16});
  const int64_t stash = ctx.attributes().get_int("stash_type", 1);
  if (stash != static_cast<int64_t>(DType::f32))
    fail(ErrorKind::unsupported, ctx.node().label(), ": attribute 'stash_type' ", stash,
         " is not supported (only 1, float)");
  range(ctx);
}

// ---- ConstantOfShape -----------------------------------------------------------------------------

void infer_constant_of_shape(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::i64});
  if (ctx.rank(0) != 1) ctx.fail("input must be 1-D, got shape ", shape_to_string(ctx.shape(0)));
  const std::vector<int64_t> dims = ctx.require_ints(0, "input 'input'");
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] < 0) ctx.fail("input ", shape_to_string(dims), " has negative dim ", dims[i], " at index ", i);
  DType t = DType::f32;
  if (const Tensor* value = ctx.attributes().get_tensor("value")) {
    if (value->size() != 1)
      ctx.fail("attribute 'value' must hold one element, got shape ", shape_to_string(value->shape));
    t = value->dtype;
    if (dtype_size(t) == 0)
      fail(ErrorKind::unsupported, ctx.node().label(), ": attribute 'value' has type ", dtype_name(t),
           ", which the engine does not store");
  }
  Shape out(dims.begin(), dims.end());
  (void)shape_size(out);  // throws on overflow
  ctx.set_output(0, t, std::move(out));
}

// ---- Size ----------------------------------------------------------------------------------------

void infer_size(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  Tensor size = Tensor::allocate(DType::i64, {});
  size.data_as<int64_t>()[0] = shape_size(ctx.shape(0));
  ctx.set_output_value(0, std::move(size));
}

// ---- Trilu ---------------------------------------------------------------------------------------

void infer_trilu(ShapeContext& ctx) {
  ctx.expect_inputs(1, 2);
  expect_storable(ctx, 0);
  if (ctx.rank(0) < 2) ctx.fail("input must have rank >= 2, got shape ", shape_to_string(ctx.shape(0)));
  if (ctx.has_input(1)) {
    ctx.expect_dtype(1, {DType::i64});
    expect_scalar(ctx, 1, "input 'k'");
  }
  const int64_t upper = ctx.attributes().get_int("upper", 1);
  if (upper != 0 && upper != 1) ctx.fail("attribute 'upper' must be 0 or 1, got ", upper);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

// ---- CumSum --------------------------------------------------------------------------------------

void infer_cum_sum(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i32, DType::i64, DType::u32, DType::u64});
  ctx.expect_dtype(1, {DType::i32, DType::i64});
  expect_scalar(ctx, 1, "input 'axis'");
  if (ctx.rank(0) == 0) ctx.fail("input must have rank >= 1, got a scalar");
  if (ctx.value(1)) ctx.axis(ctx.require_ints(1, "input 'axis'")[0], ctx.rank(0), "input 'axis'");
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

}  // namespace

INFERD_SCHEMA("Range", 11, 26, infer_range_11);
INFERD_SCHEMA("Range", 27, kMaxOpset, infer_range_27);
INFERD_SCHEMA("ConstantOfShape", 9, kMaxOpset, infer_constant_of_shape);
INFERD_SCHEMA("Size", 1, kMaxOpset, infer_size);
INFERD_SCHEMA("Trilu", 14, kMaxOpset, infer_trilu);
INFERD_SCHEMA("CumSum", 11, kMaxOpset, infer_cum_sum);

}  // namespace inferd
