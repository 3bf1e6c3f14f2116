// Shape rules shared by the op families that broadcast (arithmetic, comparison, logic, variadic);
// defined in shapes/elementwise.cc.
#pragma once

#include <cstddef>

#include "core/op_schema.h"

namespace inferd {

// The numpy broadcast of the shapes of inputs [first, first + count); fails naming them when they do
// not broadcast, and as unsupported when the result's rank exceeds kMaxRank.
Shape broadcast_input_shapes(const ShapeContext& ctx, size_t first, size_t count);

// Opsets before 7: checks the `broadcast`/`axis` attributes' rule for the second operand.
void check_legacy_broadcast(const ShapeContext& ctx);

}  // namespace inferd
