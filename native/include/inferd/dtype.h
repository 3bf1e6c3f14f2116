// Element types of tensors, numbered as ONNX's TensorProto.DataType so that a value read from a model
// file converts with a range check and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace inferd {

enum class DType : int32_t {
  undefined = 0,
  f32 = 1,
  u8 = 2,
  i8 = 3,
  u16 = 4,
  i16 = 5,
  i32 = 6,
  i64 = 7,
  string = 8,  // recognised so that errors can name it; no kernel computes on strings
  boolean = 9,
  f16 = 10,
  f64 = 11,
  u32 = 12,
  u64 = 13,
  bf16 = 16,
};

// Bytes per element; 0 for types the engine does not store (string, undefined, exotic ONNX types).
size_t dtype_size(DType t);

// The ONNX spelling ("float", "int64", "bool"…), used in every error message about types.
const char* dtype_name(DType t);

// True when `onnx_type` is a TensorProto.DataType value the engine can hold in memory.
bool dtype_is_supported(int32_t onnx_type);

// IEEE half and bfloat16 conversions (round to nearest even), used by Cast and by loaders.
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t b);
uint16_t float_to_bf16(float f);

// `value` converted to `t` as C++ converts it, returned as that element's bits in the low bytes
// (e.g. Pad's constant or Resize's extrapolation value, written into tensors of any type).
uint64_t element_bits(DType t, double value);

// Maps a C++ element type to its DType at compile time: dtype_of<float> == DType::f32.
template <typename T> struct dtype_of_t;
template <> struct dtype_of_t<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of_t<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of_t<int8_t> { static constexpr DType value = DType::i8; };
template <> struct dtype_of_t<int16_t> { static constexpr DType value = DType::i16; };
template <> struct dtype_of_t<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of_t<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of_t<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of_t<uint16_t> { static constexpr DType value = DType::u16; };
template <> struct dtype_of_t<uint32_t> { static constexpr DType value = DType::u32; };
template <> struct dtype_of_t<uint64_t> { static constexpr DType value = DType::u64; };
template <> struct dtype_of_t<bool> { static constexpr DType value = DType::boolean; };
template <typename T> inline constexpr DType dtype_of = dtype_of_t<T>::value;

}  // namespace inferd
