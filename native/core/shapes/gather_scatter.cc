// Shape functions of the gather/scatter family. Gather: data.shape[:axis] + indices.shape +
// data.shape[axis+1:]. Index values are checked by the kernel when it reads them.
#include "core/op_schema.h"

namespace inferd {
namespace {

void infer_gather(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  const DType t = ctx.dtype(0);
  if (dtype_size(t) == 0)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input 0 has type ", dtype_name(t),
         ", which the engine does not store");
  ctx.expect_dtype(1, {DType::i32, DType::i64});
  const Shape& data = ctx.shape(0);
  const Shape& indices = ctx.shape(1);
  if (data.empty()) ctx.fail("data (input 0) must have rank >= 1, got a scalar");
  const size_t axis = static_cast<size_t>(ctx.axis(ctx.attributes().get_int("axis", 0), ctx.rank(0), "attribute 'axis'"));

  Shape out(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.end());
  ctx.set_output(0, t, std::move(out));
}

}  // namespace

// Opset 11 defined negative indices (counting from the end); they are read that way at every opset.
INFERD_SCHEMA("Gather", 1, kMaxOpset, infer_gather);

}  // namespace inferd
