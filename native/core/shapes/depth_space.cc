// Shapes of DepthToSpace and SpaceToDepth, which move blocks of blocksize × blocksize between the
// channel dim and the two spatial dims of an [N, C, H, W] tensor:
//   DepthToSpace: [N, C, H, W] → [N, C/b², H·b, W·b]  (C divisible by b²)
//   SpaceToDepth: [N, C, H, W] → [N, C·b², H/b, W/b]  (H and W divisible by b)
// DepthToSpace's `mode` (opset 11+) orders the moved channels depth-column-row (DCR, the default and
// the only order before 11) or column-row-depth (CRD).
#include <string>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

int64_t check(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const DType t = ctx.dtype(0);
  if (dtype_size(t) == 0)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": input has type ", dtype_name(t),
                 ", which the engine does not store");
  if (ctx.rank(0) != 4) ctx.fail("input must be 4-D [N, C, H, W], got shape ", shape_to_string(ctx.shape(0)));
  if (!ctx.attributes().has("blocksize")) ctx.fail("attribute 'blocksize' is required");
  const int64_t b = ctx.attributes().get_int("blocksize", 1);
  if (b < 1) ctx.fail("attribute 'blocksize' must be >= 1, got ", b);
  return b;
}

void infer_depth_to_space(ShapeContext& ctx) {
  const int64_t b = check(ctx);
  const Shape& x = ctx.shape(0);
  const std::string mode = ctx.attributes().get_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") ctx.fail("attribute 'mode' is '", mode, "'; expected DCR or CRD");
  if (x[1] % (b * b) != 0)
    ctx.fail("input channels ", x[1], " (shape ", shape_to_string(x), ") are not divisible by blocksize² = ", b * b);
  ctx.set_output(0, ctx.dtype(0), {x[0], x[1] / (b * b), x[2] * b, x[3] * b});
}

void infer_space_to_depth(ShapeContext& ctx) {
  const int64_t b = check(ctx);
  const Shape& x = ctx.shape(0);
  if (x[2] % b != 0 || x[3] % b != 0)
    ctx.fail("input height and width (shape ", shape_to_string(x), ") are not divisible by blocksize ", b);
  ctx.set_output(0, ctx.dtype(0), {x[0], x[1] * b * b, x[2] / b, x[3] / b});
}

}  // namespace

INFERD_SCHEMA("DepthToSpace", 1, 10, infer_depth_to_space);
INFERD_SCHEMA("DepthToSpace", 11, kMaxOpset, infer_depth_to_space);
INFERD_SCHEMA("SpaceToDepth", 1, kMaxOpset, infer_space_to_depth);

}  // namespace inferd
