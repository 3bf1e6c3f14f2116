// Typed arrays ↔ engine tensors. JavaScript has no float16, bfloat16 or bool arrays, so those travel
// as Uint16Array / Uint8Array and the model's declared dtype says how to read the bytes. Nothing here
// copies tensor data: a TensorRef points straight into the typed array's memory.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "inferd/dtype.h"
#include "inferd/model.h"
#include "inferd/tensor.h"

namespace inferd::binding {

// 'float32', 'int64', 'bool'…: how ONNX and the Open Inference Protocol spell dtypes in JSON.
const char* dtype_js_name(DType dtype);

// The typed array class that carries `dtype`. Throws Error(unsupported) for dtypes JavaScript cannot
// carry (string), naming `info`.
napi_typedarray_type typed_array_type_for(DType dtype, const TensorInfo& info, const char* role);

const char* typed_array_class_name(napi_typedarray_type type);

// Appends the dims in `value` (an array of non-negative integers) to `dims` and returns the rank.
// Throws invalid_argument when `value` is not an array of numbers, out_of_range for a negative,
// fractional or huge dimension; both name the `role` ("input"/"output") and the tensor.
int append_dims(Napi::Value value, const TensorInfo& info, const char* role, std::vector<int64_t>& dims);

// A TensorRef over the typed array `value`, which must be of the class that carries info.dtype and
// hold exactly the elements `dims` calls for. Throws invalid_argument for a non-typed-array or a
// typed array of the wrong class, out_of_range for a wrong length.
TensorRef tensor_ref_for(Napi::Value value, const TensorInfo& info, const char* role, const int64_t* dims, int rank);

// A new zero-filled typed array of the class that carries `dtype`, holding `elements` elements.
Napi::Value allocate_typed_array(Napi::Env env, const TensorInfo& info, int64_t elements);

}  // namespace inferd::binding
