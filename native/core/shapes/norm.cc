// Shapes of the normalizations, which all keep X's shape:
//   BatchNormalization(X, scale, B, mean, var), X = [N, C, D1 … Dn]: per channel, with the given
//     statistics (inference), or (opset 14+, training_mode = 1) with the batch's, also giving the
//     updated running mean and variance ([C] each). Before opset 9 `spatial` = 0 gives every
//     (channel, position) its own parameters, of shape [C, D1 … Dn].
//   InstanceNormalization(X, scale, B): per (image, channel), over the spatial dims.
//   LayerNormalization(X, Scale, B) (opset 17): over the dims from `axis` on, Scale and B broadcasting
//     to X.shape[axis:]; the optional Mean and InvStdDev have X's shape with those dims set to 1, of
//     the type stash_type names (float by default).
#include <string>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void check_param(const ShapeContext& ctx, size_t i, const char* name, const Shape& expected) {
  ctx.expect_same_dtype(0, i);
  if (ctx.shape(i) != expected)
    ctx.fail("input ", name, " must have shape ", shape_to_string(expected), ", got ", shape_to_string(ctx.shape(i)));
}

void check_x(const ShapeContext& ctx, size_t min_rank) {
  ctx.expect_dtype(0, {DType::f32, DType::f64});
  const Shape& x = ctx.shape(0);
  if (x.size() < min_rank)
    ctx.fail("input X must have rank >= ", min_rank, " ([N, C, D1 … Dn]), got shape ", shape_to_string(x));
}

void infer_batch_norm(ShapeContext& ctx, bool has_spatial, bool has_training_mode) {
  ctx.expect_inputs(5, 5);
  check_x(ctx, 2);
  const Shape& x = ctx.shape(0);
  const bool spatial = !has_spatial || ctx.attributes().get_int("spatial", 1) != 0;
  const bool training = has_training_mode && ctx.attributes().get_int("training_mode", 0) != 0;
  if (!has_training_mode && ctx.output_count() > 1)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": the training-mode statistics outputs are not ",
                 "supported before opset 14");
  if (has_training_mode && !training && ctx.output_count() > 1)
    ctx.fail("outputs running_mean and running_var are only produced with training_mode = 1");
  const Shape channels{x[1]};
  const Shape per_position(x.begin() + 1, x.end());
  static const char* const names[] = {"", "scale", "B", "mean", "var"};
  for (size_t i = 1; i < 5; ++i) {
    if (!spatial && ctx.shape(i) == per_position) {
      ctx.expect_same_dtype(0, i);
      continue;
    }
    check_param(ctx, i, names[i], channels);
  }
  ctx.set_output(0, ctx.dtype(0), x);
  if (training) {
    ctx.set_output(1, ctx.dtype(3), channels);
    ctx.set_output(2, ctx.dtype(4), channels);
  }
}

void infer_batch_norm_1(ShapeContext& ctx) { infer_batch_norm(ctx, true, false); }
void infer_batch_norm_9(ShapeContext& ctx) { infer_batch_norm(ctx, false, false); }
void infer_batch_norm_14(ShapeContext& ctx) { infer_batch_norm(ctx, false, true); }

void infer_instance_norm(ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  check_x(ctx, 3);
  const Shape channels{ctx.shape(0)[1]};
  check_param(ctx, 1, "scale", channels);
  check_param(ctx, 2, "B", channels);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

void infer_layer_norm(ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  check_x(ctx, 1);
  const Shape& x = ctx.shape(0);
  if (x.size() > static_cast<size_t>(kMaxRank))
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": input of rank ", x.size(), " exceeds the supported ",
                 kMaxRank);
  const int64_t axis = ctx.axis(ctx.attributes().get_int("axis", -1), static_cast<int64_t>(x.size()), "attribute 'axis'");
  const Shape normalized(x.begin() + axis, x.end());
  int64_t strides[kMaxRank];
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    ctx.expect_same_dtype(0, i);
    const Shape& p = ctx.shape(i);
    if (p.size() > normalized.size() || !broadcast_strides(p, normalized, strides))
      ctx.fail("input ", i == 1 ? "Scale" : "B", " of shape ", shape_to_string(p), " does not broadcast to ",
               shape_to_string(normalized), " (the dims of X ", shape_to_string(x), " from axis ", axis, ")");
  }
  const int64_t stash_type = ctx.attributes().get_int("stash_type", 1);
  DType stash;
  if (stash_type == static_cast<int64_t>(DType::f32)) stash = DType::f32;
  else if (stash_type == static_cast<int64_t>(DType::f64)) stash = DType::f64;
  else inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": stash_type ", stash_type, " is not supported (float or double)");
  Shape stats = x;
  for (size_t d = static_cast<size_t>(axis); d < stats.size(); ++d) stats[d] = 1;
  ctx.set_output(0, ctx.dtype(0), x);
  ctx.set_output(1, stash, stats);
  ctx.set_output(2, stash, std::move(stats));
}

}  // namespace

// 1–8: `spatial` (and is_test up to 6); 9: always per channel; 14: training_mode and its outputs.
INFERD_SCHEMA("BatchNormalization", 1, 8, infer_batch_norm_1);
INFERD_SCHEMA("BatchNormalization", 9, 13, infer_batch_norm_9);
INFERD_SCHEMA("BatchNormalization", 14, kMaxOpset, infer_batch_norm_14);
INFERD_SCHEMA("InstanceNormalization", 1, kMaxOpset, infer_instance_norm);
INFERD_SCHEMA("LayerNormalization", 17, kMaxOpset, infer_layer_norm);

}  // namespace inferd
