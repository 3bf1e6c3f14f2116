// Shapes of Conv and ConvTranspose over X = [N, C, D1 … Ds] (s >= 1 spatial dims).
//
// Conv: W = [M, C/group, k1 … ks], optional B = [M]; Y = [N, M, O1 … Os] with, per spatial dim and
// dk = (k − 1)·dilation + 1 the dilated filter's extent,
//   auto_pad NOTSET:  O = ⌊(D + pad_begin + pad_end − dk) / stride⌋ + 1     (pads from the attribute)
//   VALID:            O = ⌊(D − dk) / stride⌋ + 1                          (no padding)
//   SAME_UPPER/LOWER: O = ⌈D / stride⌉  (the padding that takes, with the odd unit at the end for
//                     SAME_UPPER and at the beginning for SAME_LOWER)
//
// ConvTranspose is Conv's adjoint: W = [C, M/group, k1 … ks], Y = [N, M, O1 … Os] with
//   O = stride·(D − 1) + output_padding + dk − pad_begin − pad_end
// unless output_shape is given (then O is that, and the pads follow from it) or auto_pad is SAME_*
// (then O = D·stride); in both cases total = stride·(D − 1) + output_padding + dk − O is split as
// pad_begin = ⌊total/2⌋ for SAME_UPPER and total − ⌊total/2⌋ otherwise. A negative total (O beyond
// the natural size) adds its positions at the end for output_shape, as onnxruntime does, and is
// split like a positive one for SAME_*, ⌊⌋ rounding toward −∞, as the ONNX reference does.
//
// Both compute in float only: the CPU kernels are an SGEMM over im2col/col2im.
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

// The window attributes shared by both ops, validated against s spatial dims.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: s begins, then s ends
  std::string auto_pad;
};

std::vector<int64_t> ints_of_length(const ShapeContext& ctx, const char* name, size_t s, int64_t fallback,
                                    int64_t min) {
  std::vector<int64_t> v = ctx.attributes().get_ints(name, std::vector<int64_t>(s, fallback));
  if (v.size() != s)
    ctx.fail("attribute '", name, "' has ", v.size(), " values for ", s, " spatial dims");
  for (int64_t x : v)
    if (x < min) ctx.fail("attribute '", name, "' has value ", x, ", below the minimum ", min);
  return v;
}

Window read_window(const ShapeContext& ctx, const Shape& w) {
  const size_t s = w.size() - 2;
  Window win;
  win.kernel.assign(w.begin() + 2, w.end());
  if (ctx.attributes().has("kernel_shape")) {
    const std::vector<int64_t> k = ctx.attributes().get_ints("kernel_shape", {});
    if (k != win.kernel)
      ctx.fail("attribute 'kernel_shape' ", shape_to_string(k), " does not match the filter's spatial dims ",
               shape_to_string(win.kernel), " (W ", shape_to_string(w), ")");
  }
  win.strides = ints_of_length(ctx, "strides", s, 1, 1);
  win.dilations = ints_of_length(ctx, "dilations", s, 1, 1);
  win.pads = ints_of_length(ctx, "pads", 2 * s, 0, INT64_MIN);
  win.auto_pad = ctx.attributes().get_string("auto_pad", "NOTSET");
  if (win.auto_pad != "NOTSET" && win.auto_pad != "VALID" && win.auto_pad != "SAME_UPPER" &&
      win.auto_pad != "SAME_LOWER")
    ctx.fail("attribute 'auto_pad' is '", win.auto_pad, "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  return win;
}

// X, W and B's types and ranks; returns the group count after checking that it divides `channels`
// (C for Conv, M for ConvTranspose, whichever group splits on W's first axis).
int64_t check_operands(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_dtype(0, {DType::f32});
  ctx.expect_same_dtype(0, 1);
  const Shape& x = ctx.shape(0);
  const Shape& w = ctx.shape(1);
  if (x.size() < 3 || x.size() > static_cast<size_t>(kMaxRank))
    ctx.fail("input X must have rank 3 to ", kMaxRank, " ([N, C, D1 … Ds]), got shape ", shape_to_string(x));
  if (w.size() != x.size())
    ctx.fail("filter W ", shape_to_string(w), " must have the rank of X ", shape_to_string(x));
  for (size_t d = 2; d < w.size(); ++d)
    if (w[d] < 1) ctx.fail("filter W ", shape_to_string(w), " has an empty spatial dim");
  const int64_t group = ctx.attributes().get_int("group", 1);
  if (group < 1) ctx.fail("attribute 'group' must be >= 1, got ", group);
  if (ctx.has_input(2)) ctx.expect_same_dtype(0, 2);
  return group;
}

void check_bias(const ShapeContext& ctx, int64_t m) {
  if (ctx.has_input(2) && ctx.shape(2) != Shape{m})
    ctx.fail("bias B must have shape [", m, "] (one value per output channel), got ", shape_to_string(ctx.shape(2)));
}

void infer_conv(ShapeContext& ctx) {
  const int64_t group = check_operands(ctx);
  const Shape& x = ctx.shape(0);
  const Shape& w = ctx.shape(1);
  const int64_t C = x[1], M = w[0];
  if (C % group != 0 || w[1] * group != C)
    ctx.fail("X has ", C, " channels but W ", shape_to_string(w), " expects ", w[1], " per group × ", group,
             " groups");
  if (M % group != 0) ctx.fail("W's ", M, " output channels do not divide into ", group, " groups");
  check_bias(ctx, M);
  const Window win = read_window(ctx, w);
  const size_t s = x.size() - 2;
  Shape y{x[0], M};
  for (size_t d = 0; d < s; ++d) {
    const int64_t in = x[d + 2], stride = win.strides[d];
    const int64_t dk = (win.kernel[d] - 1) * win.dilations[d] + 1;
    int64_t out;
    if (win.auto_pad == "SAME_UPPER" || win.auto_pad == "SAME_LOWER") {
      out = (in + stride - 1) / stride;
    } else {
      const int64_t padded = in + (win.auto_pad == "VALID" ? 0 : win.pads[d] + win.pads[d + s]);
      if (win.auto_pad == "NOTSET" && (win.pads[d] < 0 || win.pads[d + s] < 0))
        ctx.fail("attribute 'pads' ", shape_to_string(win.pads), " has a negative value");
      if (padded < dk)
        ctx.fail("spatial dim ", d, " of X ", shape_to_string(x), " is ", in, " (", padded,
                 " padded), smaller than the dilated filter's ", dk);
      out = (padded - dk) / stride + 1;
    }
    y.push_back(out);
  }
  ctx.set_output(0, DType::f32, std::move(y));
}

void infer_conv_transpose(ShapeContext& ctx) {
  const int64_t group = check_operands(ctx);
  const Shape& x = ctx.shape(0);
  const Shape& w = ctx.shape(1);
  const int64_t C = x[1], M = w[1] * group;
  if (w[0] != C) ctx.fail("X has ", C, " channels but W ", shape_to_string(w), " has ", w[0]);
  if (C % group != 0) ctx.fail("X's ", C, " channels do not divide into ", group, " groups");
  check_bias(ctx, M);
  const Window win = read_window(ctx, w);
  const size_t s = x.size() - 2;
  const std::vector<int64_t> output_padding = ints_of_length(ctx, "output_padding", s, 0, 0);
  std::vector<int64_t> output_shape = ctx.attributes().get_ints("output_shape", {});
  // Some exporters give output_shape as the whole [N, M, O1 … Os]: its spatial part is what counts.
  if (output_shape.size() == s + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_shape.empty() && output_shape.size() != s)
    ctx.fail("attribute 'output_shape' ", shape_to_string(output_shape), " has ", output_shape.size(),
             " values for ", s, " spatial dims");
  Shape y{x[0], M};
  for (size_t d = 0; d < s; ++d) {
    const int64_t in = x[d + 2], stride = win.strides[d];
    const int64_t natural = stride * (in - 1) + output_padding[d] + (win.kernel[d] - 1) * win.dilations[d] + 1;
    int64_t out;
    if (!output_shape.empty()) {
      out = output_shape[d];
    } else if (win.auto_pad == "SAME_UPPER" || win.auto_pad == "SAME_LOWER") {
      out = in * stride;
    } else if (win.auto_pad == "VALID") {
      out = natural;
    } else {
      out = natural - win.pads[d] - win.pads[d + s];
    }
    if (out < 0 || (in > 0 && out < 1))
      ctx.fail("spatial dim ", d, " of the output would be ", out, " (X ", shape_to_string(x), ", W ",
               shape_to_string(w), ")");
    y.push_back(out);
  }
  ctx.set_output(0, DType::f32, std::move(y));
}

}  // namespace

// Opset 11 only clarified the text and 22 added bfloat16: the semantics never changed.
INFERD_SCHEMA("Conv", 1, kMaxOpset, infer_conv);
INFERD_SCHEMA("ConvTranspose", 1, kMaxOpset, infer_conv_transpose);

}  // namespace inferd
