// The ONNX loader: protobuf bytes (ModelProto, TensorProto) → the graph IR of core/graph.h.
//
// Every function here treats its input as untrusted: a malformed, truncated or inconsistent file is
// an Error(invalid_model) naming what is wrong and where (a byte offset, a node, a tensor); valid ONNX
// that uses something the engine cannot hold (string or float8 tensors, sequence inputs, sparse
// initializers, …) is an Error(unsupported). Nothing is allocated from a declared size before the
// bytes that back it have been found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/graph.h"
#include "core/proto_reader.h"
#include "inferd/tensor.h"

namespace inferd {

// Parses a ModelProto. External-data paths are relative to `external_data_dir`; "" means a model
// that refers to external data is rejected.
OnnxModel load_onnx_bytes(const uint8_t* data, size_t size, const std::string& external_data_dir);
// Reads and parses a model file; external data is relative to the file's directory.
// A file that cannot be read is Error(invalid_argument).
OnnxModel load_onnx_file(const std::string& path);

// Parses a serialized TensorProto (e.g. the conformance cases' input_0.pb). Anything but a dense
// tensor of a dtype the engine holds is an error.
Tensor parse_tensor_proto(const uint8_t* data, size_t size, const std::string& external_data_dir = "");
Tensor load_tensor_proto_file(const std::string& path);

namespace onnx_detail {

// Shared by onnx_loader.cc and onnx_tensor.cc; not for use outside the loader.

// Reads the TensorProto `message`. `where` starts every error message and is followed by the
// tensor's name when it has one ("initializer" → "initializer 'fc1.weight': …"). The tensor's name is
// stored in *name.
Tensor read_tensor(ProtoReader message, const std::string& where, const std::string& external_data_dir,
                   std::string* name);

// ONNX's spelling of a TensorProto.DataType number ("float8e4m3fn"), or nullptr for numbers ONNX
// does not define.
const char* onnx_type_name(int64_t data_type);

// The file's bytes; Error(invalid_argument) naming the path when it cannot be read.
std::string read_whole_file(const std::string& path, const char* what);

// The directory a file's relative references resolve against ("." for a bare file name).
std::string directory_of(const std::string& path);

}  // namespace onnx_detail

}  // namespace inferd
