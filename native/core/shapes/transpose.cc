// Shape function of Transpose: output dim i is input dim perm[i]; without perm the dims reverse.
#include <string>
#include <vector>

#include "core/op_schema.h"
#include "core/shape_util.h"

namespace inferd {
namespace {

void infer_transpose(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const DType t = ctx.dtype(0);
  if (dtype_size(t) == 0)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input 0 has type ", dtype_name(t),
         ", which the engine does not store");
  const Shape& in = ctx.shape(0);
  const int rank = ctx.rank(0);
  // The CPU kernel walks indices in stack arrays of kMaxRank.
  if (rank > kMaxRank)
    fail(ErrorKind::unsupported, ctx.node().label(), ": input rank ", rank, " exceeds the supported ", kMaxRank);

  std::vector<int64_t> perm = ctx.attributes().get_ints("perm", {});
  if (perm.empty())
    for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
  if (perm.size() != in.size())
    ctx.fail("attribute 'perm' ", shape_to_string(perm), " has ", perm.size(), " entries but the input shape ",
             shape_to_string(in), " has rank ", rank);

  std::vector<bool> seen(in.size(), false);
  Shape out(in.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    const int64_t p = perm[i];
    if (p < 0 || p >= rank || seen[static_cast<size_t>(p)])
      ctx.fail("attribute 'perm' ", shape_to_string(perm), " is not a permutation of 0..", rank - 1,
               " (entry ", i, " is ", p, ")");
    seen[static_cast<size_t>(p)] = true;
    out[i] = in[static_cast<size_t>(p)];
  }
  ctx.set_output(0, t, std::move(out));
}

}  // namespace

INFERD_SCHEMA("Transpose", 1, kMaxOpset, infer_transpose);

}  // namespace inferd
