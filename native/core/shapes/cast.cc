// Shapes of Cast and CastLike: the input's shape, in the type that Cast's `to` attribute names
// (Cast-1 spells it as a string, "FLOAT"; from Cast-6 it is a TensorProto.DataType number) or that
// CastLike's second input has. Types the engine does not hold (string, complex, float8, 4- and 2-bit
// types) are rejected here, naming the type.
#include <cctype>
#include <string>

#include "core/op_schema.h"

namespace inferd {
namespace {

// Spellings of the TensorProto.DataType numbers that DType does not have, for error messages.
const char* onnx_type_name(int64_t code) {
  switch (code) {
    case 8: return "string";
    case 14: return "complex64";
    case 15: return "complex128";
    case 17: return "float8e4m3fn";
    case 18: return "float8e4m3fnuz";
    case 19: return "float8e5m2";
    case 20: return "float8e5m2fnuz";
    case 21: return "uint4";
    case 22: return "int4";
    case 23: return "float4e2m1";
    case 24: return "float8e8m0";
    case 25: return "uint2";
    case 26: return "int2";
    default: return "unknown";
  }
}

bool castable(DType t) {
  switch (t) {
    case DType::f32: case DType::f64: case DType::f16: case DType::bf16: case DType::boolean:
    case DType::i8: case DType::i16: case DType::i32: case DType::i64:
    case DType::u8: case DType::u16: case DType::u32: case DType::u64:
      return true;
    default:
      return false;
  }
}

// Cast-1's `to`: a TensorProto.DataType name ("FLOAT", "INT64"), in any case.
int64_t type_code_from_name(const ShapeContext& ctx, const std::string& name) {
  static const char* const kNames[] = {"UNDEFINED", "FLOAT",  "UINT8",     "INT8",       "UINT16",  "INT16",
                                       "INT32",     "INT64",  "STRING",    "BOOL",       "FLOAT16", "DOUBLE",
                                       "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (int64_t code = 1; code < static_cast<int64_t>(sizeof kNames / sizeof kNames[0]); ++code)
    if (upper == kNames[code]) return code;
  ctx.fail("attribute 'to' names an unknown type \"", name, "\"");
}

void infer_cast(ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const Attribute* to = ctx.attributes().find("to");
  if (!to) ctx.fail("attribute 'to' is required");
  // Cast-1 spells `to` as a string; an int is accepted there too (exporters of the time differ).
  const int64_t code = to->type == Attribute::Type::s ? type_code_from_name(ctx, to->s)
                                                       : ctx.attributes().require_int("to");
  const bool in_enum = code >= 0 && code <= 64;
  const DType target = static_cast<DType>(code);
  if (!in_enum || !castable(target)) {
    fail(ErrorKind::unsupported, ctx.node().label(), ": attribute 'to' is ",
         in_enum && dtype_size(target) ? dtype_name(target) : onnx_type_name(code), " (", code,
         "); Cast supports float, double, float16, bfloat16, bool and the 8- to 64-bit integer types");
  }
  if (!castable(ctx.dtype(0)))
    fail(ErrorKind::unsupported, ctx.node().label(), ": input 0 has type ", dtype_name(ctx.dtype(0)),
         ", which Cast does not convert from");
  ctx.set_output(0, target, ctx.shape(0));
}

// CastLike: the type of input 1 (whose values are not read) in place of `to`.
void infer_cast_like(ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  for (size_t i = 0; i < 2; ++i)
    if (!castable(ctx.dtype(i)))
      fail(ErrorKind::unsupported, ctx.node().label(), ": input ", i, " has type ", dtype_name(ctx.dtype(i)),
           ", which CastLike does not convert ", i == 0 ? "from" : "to");
  ctx.set_output(0, ctx.dtype(1), ctx.shape(0));
}

}  // namespace

// One function for both: it reads `to` in either spelling. `saturate` (Cast-19) only concerns float8.
INFERD_SCHEMA("Cast", 1, 5, infer_cast);
INFERD_SCHEMA("Cast", 6, kMaxOpset, infer_cast);
INFERD_SCHEMA("CastLike", 15, kMaxOpset, infer_cast_like);

}  // namespace inferd
