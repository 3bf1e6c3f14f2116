// Shapes of Expand and Tile, whose target sizes are inputs read at plan time.
//
// Expand: the input broadcast (numpy rules, in both directions) with the 'shape' input: a 1 in
// 'shape' keeps the input's dim, and 'shape' may have fewer dims than the input.
// Tile: every dim multiplied by its entry in 'repeats' (opset 6+). Opset 1 repeated one axis: inputs
// 'tiles' and 'axis', both scalars.
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

void infer_expand(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  expect_storable(ctx, 0);
  ctx.expect_dtype(1, {DType::i64});
  const Shape& in = ctx.shape(0);
  const std::vector<int64_t> shape = ctx.require_ints(1, "input 'shape'");
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] < 0) ctx.fail("input 'shape' ", shape_to_string(shape), " has negative dim ", shape[i], " at index ", i);
  Shape out;
  if (!broadcast_shapes(in, shape, &out))
    ctx.fail("cannot expand input ", shape_to_string(in), " to shape ", shape_to_string(shape),
             ": dims must be equal or 1");
  if (out.size() > static_cast<size_t>(kMaxRank))
    fail(ErrorKind::unsupported, ctx.node().label(), ": output rank ", out.size(), " exceeds the supported rank ",
         kMaxRank);
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

void tile(ShapeContext& ctx, const std::vector<int64_t>& repeats) {
  expect_storable(ctx, 0);
  const Shape& in = ctx.shape(0);
  if (in.size() > static_cast<size_t>(kMaxRank))
    fail(ErrorKind::unsupported, ctx.node().label(), ": input rank ", in.size(), " exceeds the supported rank ",
         kMaxRank);
  if (repeats.size() != in.size())
    ctx.fail("repeats ", shape_to_string(repeats), " has ", repeats.size(), " entries for input ",
             shape_to_string(in), " of rank ", in.size());
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (repeats[i] < 0) ctx.fail("repeats ", shape_to_string(repeats), " has negative entry ", repeats[i]);
    out[i] = in[i] * repeats[i];
  }
  (void)shape_size(out);  // throws on overflow
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

void infer_tile_1(ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  const std::vector<int64_t> tiles = ctx.require_ints(1, "input 'tiles'");
  const std::vector<int64_t> axis = ctx.require_ints(2, "input 'axis'");
  if (tiles.size() != 1 || axis.size() != 1) ctx.fail("inputs 'tiles' and 'axis' must be scalars");
  std::vector<int64_t> repeats(ctx.shape(0).size(), 1);
  repeats[static_cast<size_t>(ctx.axis(axis[0], ctx.rank(0), "input 'axis'"))] = tiles[0];
  tile(ctx, repeats);
}

void infer_tile_6(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_dtype(1, {DType::i64});
  tile(ctx, ctx.require_ints(1, "input 'repeats'"));
}

}  // namespace

INFERD_SCHEMA("Expand", 8, kMaxOpset, infer_expand);
INFERD_SCHEMA("Tile", 1, 5, infer_tile_1);
INFERD_SCHEMA("Tile", 6, kMaxOpset, infer_tile_6);

}  // namespace inferd
