// Node attributes as read from an ONNX NodeProto, with typed accessors that name the node and the
// attribute in every error ("Gemm node 'fc1': attribute 'transA' must be an int").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inferd/error.h"
#include "inferd/tensor.h"

namespace inferd {

struct Graph;

struct Attribute {
  // Numbered as onnx.AttributeProto.AttributeType.
  enum class Type : int32_t {
    undefined = 0, f = 1, i = 2, s = 3, t = 4, g = 5,
    floats = 6, ints = 7, strings = 8, tensors = 9, graphs = 10,
  };
  std::string name;
  Type type = Type::undefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
};

class Attributes {
 public:
  // `owner` describes the node for error messages, e.g. "Gemm node 'fc1'".
  void set_owner(std::string owner) { owner_ = std::move(owner); }
  const std::string& owner() const { return owner_; }

  void add(Attribute attribute) { items_.push_back(std::move(attribute)); }
  const std::vector<Attribute>& items() const { return items_; }
  const Attribute* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }

  // Each getter returns the default when the attribute is absent and throws Error(invalid_model)
  // when it is present with another type.
  float get_float(const std::string& name, float fallback) const;
  int64_t get_int(const std::string& name, int64_t fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name, const std::vector<int64_t>& fallback) const;
  std::vector<float> get_floats(const std::string& name, const std::vector<float>& fallback) const;
  const Tensor* get_tensor(const std::string& name) const;  // nullptr when absent

  // As above, but absence is an error too.
  int64_t require_int(const std::string& name) const;
  std::vector<int64_t> require_ints(const std::string& name) const;

 private:
  const Attribute& typed(const Attribute& a, Attribute::Type expected, const char* type_name) const;
  std::string owner_;
  std::vector<Attribute> items_;
};

}  // namespace inferd
