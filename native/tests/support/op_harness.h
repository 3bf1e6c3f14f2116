// Running one op in a native test exactly as the planner and executor would: its schema infers the
// outputs (seeing the values of inputs marked known), then its CPU kernel computes them on a thread
// pool of the given size. Plus the small builders every op test needs.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/graph.h"
#include "core/kernel_registry.h"
#include "core/op_schema.h"
#include "core/thread_pool.h"
#include "inferd/error.h"
#include "inferd/tensor.h"

namespace inferd::test {

inline Attribute attr_int(const std::string& name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::i;
  a.i = v;
  return a;
}

inline Attribute attr_float(const std::string& name, float v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::f;
  a.f = v;
  return a;
}

inline Attribute attr_string(const std::string& name, const std::string& v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::s;
  a.s = v;
  return a;
}

inline Attribute attr_ints(const std::string& name, std::vector<int64_t> v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::ints;
  a.ints = std::move(v);
  return a;
}

inline Attribute attr_floats(const std::string& name, std::vector<float> v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::floats;
  a.floats = std::move(v);
  return a;
}

inline Node make_node(const std::string& op, std::vector<Attribute> attributes = {}, const std::string& name = "n") {
  Node node;
  node.op_type = op;
  node.name = name;
  node.attributes.set_owner(node.label());
  for (Attribute& a : attributes) node.attributes.add(std::move(a));
  return node;
}

template <typename T> Tensor tensor(Shape shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dtype_of<T>, std::move(shape));
  if (static_cast<size_t>(t.size()) != values.size())
    fail(ErrorKind::invalid_argument, "tensor(): shape ", shape_to_string(t.shape), " needs ", t.size(), " values, got ",
         values.size());
  for (size_t i = 0; i < values.size(); ++i) t.data_as<T>()[i] = values[i];
  return t;
}

template <typename T> std::vector<T> values_of(const Tensor& t) {
  if (t.dtype != dtype_of<T>) fail(ErrorKind::invalid_argument, "values_of(): tensor is ", dtype_name(t.dtype));
  return std::vector<T>(t.data_as<T>(), t.data_as<T>() + t.size());
}

// An input as the planner sees it: its tensor, and whether its value is known at plan time (a
// constant, so the schema can read it and the kernel can pre-pack it).
struct Input {
  Tensor tensor;
  bool known = false;
  Input() = default;
  Input(Tensor t, bool k = false) : tensor(std::move(t)), known(k) {}  // NOLINT: a Tensor is a data input
};
inline Input data(Tensor t) { return {std::move(t), false}; }
inline Input constant(Tensor t) { return {std::move(t), true}; }
inline Input omitted() { return {}; }

struct Result {
  std::vector<DType> dtypes;
  std::vector<Shape> shapes;
  std::vector<Tensor> values;   // given by the schema at plan time; dtype undefined when not
  std::vector<Tensor> outputs;  // computed by the kernel (run() only)
  // The first output, which is all most ops have.
  DType dtype = DType::undefined;
  Shape shape;
  Tensor output;
};

inline Result infer(const Node& node, int opset, const std::vector<Input>& inputs, size_t output_count = 1,
                    const std::string& domain = "") {
  const OpSchema* schema = SchemaRegistry::instance().find(domain, node.op_type, opset);
  if (!schema) fail(ErrorKind::unsupported, "no schema for ", node.op_type, " at opset ", opset);
  std::vector<DType> dtypes;
  std::vector<const Shape*> shapes;
  std::vector<const Tensor*> values;
  for (const Input& in : inputs) {
    const bool given = in.tensor.dtype != DType::undefined;
    dtypes.push_back(in.tensor.dtype);
    shapes.push_back(given ? &in.tensor.shape : nullptr);
    values.push_back(given && in.known ? &in.tensor : nullptr);
  }
  Result r;
  r.dtypes.resize(output_count, DType::undefined);
  r.shapes.resize(output_count);
  r.values.resize(output_count);
  ShapeContext ctx(node, opset, dtypes.data(), shapes.data(), values.data(), inputs.size(), r.dtypes.data(),
                   r.shapes.data(), r.values.data(), output_count);
  schema->infer(ctx);
  r.dtype = r.dtypes[0];
  r.shape = r.shapes[0];
  return r;
}

// Infers, then runs the CPU kernel on a pool of `threads` into freshly allocated outputs. The
// outputs start as garbage (bytes 0x5a), not zeros, so a kernel that skips an element is caught.
inline Result run(const Node& node, int opset, const std::vector<Input>& inputs, int threads = 1,
                  size_t output_count = 1, const std::string& domain = "") {
  Result r = infer(node, opset, inputs, output_count, domain);
  const KernelDef* def = KernelRegistry::instance().find("cpu", domain, node.op_type, opset);
  if (!def) fail(ErrorKind::unsupported, "no CPU kernel for ", node.op_type, " at opset ", opset);
  KernelInit init{node, opset, {}};
  for (const Input& in : inputs) init.constant_inputs.push_back(in.known ? &in.tensor : nullptr);
  std::unique_ptr<Kernel> kernel = def->make(init);
  std::vector<const Tensor*> in_ptrs;
  for (const Input& in : inputs) in_ptrs.push_back(in.tensor.dtype == DType::undefined ? nullptr : &in.tensor);
  for (size_t i = 0; i < r.shapes.size(); ++i) {
    r.outputs.push_back(Tensor::allocate(r.dtypes[i], r.shapes[i]));
    if (r.outputs.back().nbytes() > 0) std::memset(r.outputs.back().data, 0x5a, r.outputs.back().nbytes());
  }
  std::vector<Tensor*> out_ptrs;
  for (Tensor& t : r.outputs) out_ptrs.push_back(&t);
  ThreadPool pool(threads);
  KernelContext ctx;
  ctx.inputs = in_ptrs.data();
  ctx.input_count = in_ptrs.size();
  ctx.outputs = out_ptrs.data();
  ctx.output_count = out_ptrs.size();
  ctx.threads = &pool;
  kernel->run(ctx);
  r.output = r.outputs[0];
  return r;
}

}  // namespace inferd::test
