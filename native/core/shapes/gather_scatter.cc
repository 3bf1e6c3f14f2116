// Shape functions of the gather/scatter family. Index values are checked by the kernels when they
// read them.
//   Gather:          data.shape[:axis] + indices.shape + data.shape[axis+1:]
//   GatherElements:  indices.shape (same rank as data; no dim larger than data's, but along the axis)
//   ScatterND:       data.shape, with updates.shape == indices.shape[:-1] + data.shape[indices.shape[-1]:]
#include <initializer_list>
#include <string>

#include "core/op_schema.h"
#include "core/shape_util.h"

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

void expect_storable(const ShapeContext& ctx, size_t i) {
  const DType t = ctx.dtype(i);
  if (dtype_size(t) == 0)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input ", i, " has type ", dtype_name(t),
         ", which the engine does not store");
}

void infer_gather_elements(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  expect_storable(ctx, 0);
  ctx.expect_dtype(1, {DType::i32, DType::i64});
  const Shape& data = ctx.shape(0);
  const Shape& indices = ctx.shape(1);
  if (data.empty()) ctx.fail("data (input 0) must have rank >= 1, got a scalar");
  if (data.size() > static_cast<size_t>(kMaxRank))
    fail(ErrorKind::unsupported, ctx.node().label(), ": data of rank ", data.size(), " exceeds the supported rank ",
         kMaxRank);
  if (indices.size() != data.size())
    ctx.fail("indices ", shape_to_string(indices), " must have the rank of data ", shape_to_string(data));
  const size_t axis = static_cast<size_t>(ctx.axis(ctx.attributes().get_int("axis", 0), ctx.rank(0), "attribute 'axis'"));
  for (size_t d = 0; d < data.size(); ++d)
    if (d != axis && indices[d] > data[d])
      ctx.fail("indices ", shape_to_string(indices), " is larger than data ", shape_to_string(data), " along axis ", d);
  ctx.set_output(0, ctx.dtype(0), indices);
}

void scatter_nd(ShapeContext& ctx) {
  ctx.expect_inputs(3, 3);
  expect_storable(ctx, 0);
  ctx.expect_dtype(1, {DType::i64});
  ctx.expect_same_dtype(0, 2);
  const Shape& data = ctx.shape(0);
  const Shape& indices = ctx.shape(1);
  const Shape& updates = ctx.shape(2);
  if (data.empty()) ctx.fail("data (input 0) must have rank >= 1, got a scalar");
  if (indices.empty()) ctx.fail("indices (input 1) must have rank >= 1, got a scalar");
  const int64_t k = indices.back();
  if (k < 1 || k > static_cast<int64_t>(data.size()))
    ctx.fail("the last dim of indices ", shape_to_string(indices), " must be in [1, ", data.size(), "] for data ",
             shape_to_string(data));
  Shape expected(indices.begin(), indices.end() - 1);
  expected.insert(expected.end(), data.begin() + k, data.end());
  if (updates != expected)
    ctx.fail("updates ", shape_to_string(updates), " must have shape ", shape_to_string(expected), " for data ",
             shape_to_string(data), " and indices ", shape_to_string(indices));
  ctx.set_output(0, ctx.dtype(0), data);
}

bool is_numeric(DType t) { return t != DType::boolean && t != DType::f16 && t != DType::bf16 && dtype_size(t) != 0; }

void check_reduction(ShapeContext& ctx, std::initializer_list<const char*> allowed) {
  const std::string reduction = ctx.attributes().get_string("reduction", "none");
  bool known = false;
  for (const char* a : allowed) known = known || reduction == a;
  if (!known) {
    std::string list;
    for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
    ctx.fail("attribute 'reduction' is '", reduction, "'; expected one of ", list);
  }
  if (reduction != "none" && !is_numeric(ctx.dtype(0)))
    fail(ErrorKind::unsupported, ctx.node().label(), ": reduction '", reduction, "' on type ",
         dtype_name(ctx.dtype(0)), " is not supported");
}

void infer_scatter_nd_11(ShapeContext& ctx) {  // no 'reduction' before opset 16
  scatter_nd(ctx);
  check_reduction(ctx, {"none"});
}

void infer_scatter_nd_16(ShapeContext& ctx) {
  scatter_nd(ctx);
  check_reduction(ctx, {"none", "add", "mul"});
}

void infer_scatter_nd_18(ShapeContext& ctx) {
  scatter_nd(ctx);
  check_reduction(ctx, {"none", "add", "mul", "max", "min"});
}

}  // namespace

// Opset 11 defined negative indices (counting from the end); they are read that way at every opset.
INFERD_SCHEMA("Gather", 1, kMaxOpset, infer_gather);
INFERD_SCHEMA("GatherElements", 11, kMaxOpset, infer_gather_elements);
INFERD_SCHEMA("ScatterND", 11, 15, infer_scatter_nd_11);
INFERD_SCHEMA("ScatterND", 16, 17, infer_scatter_nd_16);
INFERD_SCHEMA("ScatterND", 18, kMaxOpset, infer_scatter_nd_18);

}  // namespace inferd
