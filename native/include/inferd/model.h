// The engine's public C++ API, part 1: a loaded model. A Model is immutable after load and shared by
// every thread of the process (weights, folded constants and kernels with their pre-packed state live
// here once); compute state lives in a Session per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "inferd/dtype.h"
#include "inferd/tensor.h"

namespace inferd {

// A graph input or output as the model declares it. dims[i] == -1 marks a dynamic dimension, whose
// name (e.g. "batch") is in dim_names[i] when the model gives one; has_shape is false when the model
// declares no shape at all.
struct TensorInfo {
  std::string name;
  DType dtype = DType::undefined;
  std::vector<int64_t> dims;
  std::vector<std::string> dim_names;
  bool has_shape = true;
};

// One node whose (domain, op type, opset) no backend implements.
struct UnsupportedOp {
  std::string domain;
  std::string op_type;
  std::string node_name;
  int opset = 0;
};

struct ModelOptions {
  // Directory that external-data paths are relative to; defaults to the model file's directory.
  std::string external_data_dir;
  // Graph optimizations at load (fusions, Conv+BatchNormalization folding, Identity removal…).
  // Off computes the graph exactly as written: tests compare the two.
  bool optimize = true;
  // Where the model computes: "cpu", "cuda" (fails when no GPU is visible or an op has no CUDA
  // kernel and CPU fallback is off) or "auto" (CUDA when a GPU is visible and every op runs there,
  // else CPU).
  std::string provider = "cpu";
  // With provider "cuda": ops without a CUDA kernel run their CPU kernel, the copies placed
  // automatically (true), or the model is refused naming each such op (false).
  bool cpu_fallback = true;
};

class ModelImpl;

class Model {
 public:
  // Both throw inferd::Error: invalid_model for a malformed file (naming what and where),
  // unsupported listing every node whose op no backend implements.
  static std::shared_ptr<const Model> load_file(const std::string& path, const ModelOptions& options = {});
  static std::shared_ptr<const Model> load_bytes(const void* data, size_t size, const ModelOptions& options = {});

  // Parses and checks a model without rejecting unsupported ops: for `inferd inspect`.
  struct Inspection {
    std::vector<TensorInfo> inputs, outputs;
    std::map<std::string, int64_t> opsets;       // domain ("" = ai.onnx) → version
    std::map<std::string, int> op_census;         // op type → node count
    std::vector<UnsupportedOp> unsupported;
    int64_t ir_version = 0;
    std::string producer;
    size_t weight_bytes = 0;
  };
  static Inspection inspect_file(const std::string& path, const ModelOptions& options = {});

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  int64_t opset() const;           // ai.onnx opset version the model imports
  size_t weight_bytes() const;     // bytes of initializers and folded constants held
  size_t node_count() const;       // nodes left to run after load-time folding
  const char* provider() const;    // the backend the model computes on: "cpu" or "cuda"

  const ModelImpl& impl() const { return *impl_; }
  ~Model();

 private:
  explicit Model(std::unique_ptr<ModelImpl> impl);
  std::unique_ptr<ModelImpl> impl_;
};

}  // namespace inferd
