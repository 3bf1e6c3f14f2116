// Shape function of Concat: inputs of one type and rank, equal in every dim but `axis`, joined along it.
#include <string>

#include "core/op_schema.h"

namespace inferd {
namespace {

void concat(ShapeContext& ctx, int64_t axis_attribute) {
  const size_t n = ctx.input_count();
  if (n == 0) ctx.fail("needs at least one input");
  for (size_t i = 0; i < n; ++i)
    if (!ctx.has_input(i)) ctx.fail("input ", i, " is missing; Concat has no optional inputs");

  const DType t = ctx.dtype(0);
  if (dtype_size(t) == 0)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input 0 has type ", dtype_name(t),
         ", which the engine does not store");
  const Shape& first = ctx.shape(0);
  const int rank = ctx.rank(0);
  if (rank == 0) ctx.fail("cannot concatenate scalars (input 0 has rank 0)");
  const size_t axis = static_cast<size_t>(ctx.axis(axis_attribute, rank, "attribute 'axis'"));

  Shape out = first;
  for (size_t i = 1; i < n; ++i) {
    ctx.expect_same_dtype(0, i);
    const Shape& s = ctx.shape(i);
    if (s.size() != first.size())
      ctx.fail("input ", i, " has shape ", shape_to_string(s), " but input 0 has ", shape_to_string(first),
               ": ranks differ");
    for (size_t d = 0; d < s.size(); ++d)
      if (d != axis && s[d] != first[d])
        ctx.fail("input ", i, " has shape ", shape_to_string(s), " but input 0 has ", shape_to_string(first),
                 ": dim ", d, " differs (", s[d], " vs ", first[d], ") and only axis ", axis, " may");
    out[axis] += s[axis];
  }
  ctx.set_output(0, t, std::move(out));
}

void infer_concat_v1(ShapeContext& ctx) { concat(ctx, ctx.attributes().get_int("axis", 1)); }
void infer_concat_v4(ShapeContext& ctx) { concat(ctx, ctx.attributes().require_int("axis")); }

}  // namespace

// Opset 4 made axis required (it defaulted to 1); opset 11 allowed negative axes, which are accepted
// at every opset since no valid older model uses them.
INFERD_SCHEMA("Concat", 1, 3, infer_concat_v1);
INFERD_SCHEMA("Concat", 4, kMaxOpset, infer_concat_v4);

}  // namespace inferd
