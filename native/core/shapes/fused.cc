// Shapes of the internal ops the load-time optimizer emits (domain com.inferd; contracts in
// core/optimizer/fused_ops.h), and of Dropout, which that optimizer removes but a model loaded without
// optimizations still runs.
//
// The fused products check what the op they stand for checks (its own schema, looked up and called)
// plus their bias, residual and activation. Gelu, LayerNormalization and HardSwish of com.inferd are
// the ai.onnx schemas of opsets 20, 17 and 14 made available to models of older opsets.
#include <algorithm>
#include <vector>

#include "core/op_schema.h"
#include "core/optimizer/fused_ops.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

// The ai.onnx schema an internal op stands for; Error(unsupported) when this build lacks it.
const OpSchema& onnx_schema(const ShapeContext& ctx, const char* op_type, int opset) {
  const OpSchema* schema = SchemaRegistry::instance().find("", op_type, opset);
  if (!schema)
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": needs ai.onnx ", op_type, " (opset ", opset,
                 "), which this build does not have");
  return *schema;
}

// Validates the activation attributes, naming the node.
void check_activation(const ShapeContext& ctx) { (void)read_activation(ctx.node()); }

// The product's output: the ai.onnx schema `op_type` at `opset` run on the node's first `count`
// inputs (the fused op's later inputs are its own).
void infer_product(ShapeContext& ctx, const char* op_type, int opset, size_t count, DType* dtype, Shape* shape) {
  DType dtypes[3] = {};
  const Shape* shapes[3] = {};
  const Tensor* values[3] = {};
  for (size_t i = 0; i < count; ++i) {
    dtypes[i] = ctx.has_input(i) ? ctx.dtype(i) : DType::undefined;
    shapes[i] = ctx.has_input(i) ? &ctx.shape(i) : nullptr;
    values[i] = ctx.value(i);
  }
  Tensor value;
  ShapeContext product(ctx.node(), ctx.opset(), dtypes, shapes, values, count, dtype, shape, &value, 1);
  onnx_schema(ctx, op_type, opset).infer(product);
}

// The output: the product's shape broadcast with the residual's (input 3, when present), as the Add
// the residual came from would broadcast them.
void set_product_output(ShapeContext& ctx, DType dtype, Shape product) {
  if (ctx.has_input(3)) {
    ctx.expect_same_dtype(0, 3);
    Shape out;
    if (!broadcast_shapes(product, ctx.shape(3), &out))
      ctx.fail("input residual of shape ", shape_to_string(ctx.shape(3)), " does not broadcast with the product's ",
               shape_to_string(product));
    product = std::move(out);
  }
  ctx.set_output(0, dtype, std::move(product));
}

// Gemm (opset 11: C optional) followed by a residual and an activation; float only (the packed SGEMM).
void infer_fused_gemm(ShapeContext& ctx) {
  ctx.expect_inputs(2, 4);
  DType dtype = DType::undefined;
  Shape shape;
  infer_product(ctx, "Gemm", 11, 3, &dtype, &shape);
  ctx.expect_dtype(0, {DType::f32});
  set_product_output(ctx, dtype, std::move(shape));
  check_activation(ctx);
}

// MatMul with a 2-D B [K, N], plus a bias of shape [N] or [1] (or a one-element scalar), plus a
// residual, then an activation.
void infer_fused_matmul(ShapeContext& ctx) {
  ctx.expect_inputs(2, 4);
  if (ctx.rank(1) != 2) ctx.fail("input B must be 2-D, got shape ", shape_to_string(ctx.shape(1)));
  // MatMul's own checks and output, on the first two inputs (it takes no third).
  DType dtype = DType::undefined;
  Shape shape;
  infer_product(ctx, "MatMul", 13, 2, &dtype, &shape);
  ctx.expect_dtype(0, {DType::f32});
  if (ctx.has_input(2)) {
    ctx.expect_same_dtype(0, 2);
    const Shape& bias = ctx.shape(2);
    const int64_t N = ctx.shape(1)[1];
    if (bias.size() > 1 || (shape_size(bias) != N && shape_size(bias) != 1))
      ctx.fail("input bias of shape ", shape_to_string(bias), " must be [", N, "] (B's columns) or [1]");
  }
  set_product_output(ctx, dtype, std::move(shape));
  check_activation(ctx);
}

// Conv on X, W, B, then Z (when given) of exactly Y's shape — the optimizer absorbs an Add only
// when it has proved that, so a Z of any other shape is a model error, not a broadcast — and an
// activation.
void infer_fused_conv(ShapeContext& ctx) {
  ctx.expect_inputs(2, 4);
  const size_t conv_inputs = std::min<size_t>(ctx.input_count(), 3);
  std::vector<DType> dtypes;
  std::vector<const Shape*> shapes;
  std::vector<const Tensor*> values;
  for (size_t i = 0; i < conv_inputs; ++i) {
    dtypes.push_back(ctx.has_input(i) ? ctx.dtype(i) : DType::undefined);
    shapes.push_back(ctx.has_input(i) ? &ctx.shape(i) : nullptr);
    values.push_back(ctx.value(i));
  }
  DType out_dtype = DType::undefined;
  Shape out_shape;
  Tensor out_value;
  ShapeContext conv(ctx.node(), ctx.opset(), dtypes.data(), shapes.data(), values.data(), conv_inputs, &out_dtype,
                    &out_shape, &out_value, 1);
  onnx_schema(ctx, "Conv", 11).infer(conv);
  if (ctx.has_input(3)) {
    ctx.expect_same_dtype(0, 3);
    if (ctx.shape(3) != out_shape)
      ctx.fail("input Z of shape ", shape_to_string(ctx.shape(3)), " must have the output's shape ",
               shape_to_string(out_shape));
  }
  ctx.set_output(0, out_dtype, std::move(out_shape));
  check_activation(ctx);
}

void infer_gelu(ShapeContext& ctx) { onnx_schema(ctx, "Gelu", 20).infer(ctx); }
void infer_layer_norm(ShapeContext& ctx) { onnx_schema(ctx, "LayerNormalization", 17).infer(ctx); }
void infer_hard_swish(ShapeContext& ctx) { onnx_schema(ctx, "HardSwish", 14).infer(ctx); }

// Dropout(data, ratio?, training_mode?) → (output, mask?): output is data's type and shape, mask its
// shape as `mask_dtype` (data's own type before opset 10, bool from 10).
void infer_dropout(ShapeContext& ctx, bool optional_inputs, bool bool_mask) {
  ctx.expect_inputs(1, optional_inputs ? 3 : 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::f16, DType::bf16});
  if (ctx.has_input(1)) {
    ctx.expect_dtype(1, {DType::f32, DType::f64, DType::f16, DType::bf16});
    if (shape_size(ctx.shape(1)) != 1 || ctx.rank(1) > 1)
      ctx.fail("input 'ratio' must be a scalar, got shape ", shape_to_string(ctx.shape(1)));
  }
  if (ctx.has_input(2)) {
    ctx.expect_dtype(2, {DType::boolean});
    if (shape_size(ctx.shape(2)) != 1 || ctx.rank(2) > 1)
      ctx.fail("input 'training_mode' must be a scalar, got shape ", shape_to_string(ctx.shape(2)));
  }
  if (!optional_inputs) {
    const float ratio = ctx.attributes().get_float("ratio", 0.5f);
    if (ratio < 0 || ratio >= 1) ctx.fail("attribute 'ratio' must be in [0, 1), got ", ratio);
  }
  ctx.set_output(0, ctx.dtype(0), ctx.shape(0));
  if (ctx.output_count() > 1) ctx.set_output(1, bool_mask ? DType::boolean : ctx.dtype(0), ctx.shape(0));
}

void infer_dropout_1(ShapeContext& ctx) { infer_dropout(ctx, false, false); }
void infer_dropout_10(ShapeContext& ctx) { infer_dropout(ctx, false, true); }
void infer_dropout_12(ShapeContext& ctx) { infer_dropout(ctx, true, true); }

#define INFERD_INTERNAL_SCHEMA(op_type, fn)                                            \
  static const ::inferd::SchemaRegistrar INFERD_CONCAT(schema_registrar_, __LINE__)( \
      ::inferd::OpSchema{kInternalDomain, op_type, 1, kMaxOpset, fn})

}  // namespace

INFERD_INTERNAL_SCHEMA("FusedGemm", infer_fused_gemm);
INFERD_INTERNAL_SCHEMA("FusedMatMul", infer_fused_matmul);
INFERD_INTERNAL_SCHEMA("FusedConv", infer_fused_conv);
INFERD_INTERNAL_SCHEMA("Gelu", infer_gelu);
INFERD_INTERNAL_SCHEMA("LayerNormalization", infer_layer_norm);
INFERD_INTERNAL_SCHEMA("HardSwish", infer_hard_swish);

// 1–9: mask of data's type (1 and 6 also carry is_test, which inference ignores); 10: bool mask;
// 12: ratio and training_mode become inputs.
INFERD_SCHEMA("Dropout", 1, 9, infer_dropout_1);
INFERD_SCHEMA("Dropout", 10, 11, infer_dropout_10);
INFERD_SCHEMA("Dropout", 12, kMaxOpset, infer_dropout_12);

}  // namespace inferd
