// Shape of Pad: each dim grows by its begin and end pads (a negative pad crops), to in + begin + end.
//   opset 1:     attribute `paddings`, attribute `value`;
//   opsets 2–10: attribute `pads`, attribute `value`;
//   opsets 11+:  input `pads` (int64, [2·rank]: all begins, then all ends), optional input
//                `constant_value` (a scalar of the data's type); 13 adds bool;
//   opsets 18+:  optional input `axes` says which dims `pads` covers ([2·len(axes)]);
//   opsets 19+:  mode `wrap` beside constant, reflect and edge.
// Pads decide the shape, so they must be known when planning (constants or small model inputs).
#include <algorithm>
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void check_mode(const ShapeContext& ctx, bool wrap) {
  const std::string mode = ctx.attributes().get_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && !(wrap && mode == "wrap"))
    ctx.fail("attribute 'mode' is '", mode, "'; expected constant, reflect, edge", wrap ? " or wrap" : "");
}

void check_data(const ShapeContext& ctx) {
  const DType t = ctx.dtype(0);
  if (dtype_size(t) == 0)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": input data has type ", dtype_name(t),
                 ", which the engine does not store");
  if (ctx.rank(0) > kMaxRank)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": input of rank ", ctx.rank(0),
                 " exceeds the supported rank ", kMaxRank);
}

// The output shape for `pads` laid along `axes` (all dims when empty).
void set_padded(ShapeContext& ctx, const std::vector<int64_t>& pads, const std::vector<int64_t>& axes) {
  const Shape& in = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  const size_t n = axes.empty() ? in.size() : axes.size();
  if (pads.size() != 2 * n)
    ctx.fail("pads has ", pads.size(), " values; expected ", 2 * n, " (a begin and an end for each of ", n,
             axes.empty() ? " dims of the input " : " axes of input ", shape_to_string(in), ")");
  const std::string mode = ctx.attributes().get_string("mode", "constant");
  std::vector<bool> seen(in.size(), false);
  Shape out = in;
  for (size_t i = 0; i < n; ++i) {
    const size_t d = static_cast<size_t>(axes.empty() ? static_cast<int64_t>(i) : ctx.axis(axes[i], rank, "axes entry"));
    if (seen[d]) ctx.fail("axes name dim ", d, " twice");
    seen[d] = true;
    const int64_t begin = pads[i], end = pads[i + n];
    out[d] = in[d] + begin + end;
    if (out[d] < 0)
      ctx.fail("pads ", shape_to_string(pads), " crop dim ", d, " (of size ", in[d], ") below zero");
    if (mode != "constant" && out[d] > 0 && in[d] + std::min<int64_t>(begin, 0) + std::min<int64_t>(end, 0) <= 0)
      ctx.fail("mode '", mode, "' cannot pad dim ", d, ", which is empty (after cropping) in input ", shape_to_string(in));
  }
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

void infer_pad_attribute(ShapeContext& ctx, const char* name) {
  ctx.expect_inputs(1, 1);
  check_data(ctx);
  check_mode(ctx, false);
  if (!ctx.attributes().has(name)) ctx.fail("attribute '", name, "' is required");
  set_padded(ctx, ctx.attributes().get_ints(name, {}), {});
}

void infer_pad_1(ShapeContext& ctx) { infer_pad_attribute(ctx, "paddings"); }
void infer_pad_2(ShapeContext& ctx) { infer_pad_attribute(ctx, "pads"); }

void infer_pad_inputs(ShapeContext& ctx, bool has_axes, bool wrap) {
  ctx.expect_inputs(2, has_axes ? 4 : 3);
  check_data(ctx);
  check_mode(ctx, wrap);
  ctx.expect_dtype(1, {DType::i64});
  if (ctx.has_input(2)) {
    ctx.expect_same_dtype(0, 2);
    if (shape_size(ctx.shape(2)) > 1)
      ctx.fail("constant_value must be a scalar, got shape ", shape_to_string(ctx.shape(2)));
  }
  std::vector<int64_t> axes;
  if (has_axes && ctx.has_input(3)) {
    ctx.expect_dtype(3, {DType::i32, DType::i64});
    axes = ctx.require_ints(3, "input 'axes'");
    if (axes.empty()) ctx.fail("input 'axes' is empty");
  }
  set_padded(ctx, ctx.require_ints(1, "input 'pads'"), axes);
}

void infer_pad_11(ShapeContext& ctx) { infer_pad_inputs(ctx, false, false); }
void infer_pad_18(ShapeContext& ctx) { infer_pad_inputs(ctx, true, false); }
void infer_pad_19(ShapeContext& ctx) { infer_pad_inputs(ctx, true, true); }

}  // namespace

INFERD_SCHEMA("Pad", 1, 1, infer_pad_1);
INFERD_SCHEMA("Pad", 2, 10, infer_pad_2);
INFERD_SCHEMA("Pad", 11, 17, infer_pad_11);
INFERD_SCHEMA("Pad", 18, 18, infer_pad_18);
INFERD_SCHEMA("Pad", 19, kMaxOpset, infer_pad_19);

}  // namespace inferd
