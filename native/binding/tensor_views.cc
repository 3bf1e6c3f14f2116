#include "tensor_views.h"

#include <cmath>

#include "inferd/error.h"

namespace inferd::binding {
namespace {

// Beyond 2^53 a JavaScript number no longer holds every integer, so no dimension can be larger.
constexpr double kMaxSafeInteger = 9007199254740991.0;

// "a Float32Array", "an Int32Array"
std::string with_article(const char* class_name) {
  const bool vowel = class_name[0] == 'A' || class_name[0] == 'E' || class_name[0] == 'I' || class_name[0] == 'O';
  return std::string(vowel ? "an " : "a ") + class_name;
}

std::string dims_to_string(const int64_t* dims, int rank) {
  return shape_to_string(Shape(dims, dims + rank));
}

}  // namespace

const char* dtype_js_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::i8: return "int8";
    case DType::i16: return "int16";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::u8: return "uint8";
    case DType::u16: return "uint16";
    case DType::u32: return "uint32";
    case DType::u64: return "uint64";
    case DType::boolean: return "bool";
    case DType::string: return "string";
    default: return "undefined";
  }
}

napi_typedarray_type typed_array_type_for(DType dtype, const TensorInfo& info, const char* role) {
  switch (dtype) {
    case DType::f32: return napi_float32_array;
    case DType::f64: return napi_float64_array;
    case DType::i8: return napi_int8_array;
    case DType::u8: case DType::boolean: return napi_uint8_array;
    case DType::i16: return napi_int16_array;
    case DType::u16: case DType::f16: case DType::bf16: return napi_uint16_array;
    case DType::i32: return napi_int32_array;
    case DType::u32: return napi_uint32_array;
    case DType::i64: return napi_bigint64_array;
    case DType::u64: return napi_biguint64_array;
    default:
      fail(ErrorKind::unsupported, role, " '", info.name, "' has dtype ", dtype_js_name(dtype),
           ", which no JavaScript typed array can carry");
  }
}

const char* typed_array_class_name(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";  // e.g. Float16Array, which newer runtimes add
  }
}

int append_dims(Napi::Value value, const TensorInfo& info, const char* role, std::vector<int64_t>& dims) {
  if (!value.IsArray()) {
    fail(ErrorKind::invalid_argument, "the dims of ", role, " '", info.name, "' must be an array of numbers");
  }
  const Napi::Array array = value.As<Napi::Array>();
  const uint32_t rank = array.Length();
  for (uint32_t d = 0; d < rank; ++d) {
    const Napi::Value element = array.Get(d);
    if (!element.IsNumber()) {
      fail(ErrorKind::invalid_argument, role, " '", info.name, "' dimension ", d, " must be a number, got a ",
           element.IsBigInt() ? "bigint" : element.IsString() ? "string" : "non-number");
    }
    const double dim = element.As<Napi::Number>().DoubleValue();
    if (!(dim >= 0) || dim > kMaxSafeInteger || std::floor(dim) != dim) {
      fail(ErrorKind::out_of_range, role, " '", info.name, "' dimension ", d, " is ", dim,
           "; dimensions are non-negative integers");
    }
    dims.push_back(static_cast<int64_t>(dim));
  }
  return static_cast<int>(rank);
}

TensorRef tensor_ref_for(Napi::Value value, const TensorInfo& info, const char* role, const int64_t* dims, int rank) {
  const napi_typedarray_type expected = typed_array_type_for(info.dtype, info, role);
  if (!value.IsTypedArray()) {
    fail(ErrorKind::invalid_argument, role, " '", info.name, "' has dtype ", dtype_js_name(info.dtype),
         " and must be ", with_article(typed_array_class_name(expected)), ", got ",
         value.IsArray() ? "an Array" : value.IsBuffer() ? "a Buffer" : "a non-typed-array value");
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;  // N-API already adds the view's byteOffset
  napi_value arraybuffer;
  size_t byte_offset = 0;
  NAPI_THROW_IF_FAILED(value.Env(), napi_get_typedarray_info(value.Env(), value, &type, &length, &data,
                                                             &arraybuffer, &byte_offset),
                       TensorRef());
  if (type != expected) {
    fail(ErrorKind::invalid_argument, role, " '", info.name, "' has dtype ", dtype_js_name(info.dtype),
         " and must be ", with_article(typed_array_class_name(expected)), ", got ", with_article(typed_array_class_name(type)));
  }

  // The exact element count, or -1 when it would overflow (then it surely exceeds the array).
  int64_t elements = 1;
  bool has_zero = false;
  for (int d = 0; d < rank; ++d) has_zero |= dims[d] == 0;
  for (int d = 0; d < rank && !has_zero; ++d) {
    if (elements > (int64_t{1} << 62) / dims[d]) {
      elements = -1;
      break;
    }
    elements *= dims[d];
  }
  if (has_zero) elements = 0;
  if (elements != static_cast<int64_t>(length)) {
    fail(ErrorKind::out_of_range, role, " '", info.name, "' of shape ", dims_to_string(dims, rank), " needs ",
         elements < 0 ? "more than " + std::to_string(length) : std::to_string(elements), " elements, got ",
         with_article(typed_array_class_name(type)), " of ", length);
  }

  TensorRef ref;
  ref.dtype = info.dtype;
  ref.dims = dims;
  ref.rank = rank;
  ref.data = data;
  ref.byte_length = length * dtype_size(info.dtype);
  return ref;
}

Napi::Value allocate_typed_array(Napi::Env env, const TensorInfo& info, int64_t elements) {
  const napi_typedarray_type type = typed_array_type_for(info.dtype, info, "output");
  const size_t bytes = static_cast<size_t>(elements) * dtype_size(info.dtype);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  napi_value array;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, type, static_cast<size_t>(elements), buffer, 0, &array),
                       Napi::Value());
  return Napi::Value(env, array);
}

}  // namespace inferd::binding
