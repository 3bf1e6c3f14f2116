// Shapes of the matrix products. Gemm: Y[M×N] = alpha·op(A)·op(B) + beta·C with 2-D A and B and C
// broadcast to [M, N]. MatMul: numpy.matmul, where a 1-D operand is promoted to a matrix (A to a row,
// B to a column) and the added dimension dropped from the result, and the leading (batch)
// dimensions broadcast against each other.
#include <algorithm>
#include <cstddef>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void infer_gemm(ShapeContext& ctx, bool c_optional) {
  ctx.expect_inputs(c_optional ? 2 : 3, 3);
  ctx.expect_dtype(0, {DType::f32, DType::f64});
  ctx.expect_same_dtype(0, 1);
  const Attributes& attrs = ctx.attributes();
  const bool trans_a = attrs.get_int("transA", 0) != 0;
  const bool trans_b = attrs.get_int("transB", 0) != 0;
  const Shape& a = ctx.shape(0);
  const Shape& b = ctx.shape(1);
  if (a.size() != 2) ctx.fail("input A must be 2-D, got shape ", shape_to_string(a));
  if (b.size() != 2) ctx.fail("input B must be 2-D, got shape ", shape_to_string(b));
  const int64_t M = trans_a ? a[1] : a[0], K = trans_a ? a[0] : a[1];
  const int64_t K_b = trans_b ? b[1] : b[0], N = trans_b ? b[0] : b[1];
  if (K != K_b)
    ctx.fail("op(A) is ", M, "x", K, " but op(B) is ", K_b, "x", N, " (A ", shape_to_string(a), ", B ",
             shape_to_string(b), ", transA=", trans_a, ", transB=", trans_b, ")");
  // Before opset 7 a `broadcast` attribute said whether C may broadcast; C is accepted here whenever
  // it broadcasts, which is every model those opsets allowed.
  if (ctx.has_input(2)) {
    ctx.expect_same_dtype(0, 2);
    const Shape& c = ctx.shape(2);
    int64_t strides[2];
    if (c.size() > 2 || !broadcast_strides(c, Shape{M, N}, strides))
      ctx.fail("input C of shape ", shape_to_string(c), " does not broadcast to [M, N] = [", M, ", ", N, "]");
  }
  ctx.set_output(0, ctx.dtype(0), {M, N});
}

// C is required up to opset 10 and optional from 11.
void infer_gemm_1(ShapeContext& ctx) { infer_gemm(ctx, false); }
void infer_gemm_11(ShapeContext& ctx) { infer_gemm(ctx, true); }

void infer_matmul(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::i32, DType::i64});
  ctx.expect_same_dtype(0, 1);
  const Shape& a = ctx.shape(0);
  const Shape& b = ctx.shape(1);
  if (a.empty() || b.empty())
    ctx.fail("inputs must have rank >= 1, got ", shape_to_string(a), " and ", shape_to_string(b));
  const int64_t M = a.size() == 1 ? 1 : a[a.size() - 2], K = a.back();
  const int64_t K_b = b.size() == 1 ? b[0] : b[b.size() - 2], N = b.size() == 1 ? 1 : b.back();
  if (K != K_b)
    ctx.fail("A ", shape_to_string(a), " has ", K, " columns but B ", shape_to_string(b), " has ", K_b, " rows");
  const Shape batch_a(a.begin(), a.end() - static_cast<std::ptrdiff_t>(std::min<size_t>(a.size(), 2)));
  const Shape batch_b(b.begin(), b.end() - static_cast<std::ptrdiff_t>(std::min<size_t>(b.size(), 2)));
  Shape out;
  if (!broadcast_shapes(batch_a, batch_b, &out))
    ctx.fail("batch dimensions of A ", shape_to_string(a), " and B ", shape_to_string(b), " do not broadcast");
  if (out.size() + 2 > static_cast<size_t>(kMaxRank))
    inferd::fail(ErrorKind::unsupported, ctx.node().label(), ": inputs of rank ", std::max(a.size(), b.size()),
                 " exceed the supported rank ", kMaxRank);
  if (a.size() > 1) out.push_back(M);
  if (b.size() > 1) out.push_back(N);
  ctx.set_output(0, ctx.dtype(0), std::move(out));
}

}  // namespace

INFERD_SCHEMA("Gemm", 1, 10, infer_gemm_1);
INFERD_SCHEMA("Gemm", 11, kMaxOpset, infer_gemm_11);
// MatMul's semantics never changed: opsets 9 and 13 only added element types.
INFERD_SCHEMA("MatMul", 1, kMaxOpset, infer_matmul);

}  // namespace inferd
