// Shapes of If and Loop. Both run subgraphs: If one of two branches, Loop its body until a trip count
// or a condition stops it. Their outputs' sizes are known only once that has run (which branch, how
// many iterations), so both are data-dependent ops; types come from the subgraphs' declared outputs
// when they declare them, else from the run (and a Loop's carried values keep the types they start
// with).
#include "core/op_schema.h"

namespace inferd {
namespace {

const Graph& subgraph(ShapeContext& ctx, const char* name) {
  const Attribute* a = ctx.attributes().find(name);
  if (!a || !a->g) ctx.fail("attribute '", name, "' (a graph) is required");
  return *a->g;
}

DType declared_output_type(const Graph& graph, size_t i) {
  return i < graph.outputs.size() ? graph.value(graph.outputs[i]).dtype : DType::undefined;
}

void infer_if(ShapeContext& ctx) {
  const Node& node = ctx.node();
  if (node.inputs.size() != 1 + node.implicit_inputs) ctx.fail("takes one input, 'cond'");
  ctx.expect_dtype(0, {DType::boolean});
  const Graph& then_branch = subgraph(ctx, "then_branch");
  const Graph& else_branch = subgraph(ctx, "else_branch");
  if (then_branch.outputs.size() != node.outputs.size() || else_branch.outputs.size() != node.outputs.size())
    ctx.fail("has ", node.outputs.size(), " outputs, but then_branch gives ", then_branch.outputs.size(),
             " and else_branch ", else_branch.outputs.size());
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    const DType a = declared_output_type(then_branch, i), b = declared_output_type(else_branch, i);
    if (a != DType::undefined && b != DType::undefined && a != b)
      ctx.fail("output ", i, " is ", dtype_name(a), " in then_branch but ", dtype_name(b), " in else_branch");
    ctx.set_output_data_dependent(i, a != DType::undefined ? a : b);
  }
}

void infer_loop(ShapeContext& ctx) {
  const Node& node = ctx.node();
  const Graph& body = subgraph(ctx, "body");
  if (node.inputs.size() < 2 + node.implicit_inputs) ctx.fail("takes inputs 'M' and 'cond' (each may be empty)");
  const size_t carried = node.inputs.size() - 2 - node.implicit_inputs;
  if (body.inputs.size() != 2 + carried)
    ctx.fail("the body takes ", body.inputs.size(), " inputs; it must take 2 + ", carried,
             " (iteration number, condition, and one per loop-carried value)");
  if (body.outputs.size() < 1 + carried)
    ctx.fail("the body gives ", body.outputs.size(), " outputs; it must give at least 1 + ", carried,
             " (condition, and one per loop-carried value)");
  const size_t scans = body.outputs.size() - 1 - carried;
  if (node.outputs.size() != carried + scans)
    ctx.fail("has ", node.outputs.size(), " outputs; its body makes ", carried, " loop-carried and ", scans,
             " scan outputs");
  if (ctx.has_input(0)) {
    ctx.expect_dtype(0, {DType::i64});
    if (ctx.shape(0).size() > 1 || shape_size(ctx.shape(0)) != 1) ctx.fail("input 'M' must hold one element");
  }
  if (ctx.has_input(1)) {
    ctx.expect_dtype(1, {DType::boolean});
    if (ctx.shape(1).size() > 1 || shape_size(ctx.shape(1)) != 1) ctx.fail("input 'cond' must hold one element");
  }
  for (size_t k = 0; k < carried; ++k) {
    if (!ctx.has_input(2 + k)) ctx.fail("loop-carried input ", k, " is missing");
    ctx.set_output_data_dependent(k, ctx.dtype(2 + k));
  }
  for (size_t s = 0; s < scans; ++s) ctx.set_output_data_dependent(carried + s, declared_output_type(body, 1 + carried + s));
}

}  // namespace

INFERD_SCHEMA("If", 1, kMaxOpset, infer_if);
INFERD_SCHEMA("Loop", 1, kMaxOpset, infer_loop);

}  // namespace inferd
