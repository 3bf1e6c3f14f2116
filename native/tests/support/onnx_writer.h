// A minimal ONNX ModelProto writer for native tests: enough of the protobuf wire format to build
// small graphs (inputs with dynamic dims, float/int64 initializers, nodes with int/float/ints
// attributes) without a protobuf library.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace inferd::test {

class ProtoWriter {
 public:
  void varint(uint64_t v) {
    while (v >= 0x80) { bytes_.push_back(static_cast<char>((v & 0x7f) | 0x80)); v >>= 7; }
    bytes_.push_back(static_cast<char>(v));
  }
  void tag(int field, int wire) { varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
  void int_field(int field, int64_t v) { tag(field, 0); varint(static_cast<uint64_t>(v)); }
  void float_field(int field, float v) {
    tag(field, 5);
    char b[4];
    std::memcpy(b, &v, 4);
    bytes_.append(b, 4);
  }
  void bytes_field(int field, const std::string& v) { tag(field, 2); varint(v.size()); bytes_ += v; }
  void message(int field, const ProtoWriter& m) { bytes_field(field, m.bytes_); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

struct AttrSpec {
  std::string name;
  enum { kInt, kFloat, kInts, kString, kGraph } kind;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::string s;
  static AttrSpec integer(std::string n, int64_t v) { AttrSpec a{std::move(n), kInt}; a.i = v; return a; }
  static AttrSpec real(std::string n, float v) { AttrSpec a{std::move(n), kFloat}; a.f = v; return a; }
  static AttrSpec list(std::string n, std::vector<int64_t> v) { AttrSpec a{std::move(n), kInts}; a.ints = std::move(v); return a; }
  static AttrSpec text(std::string n, std::string v) { AttrSpec a{std::move(n), kString}; a.s = std::move(v); return a; }
  // A subgraph (If branch, Loop body): `graph_proto` is ModelWriter::graph_bytes() of the body.
  static AttrSpec graph(std::string n, std::string graph_proto) { AttrSpec a{std::move(n), kGraph}; a.s = std::move(graph_proto); return a; }
};

class ModelWriter {
 public:
  explicit ModelWriter(int opset) : opset_(opset) {}

  // dims < 0 are dynamic, named "batch" for the first and "d<i>" after.
  void input(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    graph_.message(11, value_info(name, elem_type, dims));
  }
  void output(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    graph_.message(12, value_info(name, elem_type, dims));
  }
  void initializer_f32(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values) {
    ProtoWriter t;
    for (int64_t d : dims) t.int_field(1, d);
    t.int_field(2, 1);
    t.bytes_field(8, name);
    t.bytes_field(9, std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4));
    graph_.message(5, t);
  }
  void initializer_i64(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
    ProtoWriter t;
    for (int64_t d : dims) t.int_field(1, d);
    t.int_field(2, 7);
    t.bytes_field(8, name);
    t.bytes_field(9, std::string(reinterpret_cast<const char*>(values.data()), values.size() * 8));
    graph_.message(5, t);
  }
  void node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
            const std::vector<AttrSpec>& attrs = {}, const std::string& name = "") {
    ProtoWriter n;
    for (const std::string& i : inputs) n.bytes_field(1, i);
    for (const std::string& o : outputs) n.bytes_field(2, o);
    n.bytes_field(3, name.empty() ? op + "_" + std::to_string(++node_count_) : name);
    n.bytes_field(4, op);
    for (const AttrSpec& a : attrs) {
      ProtoWriter w;
      w.bytes_field(1, a.name);
      switch (a.kind) {
        case AttrSpec::kInt: w.int_field(3, a.i); w.int_field(20, 2); break;
        case AttrSpec::kFloat: w.float_field(2, a.f); w.int_field(20, 1); break;
        case AttrSpec::kInts: for (int64_t v : a.ints) w.int_field(8, v); w.int_field(20, 7); break;
        case AttrSpec::kString: w.bytes_field(4, a.s); w.int_field(20, 3); break;
        case AttrSpec::kGraph: w.bytes_field(6, a.s); w.int_field(20, 5); break;
      }
      n.message(5, w);
    }
    graph_.message(1, n);
  }

  // The GraphProto alone, for a subgraph attribute (the opset is the enclosing model's).
  std::string graph_bytes() const {
    ProtoWriter graph = graph_;
    graph.bytes_field(2, "subgraph");
    return graph.bytes();
  }

  std::string bytes() const {
    ProtoWriter model, opset, graph = graph_;
    graph.bytes_field(2, "test");
    model.int_field(1, 8);
    model.bytes_field(2, "inferd-tests");
    opset.bytes_field(1, "");
    opset.int_field(2, opset_);
    model.message(8, opset);
    model.message(7, graph);
    return model.bytes();
  }

 private:
  static ProtoWriter value_info(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    ProtoWriter shape, tensor_type, type, info;
    for (size_t i = 0; i < dims.size(); ++i) {
      ProtoWriter dim;
      if (dims[i] >= 0) dim.int_field(1, dims[i]);
      else dim.bytes_field(2, i == 0 ? "batch" : "d" + std::to_string(i));
      shape.message(1, dim);
    }
    tensor_type.int_field(1, elem_type);
    tensor_type.message(2, shape);
    type.message(1, tensor_type);
    info.bytes_field(1, name);
    info.message(2, type);
    return info;
  }

  int opset_;
  int node_count_ = 0;
  ProtoWriter graph_;
};

}  // namespace inferd::test
