// Shapes of the activations Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Clip, HardSigmoid, HardSwish, Elu,
// Selu and Softplus: the output has the input's type and shape. Clip takes its bounds as attributes before opset 11 and as optional
// scalar inputs from opset 11.
#include <string>

#include "core/op_schema.h"

namespace inferd {
namespace {

void infer_float_activation(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64});
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

// Relu-14 added the signed integer types.
void infer_relu(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i8, DType::i16, DType::i32, DType::i64});
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

void infer_leaky_relu(ShapeContext& ctx) {
  ctx.attributes().get_float("alpha", 0.01f);  // throws naming the attribute when it is not a float
  infer_float_activation(ctx);
}

// The float attributes are read once here so that a wrongly typed one fails at plan time, naming it.
void infer_hard_sigmoid(ShapeContext& ctx) {
  ctx.attributes().get_float("alpha", 0.2f);
  ctx.attributes().get_float("beta", 0.5f);
  infer_float_activation(ctx);
}

void infer_elu(ShapeContext& ctx) {
  ctx.attributes().get_float("alpha", 1.0f);
  infer_float_activation(ctx);
}

void infer_selu(ShapeContext& ctx) {
  ctx.attributes().get_float("alpha", 1.0f);
  ctx.attributes().get_float("gamma", 1.0f);
  infer_float_activation(ctx);
}

void infer_gelu(ShapeContext& ctx) {
  const std::string approximate = ctx.attributes().get_string("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    ctx.fail("attribute 'approximate' must be \"none\" or \"tanh\", got \"", approximate, "\"");
  infer_float_activation(ctx);
}

void infer_clip_attributes(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64});
  ctx.attributes().get_float("min", 0.0f);  // throws naming the attribute when it is not a float
  ctx.attributes().get_float("max", 0.0f);
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

void infer_clip(ShapeContext& ctx) {
  ctx.expect_inputs(1, 3);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i8, DType::i16, DType::i32, DType::i64, DType::u8,
                       DType::u16, DType::u32, DType::u64});
  static const char* const kBound[] = {nullptr, "min", "max"};
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    if (ctx.dtype(i) != ctx.dtype(0))
      ctx.fail("input '", kBound[i], "' has type ", dtype_name(ctx.dtype(i)), ", expected ",
               dtype_name(ctx.dtype(0)), " like the input");
    // The spec asks for a scalar; a one-element tensor (shape [1]) means the same and is common.
    if (shape_size(ctx.shape(i)) != 1)
      ctx.fail("input '", kBound[i], "' must be a scalar, got shape ", shape_to_string(ctx.shape(i)));
  }
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
}

}  // namespace

INFERD_SCHEMA("Relu", 1, kMaxOpset, infer_relu);
INFERD_SCHEMA("LeakyRelu", 1, kMaxOpset, infer_leaky_relu);
INFERD_SCHEMA("Sigmoid", 1, kMaxOpset, infer_float_activation);
INFERD_SCHEMA("Tanh", 1, kMaxOpset, infer_float_activation);
INFERD_SCHEMA("Gelu", 20, kMaxOpset, infer_gelu);
INFERD_SCHEMA("Clip", 1, 10, infer_clip_attributes);
INFERD_SCHEMA("Clip", 11, kMaxOpset, infer_clip);
INFERD_SCHEMA("HardSigmoid", 1, kMaxOpset, infer_hard_sigmoid);
INFERD_SCHEMA("HardSwish", 14, kMaxOpset, infer_float_activation);
INFERD_SCHEMA("Elu", 1, kMaxOpset, infer_elu);
INFERD_SCHEMA("Selu", 1, kMaxOpset, infer_selu);
INFERD_SCHEMA("Softplus", 1, kMaxOpset, infer_float_activation);

}  // namespace inferd
