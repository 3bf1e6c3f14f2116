// Shape of Resize. Each resized dim d gets
//   from `scales`:  O = ⌊D · scale⌋   (scale > 0, computed in double from the float given)
//   from `sizes`:   O = size, or with keep_aspect_ratio_policy not_larger / not_smaller (opset 18+)
//                   one scale for every resized dim, the smallest / largest size/D, and
//                   O = ⌊D · scale + 0.5⌋.
// Inputs by opset:
//   10:    X, scales (one per dim); modes nearest and linear (asymmetric coordinates, nearest floor).
//   11–12: X, roi, scales, [sizes]: scales may be empty when sizes is given; modes add cubic, and
//          coordinate_transformation_mode / nearest_mode / cubic_coeff_a / exclude_outside /
//          extrapolation_value appear (tf_half_pixel_for_nn only here).
//   13–17: roi and scales optional; exactly one of scales and sizes.
//   18:    antialias, axes (scales/sizes then have one value per listed axis), keep_aspect_ratio_policy.
//   19+:   coordinate_transformation_mode half_pixel_symmetric.
// Scales and sizes decide the shape, so they must be known when planning.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void check_string(const ShapeContext& ctx, const char* name, const char* fallback,
                  std::initializer_list<const char*> allowed) {
  const std::string v = ctx.attributes().get_string(name, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (v == a) return;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  ctx.fail("attribute '", name, "' is '", v, "'; expected one of ", list);
}

void infer_resize(ShapeContext& ctx) {
  const int opset = ctx.opset();
  const Attributes& attrs = ctx.attributes();
  ctx.expect_inputs(opset == 10 ? 2 : 1, opset == 10 ? 2 : 4);
  const DType t = ctx.dtype(0);
  if (dtype_size(t) == 0)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": input X has type ", dtype_name(t),
                 ", which the engine does not store");
  const Shape& x = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  if (rank > kMaxRank)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": input of rank ", rank, " exceeds the supported ", kMaxRank);

  if (opset == 10) check_string(ctx, "mode", "nearest", {"nearest", "linear"});
  else check_string(ctx, "mode", "nearest", {"nearest", "linear", "cubic"});
  const std::string mode = attrs.get_string("mode", "nearest");
  if (mode != "nearest" && t != DType::f32 && t != DType::f64)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": mode '", mode, "' on type ", dtype_name(t),
                 " is not supported (float and double only; nearest takes every type)");
  if (opset >= 11) {
    if (opset <= 12)
      check_string(ctx, "coordinate_transformation_mode", "half_pixel",
                   {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                    "tf_crop_and_resize"});
    else if (opset <= 18)
      check_string(ctx, "coordinate_transformation_mode", "half_pixel",
                   {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"});
    else
      check_string(ctx, "coordinate_transformation_mode", "half_pixel",
                   {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                    "tf_crop_and_resize"});
    check_string(ctx, "nearest_mode", "round_prefer_floor", {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"});
  }
  if (opset >= 18) {
    check_string(ctx, "keep_aspect_ratio_policy", "stretch", {"stretch", "not_larger", "not_smaller"});
    const int64_t antialias = attrs.get_int("antialias", 0);
    if (antialias != 0 && antialias != 1) ctx.fail("attribute 'antialias' must be 0 or 1, got ", antialias);
    if (antialias && mode == "nearest") ctx.fail("attribute 'antialias' applies to linear and cubic modes only");
  }

  // The resized dims: `axes` (opset 18+), else all.
  std::vector<int64_t> axes;
  if (opset >= 18 && attrs.has("axes")) {
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t a : attrs.get_ints("axes", {})) {
      const int64_t d = ctx.axis(a, rank, "attribute 'axes' entry");
      if (seen[static_cast<size_t>(d)]) ctx.fail("attribute 'axes' names dim ", d, " twice");
      seen[static_cast<size_t>(d)] = true;
      axes.push_back(d);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }

  const size_t scales_input = opset == 10 ? 1 : 2;
  const Tensor* scales = nullptr;
  if (ctx.has_input(scales_input) && shape_size(ctx.shape(scales_input)) > 0) {
    ctx.expect_dtype(scales_input, {DType::f32});
    scales = &ctx.require_value(scales_input, "input 'scales'");
  }
  const bool has_sizes = opset >= 11 && ctx.has_input(3);
  if (opset >= 11 && ctx.has_input(1) && shape_size(ctx.shape(1)) > 0) ctx.expect_dtype(1, {DType::f32, DType::f64});
  if (scales && has_sizes) ctx.fail("takes either scales or sizes, not both");
  if (!scales && !has_sizes) ctx.fail("needs scales or sizes (neither is given)");

  Shape y = x;
  if (scales) {
    if (scales->rank() != 1 || scales->size() != static_cast<int64_t>(axes.size()))
      ctx.fail("scales of shape ", shape_to_string(scales->shape), " must have one value per resized dim (",
               axes.size(), ")");
    for (size_t i = 0; i < axes.size(); ++i) {
      const float s = scales->data_as<float>()[i];
      if (!(s > 0)) ctx.fail("scales entry ", i, " is ", s, "; scales must be positive");
      const size_t d = static_cast<size_t>(axes[i]);
      y[d] = static_cast<int64_t>(std::floor(static_cast<double>(x[d]) * static_cast<double>(s)));
    }
  } else {
    ctx.expect_dtype(3, {DType::i64});
    const std::vector<int64_t> sizes = ctx.require_ints(3, "input 'sizes'");
    if (sizes.size() != axes.size())
      ctx.fail("sizes has ", sizes.size(), " values; expected one per resized dim (", axes.size(), ")");
    for (int64_t s : sizes)
      if (s < 0) ctx.fail("sizes ", shape_to_string(sizes), " has a negative value");
    const std::string policy = opset >= 18 ? attrs.get_string("keep_aspect_ratio_policy", "stretch") : "stretch";
    if (policy == "stretch") {
      for (size_t i = 0; i < axes.size(); ++i) y[static_cast<size_t>(axes[i])] = sizes[i];
    } else {
      double scale = policy == "not_larger" ? INFINITY : 0.0;
      for (size_t i = 0; i < axes.size(); ++i) {
        const double r = static_cast<double>(sizes[i]) / static_cast<double>(x[static_cast<size_t>(axes[i])]);
        scale = policy == "not_larger" ? std::min(scale, r) : std::max(scale, r);
      }
      for (int64_t d : axes)
        y[static_cast<size_t>(d)] = static_cast<int64_t>(scale * static_cast<double>(x[static_cast<size_t>(d)]) + 0.5);
    }
  }
  for (size_t d = 0; d < x.size(); ++d)
    if (x[d] == 0 && y[d] > 0) ctx.fail("cannot resize the empty dim ", d, " of X ", shape_to_string(x), " to ", y[d]);
  ctx.set_output(0, t, std::move(y));
}

}  // namespace

INFERD_SCHEMA("Resize", 10, 10, infer_resize);
INFERD_SCHEMA("Resize", 11, 12, infer_resize);
INFERD_SCHEMA("Resize", 13, 17, infer_resize);
INFERD_SCHEMA("Resize", 18, 18, infer_resize);
INFERD_SCHEMA("Resize", 19, kMaxOpset, infer_resize);

}  // namespace inferd
