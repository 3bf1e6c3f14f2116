// Shapes of the recurrent layers LSTM and GRU (one layer, one or two directions). With G gates (LSTM
// 4: i, o, f, c; GRU 3: z, r, h), D directions (2 when bidirectional) and H = hidden_size:
//   X [S, N, I]       W [D, G·H, I]      R [D, G·H, H]      B [D, 2·G·H] (W biases, then R biases)
//   sequence_lens [N] (int32)            initial_h, initial_c [D, N, H]      P [D, 3·H] (LSTM: i, o, f)
//   Y [S, D, N, H]    Y_h, Y_c [D, N, H]
// With layout = 1 (from opset 14) the batch comes first: X [N, S, I], Y [N, S, D, H], and initial_h,
// initial_c, Y_h, Y_c [N, D, H]. Opset 1 differs only in an `output_sequence` attribute (Y is
// produced whenever it is wired); GRU opset 3 adds linear_before_reset; 22 only adds types.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

enum class Cell { lstm, gru };

// The activation functions the spec lists, compared case-insensitively (as onnxruntime does).
bool is_activation(const std::string& name) {
  static const char* const kNames[] = {"sigmoid", "tanh", "relu", "affine", "leakyrelu", "thresholdedrelu",
                                       "scaledtanh", "hardsigmoid", "elu", "softsign", "softplus"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* known : kNames)
    if (lower == known) return true;
  return false;
}

void check_shape(const ShapeContext& ctx, size_t input, const char* name, const Shape& expected) {
  if (ctx.shape(input) != expected)
    ctx.fail("input ", name, " has shape ", shape_to_string(ctx.shape(input)), "; expected ", shape_to_string(expected));
}

void infer_rnn(ShapeContext& ctx, Cell cell, bool has_layout, bool has_linear_before_reset) {
  const bool lstm = cell == Cell::lstm;
  const int64_t gates = lstm ? 4 : 3;
  const int64_t functions = lstm ? 3 : 2;  // activations per direction: f, g (and h)
  ctx.expect_inputs(3, lstm ? 8 : 6);
  ctx.expect_dtype(0, {DType::f32});
  ctx.expect_same_dtype(0, 1);
  ctx.expect_same_dtype(0, 2);
  const Attributes& attrs = ctx.attributes();

  const std::string direction = attrs.get_string("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    ctx.fail("attribute 'direction' is '", direction, "'; expected forward, reverse or bidirectional");
  const int64_t D = direction == "bidirectional" ? 2 : 1;

  int64_t layout = 0;
  if (has_layout) {
    layout = attrs.get_int("layout", 0);
    if (layout != 0 && layout != 1) ctx.fail("attribute 'layout' is ", layout, "; expected 0 or 1");
  } else if (attrs.has("layout")) {
    ctx.fail("attribute 'layout' exists from opset 14 (the model's opset is ", ctx.opset(), ")");
  }
  if (!has_linear_before_reset && attrs.has("linear_before_reset"))
    ctx.fail("attribute 'linear_before_reset' exists from opset 3 (the model's opset is ", ctx.opset(), ")");
  if (attrs.has("clip")) {
    const float clip = attrs.get_float("clip", 0.0f);
    if (!(clip > 0.0f)) ctx.fail("attribute 'clip' is ", clip, "; expected a positive threshold");
  }
  if (lstm) attrs.get_int("input_forget", 0);            // type checks
  if (has_linear_before_reset) attrs.get_int("linear_before_reset", 0);
  attrs.get_floats("activation_alpha", {});
  attrs.get_floats("activation_beta", {});
  if (const Attribute* a = attrs.find("activations")) {
    if (a->type != Attribute::Type::strings) ctx.fail("attribute 'activations' must be a list of strings");
    if (static_cast<int64_t>(a->strings.size()) != functions * D)
      ctx.fail("attribute 'activations' has ", a->strings.size(), " functions; expected ", functions * D, " (",
               functions, " per direction, ", D, " direction", D == 2 ? "s)" : ")");
    for (const std::string& name : a->strings)
      if (!is_activation(name))
        inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": activation '", name,
                     "' is not one of Sigmoid, Tanh, Relu, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, "
                     "HardSigmoid, Elu, Softsign, Softplus");
  }

  const Shape& x = ctx.shape(0);
  if (x.size() != 3) ctx.fail("input X must be 3-D, got shape ", shape_to_string(x));
  const int64_t S = layout ? x[1] : x[0], N = layout ? x[0] : x[1], I = x[2];
  const Shape& r = ctx.shape(2);
  if (r.size() != 3) ctx.fail("input R must be 3-D, got shape ", shape_to_string(r));
  // hidden_size may be left out: R's last dim says it.
  const int64_t H = attrs.get_int("hidden_size", r[2]);
  if (H <= 0) ctx.fail("attribute 'hidden_size' is ", H, "; expected a positive size");
  check_shape(ctx, 1, "W", {D, gates * H, I});
  check_shape(ctx, 2, "R", {D, gates * H, H});
  if (ctx.has_input(3)) {
    ctx.expect_same_dtype(0, 3);
    check_shape(ctx, 3, "B", {D, 2 * gates * H});
  }
  if (ctx.has_input(4)) {
    ctx.expect_dtype(4, {DType::i32, DType::i64});
    check_shape(ctx, 4, "sequence_lens", {N});
  }
  const Shape state = layout ? Shape{N, D, H} : Shape{D, N, H};
  if (ctx.has_input(5)) {
    ctx.expect_same_dtype(0, 5);
    check_shape(ctx, 5, "initial_h", state);
  }
  if (lstm && ctx.has_input(6)) {
    ctx.expect_same_dtype(0, 6);
    check_shape(ctx, 6, "initial_c", state);
  }
  if (lstm && ctx.has_input(7)) {
    ctx.expect_same_dtype(0, 7);
    check_shape(ctx, 7, "P", {D, 3 * H});
  }

  const DType t = ctx.dtype(0);
  ctx.set_output(0, t, layout ? Shape{N, S, D, H} : Shape{S, D, N, H});
  ctx.set_output(1, t, state);
  if (lstm) ctx.set_output(2, t, state);
}

void infer_lstm_1(ShapeContext& ctx) { infer_rnn(ctx, Cell::lstm, false, false); }
void infer_lstm_14(ShapeContext& ctx) { infer_rnn(ctx, Cell::lstm, true, false); }
void infer_gru_1(ShapeContext& ctx) { infer_rnn(ctx, Cell::gru, false, false); }
void infer_gru_3(ShapeContext& ctx) { infer_rnn(ctx, Cell::gru, false, true); }
void infer_gru_14(ShapeContext& ctx) { infer_rnn(ctx, Cell::gru, true, true); }

}  // namespace

// Opsets 7 and 22 changed only attributes the engine ignores (output_sequence) or types it does not
// hold (bfloat16), so one schema serves each side of the layout attribute.
INFERD_SCHEMA("LSTM", 1, 13, infer_lstm_1);
INFERD_SCHEMA("LSTM", 14, kMaxOpset, infer_lstm_14);
INFERD_SCHEMA("GRU", 1, 2, infer_gru_1);
INFERD_SCHEMA("GRU", 3, 13, infer_gru_3);
INFERD_SCHEMA("GRU", 14, kMaxOpset, infer_gru_14);

}  // namespace inferd
