// Shapes of Softmax and LogSoftmax: the output is the input's shape. The opsets differ in what is
// normalised (see cpu/ops/softmax.cc), and in the default and meaning of `axis`, checked here.
#include "core/op_schema.h"

namespace inferd {
namespace {

void infer_softmax(ShapeContext& ctx, int64_t default_axis) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32});
  ctx.axis(ctx.attributes().get_int("axis", default_axis), ctx.rank(0), "attribute 'axis'");
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

// Opsets 1–12 view the input as 2-D at `axis` (default 1); from 13 they normalise along `axis`
// alone (default -1).
void infer_softmax_1(ShapeContext& ctx) { infer_softmax(ctx, 1); }
void infer_softmax_13(ShapeContext& ctx) { infer_softmax(ctx, -1); }

}  // namespace

INFERD_SCHEMA("Softmax", 1, 12, infer_softmax_1);
INFERD_SCHEMA("Softmax", 13, kMaxOpset, infer_softmax_13);
INFERD_SCHEMA("LogSoftmax", 1, 12, infer_softmax_1);
INFERD_SCHEMA("LogSoftmax", 13, kMaxOpset, infer_softmax_13);

}  // namespace inferd
