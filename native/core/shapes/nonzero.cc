// Shape of NonZero: int64 indices of the non-zero elements, one row per input dimension and one
// column per element found. How many there are is known only from the data: the first data-dependent
// op, sized by its kernel when it runs.
#include "core/op_schema.h"

namespace inferd {
namespace {

void infer_non_zero(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_dtype(0, {DType::f32, DType::f64, DType::f16, DType::i8, DType::i16, DType::i32, DType::i64, DType::u8,
                       DType::u16, DType::u32, DType::u64, DType::boolean});
  ctx.set_output_data_dependent(0, DType::i64, Shape{ctx.rank(0), -1});
}

}  // namespace

INFERD_SCHEMA("NonZero", 9, 12, infer_non_zero);
INFERD_SCHEMA("NonZero", 13, kMaxOpset, infer_non_zero);

}  // namespace inferd
