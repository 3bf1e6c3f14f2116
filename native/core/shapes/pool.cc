// Shapes of the pools over X = [N, C, D1 … Ds]: MaxPool and AveragePool slide a window of
// kernel_shape over the spatial dims, GlobalMaxPool and GlobalAveragePool reduce them to 1.
//
// Per spatial dim, with dk = (k − 1)·dilation + 1 the dilated window's extent:
//   auto_pad NOTSET:  O = ⌊(D + pad_begin + pad_end − dk) / stride⌋ + 1, or with ceil_mode ⌈…⌉ + 1
//                     less one when that last window would start past the input and its left
//                     padding (it would cover only right padding);
//   VALID:            O = ⌊(D − dk) / stride⌋ + 1;
//   SAME_UPPER/LOWER: O = ⌈D / stride⌉.
// MaxPool's optional second output (opset 8+), Indices, has Y's shape and type int64.
//
// Opset history: MaxPool 8 added Indices and storage_order, 10 ceil_mode and dilations, 12 int8 and
// uint8; AveragePool 7 added count_include_pad, 10 ceil_mode, 19 dilations. Attributes a version lacks
// keep their defaults, so one shape function serves every version of an op.
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

// The CPU pools walk at most three spatial dims (1-D and 2-D run as 3-D with leading 1s).
constexpr size_t kMaxPoolSpatial = 3;

void check_input(const ShapeContext& ctx) {
  const Shape& x = ctx.shape(0);
  if (x.size() < 3) ctx.fail("input X must have rank >= 3 ([N, C, D1 … Ds]), got shape ", shape_to_string(x));
  if (x.size() - 2 > kMaxPoolSpatial)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": pooling over ", x.size() - 2,
                 " spatial dims is not supported (at most ", kMaxPoolSpatial, "), input shape ", shape_to_string(x));
}

std::vector<int64_t> ints_of_length(const ShapeContext& ctx, const char* name, size_t n, int64_t fallback,
                                    int64_t min) {
  std::vector<int64_t> v = ctx.attributes().get_ints(name, std::vector<int64_t>(n, fallback));
  if (v.size() != n) ctx.fail("attribute '", name, "' has ", v.size(), " values, expected ", n);
  for (int64_t x : v)
    if (x < min) ctx.fail("attribute '", name, "' has value ", x, ", below the minimum ", min);
  return v;
}

Shape pooled_shape(const ShapeContext& ctx) {
  const Shape& x = ctx.shape(0);
  const size_t s = x.size() - 2;
  const Attributes& attrs = ctx.attributes();
  if (!attrs.has("kernel_shape")) ctx.fail("attribute 'kernel_shape' is required");
  const std::vector<int64_t> kernel = ints_of_length(ctx, "kernel_shape", s, 1, 1);
  const std::vector<int64_t> strides = ints_of_length(ctx, "strides", s, 1, 1);
  const std::vector<int64_t> dilations = ints_of_length(ctx, "dilations", s, 1, 1);
  const std::vector<int64_t> pads = ints_of_length(ctx, "pads", 2 * s, 0, 0);
  const std::string auto_pad = attrs.get_string("auto_pad", "NOTSET");
  const int64_t ceil_mode = attrs.get_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) ctx.fail("attribute 'ceil_mode' must be 0 or 1, got ", ceil_mode);
  Shape y{x[0], x[1]};
  for (size_t d = 0; d < s; ++d) {
    const int64_t in = x[d + 2], stride = strides[d];
    const int64_t dk = (kernel[d] - 1) * dilations[d] + 1;
    if (pads[d] >= dk || pads[d + s] >= dk)
      ctx.fail("attribute 'pads' ", shape_to_string(pads), " pads dim ", d, " by as much as the window's extent ", dk);
    int64_t out;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out = (in + stride - 1) / stride;
    } else if (auto_pad == "VALID" || auto_pad == "NOTSET") {
      const int64_t pad_begin = auto_pad == "VALID" ? 0 : pads[d];
      const int64_t padded = in + pad_begin + (auto_pad == "VALID" ? 0 : pads[d + s]);
      if (padded < dk)
        ctx.fail("spatial dim ", d, " of X ", shape_to_string(x), " is ", in, " (", padded,
                 " padded), smaller than the window's extent ", dk);
      out = (padded - dk + (ceil_mode ? stride - 1 : 0)) / stride + 1;
      if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
    } else {
      ctx.fail("attribute 'auto_pad' is '", auto_pad, "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
    }
    y.push_back(out);
  }
  return y;
}

void infer_max_pool(ShapeContext& ctx, std::initializer_list<DType> types, bool has_indices) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, types);
  check_input(ctx);
  if (ctx.output_count() > (has_indices ? 2u : 1u))
    ctx.fail("has ", ctx.output_count(), " outputs; MaxPool-", ctx.opset(), " has at most ", has_indices ? 2 : 1);
  const int64_t storage_order = ctx.attributes().get_int("storage_order", 0);
  if (storage_order != 0 && storage_order != 1)
    ctx.fail("attribute 'storage_order' must be 0 (row major) or 1 (column major), got ", storage_order);
  Shape y = pooled_shape(ctx);
  ctx.set_output(1, DType::i64, y);
  ctx.set_output(0, ctx.dtype(0), std::move(y));
}

void infer_max_pool_1(ShapeContext& ctx) { infer_max_pool(ctx, {DType::f32, DType::f64}, false); }
void infer_max_pool_8(ShapeContext& ctx) { infer_max_pool(ctx, {DType::f32, DType::f64}, true); }
void infer_max_pool_12(ShapeContext& ctx) {
  infer_max_pool(ctx, {DType::f32, DType::f64, DType::i8, DType::u8}, true);
}

void infer_average_pool(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64});
  check_input(ctx);
  const int64_t count_include_pad = ctx.attributes().get_int("count_include_pad", 0);
  if (count_include_pad != 0 && count_include_pad != 1)
    ctx.fail("attribute 'count_include_pad' must be 0 or 1, got ", count_include_pad);
  ctx.set_output(0, ctx.dtype(0), pooled_shape(ctx));
}

void infer_global_pool(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64});
  const Shape& x = ctx.shape(0);
  if (x.size() < 2) ctx.fail("input X must have rank >= 2 ([N, C, D1 … Ds]), got shape ", shape_to_string(x));
  Shape y = x;
  for (size_t d = 2; d < y.size(); ++d) y[d] = 1;
  ctx.set_output(0, ctx.dtype(0), std::move(y));
}

}  // namespace

INFERD_SCHEMA("MaxPool", 1, 7, infer_max_pool_1);
INFERD_SCHEMA("MaxPool", 8, 11, infer_max_pool_8);
INFERD_SCHEMA("MaxPool", 12, kMaxOpset, infer_max_pool_12);
INFERD_SCHEMA("AveragePool", 1, kMaxOpset, infer_average_pool);
INFERD_SCHEMA("GlobalMaxPool", 1, kMaxOpset, infer_global_pool);
INFERD_SCHEMA("GlobalAveragePool", 1, kMaxOpset, infer_global_pool);

}  // namespace inferd
