// CPU kernels of If and Loop. Each runs its subgraph models (built at load, one per graph attribute)
// in sessions the running session keeps (RunScope::run_subgraph), so a branch or body is planned once
// per shape like any model. Results are copied out of the subgraph's memory into this node's outputs,
// sized by what the subgraph produced; a Loop's carried values go back and forth between two buffers
// kept by the session, and its scan outputs are appended to a growing one.
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/kernel_registry.h"
#include "core/model_impl.h"

namespace inferd {
namespace {

// A node's subgraph with the slice of the node's implicit inputs that feeds its outer references.
struct Subgraph {
  std::string attribute;
  std::shared_ptr<const ModelImpl> model;
  size_t declared_inputs = 0;   // inputs the graph itself declares
  size_t first_implicit = 0;    // index into the node's inputs of its first outer value
};

std::vector<Subgraph> subgraph_bindings(const KernelInit& init) {
  std::vector<Subgraph> out;
  size_t implicit = init.node.inputs.size() - init.node.implicit_inputs;
  size_t j = 0;
  for (const Attribute& a : init.attributes().items()) {
    if (!a.g) continue;
    if (j >= init.subgraphs.size()) fail(ErrorKind::runtime, init.node.label(), ": subgraph '", a.name, "' was not built");
    Subgraph s{a.name, init.subgraphs[j++], a.g->inputs.size(), implicit};
    implicit += s.model->inputs.size() - s.declared_inputs;
    out.push_back(std::move(s));
  }
  if (implicit != init.node.inputs.size())
    fail(ErrorKind::runtime, init.node.label(), ": its subgraphs read ", implicit - (init.node.inputs.size() - init.node.implicit_inputs),
         " outer values, the node lists ", init.node.implicit_inputs);
  return out;
}

const Subgraph& find(const std::vector<Subgraph>& all, const char* name, const std::string& label) {
  for (const Subgraph& s : all)
    if (s.attribute == name) return s;
  fail(ErrorKind::invalid_model, label, ": attribute '", name, "' (a graph) is required");
}

bool read_flag(const Tensor& t, const std::string& label, const char* what) {
  if (t.dtype != DType::boolean || t.size() != 1)
    fail(ErrorKind::invalid_argument, label, ": ", what, " must be one bool, got ", dtype_name(t.dtype), " of shape ",
         shape_to_string(t.shape));
  return *t.data_as<bool>();
}

// Sizes `out` like `produced` and copies it there; the subgraph must produce the declared type (an
// output declared without one takes the type produced).
void emit(const KernelContext& ctx, size_t i, const Tensor& produced, const std::string& label) {
  Tensor& out = ctx.output(i);
  if (out.dtype == DType::undefined) out.dtype = produced.dtype;
  if (produced.dtype != out.dtype)
    fail(ErrorKind::invalid_model, label, ": output ", i, " should be ", dtype_name(out.dtype), ", the subgraph gave ",
         dtype_name(produced.dtype));
  ctx.scope->allocate_output(out, produced.shape.data(), produced.shape.size());
  if (produced.nbytes() > 0) std::memcpy(out.data, produced.data, produced.nbytes());
}

class IfKernel final : public Kernel {
 public:
  explicit IfKernel(const KernelInit& init) : label_(init.node.label()) {
    const std::vector<Subgraph> all = subgraph_bindings(init);
    then_ = find(all, "then_branch", label_);
    else_ = find(all, "else_branch", label_);
  }

  void run(const KernelContext& ctx) const override {
    const Subgraph& branch = read_flag(ctx.input(0), label_, "input 'cond'") ? then_ : else_;
    const std::vector<Tensor>& produced = ctx.scope->run_subgraph(
        *branch.model, ctx.inputs + branch.first_implicit, branch.model->inputs.size());
    if (produced.size() != ctx.output_count)
      fail(ErrorKind::invalid_model, label_, ": ", branch.attribute, " gave ", produced.size(), " outputs, expected ",
           ctx.output_count);
    for (size_t i = 0; i < produced.size(); ++i) emit(ctx, i, produced[i], label_);
  }

 private:
  std::string label_;
  Subgraph then_, else_;
};

// A Loop kernel's per-session bookkeeping: the body's input headers and what the scan outputs
// looked like, reused run after run.
struct LoopState {
  LoopState(size_t carried_count, size_t scan_count, size_t node_inputs)
      : carried(carried_count), body_inputs(node_inputs), scan_shapes(scan_count), scan_types(scan_count) {
    body_inputs[0] = &iteration;
    body_inputs[1] = &condition;
    for (size_t k = 0; k < carried_count; ++k) body_inputs[2 + k] = &carried[k];
  }
  Tensor iteration{DType::i64, {}, nullptr, nullptr};
  Tensor condition{DType::boolean, {}, nullptr, nullptr};
  std::vector<Tensor> carried;
  std::vector<const Tensor*> body_inputs;  // iteration, condition, carried…, then the outer values
  std::vector<Shape> scan_shapes;
  std::vector<DType> scan_types;
  Shape dims;                              // a scan output's, while it is emitted
};

class LoopKernel final : public Kernel {
 public:
  explicit LoopKernel(const KernelInit& init) : label_(init.node.label()) {
    body_ = find(subgraph_bindings(init), "body", label_);
    carried_ = init.node.inputs.size() - 2 - init.node.implicit_inputs;
    scans_ = init.node.outputs.size() - carried_;
    // A loop that runs no iteration still gives each scan output a shape: [0, <declared per-iteration
    // shape>], when the body declares one in full (as onnxruntime does).
    for (size_t s = 0; s < scans_; ++s) {
      const size_t j = 1 + carried_ + s;
      Shape declared;
      if (j < body_.model->outputs.size() && body_.model->outputs[j].has_shape) {
        const Shape& dims = body_.model->outputs[j].dims;
        if (std::none_of(dims.begin(), dims.end(), [](int64_t d) { return d < 0; })) declared = dims;
      }
      empty_scan_shapes_.push_back(std::move(declared));
    }
  }

  void run(const KernelContext& ctx) const override {
    RunScope& scope = *ctx.scope;
    const int64_t trip_limit = ctx.has_input(0) ? read_trip_count(ctx.input(0)) : std::numeric_limits<int64_t>::max();
    bool keep_going = ctx.has_input(1) ? read_flag(ctx.input(1), label_, "input 'cond'") : true;

    // The body's inputs: iteration number, condition, carried values, then the outer values. Their
    // headers live in state this kernel keeps per session, so a repeat run allocates nothing; the
    // tensors' bytes live in session scratch memory.
    std::shared_ptr<void>& kept = scope.kernel_state(this);
    if (!kept) kept = std::make_shared<LoopState>(carried_, scans_, ctx.input_count);
    LoopState& st = *static_cast<LoopState*>(kept.get());
    Tensor& iteration = st.iteration;
    Tensor& condition = st.condition;
    iteration.data = scope.scratch(this, 0, sizeof(int64_t));
    condition.data = scope.scratch(this, 1, sizeof(bool));
    std::vector<Tensor>& carried = st.carried;
    std::vector<const Tensor*>& body_inputs = st.body_inputs;
    for (size_t k = 0; k < carried_; ++k) {
      const Tensor& initial = ctx.input(2 + k);
      carried[k].dtype = initial.dtype;
      carried[k].shape.assign(initial.shape.begin(), initial.shape.end());
      carried[k].data = initial.data;
    }
    for (size_t j = 2 + carried_; j < ctx.input_count; ++j) body_inputs[j] = ctx.inputs[j];
    if (body_inputs.size() != body_.model->inputs.size())
      fail(ErrorKind::runtime, label_, ": the body takes ", body_.model->inputs.size(), " inputs, the node gives ",
           body_inputs.size());

    std::vector<Shape>& scan_shapes = st.scan_shapes;
    std::vector<DType>& scan_types = st.scan_types;
    std::fill(scan_types.begin(), scan_types.end(), DType::undefined);
    int64_t iterations = 0;
    for (; iterations < trip_limit && keep_going; ++iterations) {
      *iteration.data_as<int64_t>() = iterations;
      *condition.data_as<bool>() = keep_going;
      const std::vector<Tensor>& produced = scope.run_subgraph(*body_.model, body_inputs.data(), body_inputs.size());
      if (produced.size() != 1 + carried_ + scans_)
        fail(ErrorKind::invalid_model, label_, ": the body gave ", produced.size(), " outputs, expected ",
             1 + carried_ + scans_);
      keep_going = read_flag(produced[0], label_, "the body's condition output");
      // Scan outputs first: they may be views of this iteration's carried inputs, rewritten below.
      for (size_t s = 0; s < scans_; ++s) {
        if (iterations > 0 && produced[1 + carried_ + s].dtype != scan_types[s])
          fail(ErrorKind::invalid_model, label_, ": scan output ", s, " changes type between iterations");
        scan_types[s] = produced[1 + carried_ + s].dtype;
        append_scan(scope, s, iterations, produced[1 + carried_ + s], scan_shapes[s]);
      }
      for (size_t k = 0; k < carried_; ++k) {
        const Tensor& next = produced[1 + k];
        if (next.dtype != carried[k].dtype)
          fail(ErrorKind::invalid_model, label_, ": loop-carried value ", k, " is ", dtype_name(carried[k].dtype),
               ", the body gave ", dtype_name(next.dtype));
        // Two buffers per carried value, alternating: the body's output may be a view of its input.
        void* into = scope.scratch(this, carried_slot(k, iterations), next.nbytes());
        if (next.nbytes() > 0) std::memmove(into, next.data, next.nbytes());
        carried[k].shape.assign(next.shape.begin(), next.shape.end());
        carried[k].data = into;
      }
    }

    for (size_t k = 0; k < carried_; ++k) emit(ctx, k, carried[k], label_);
    for (size_t s = 0; s < scans_; ++s) {
      Tensor& out = ctx.output(carried_ + s);
      if (out.dtype == DType::undefined) out.dtype = scan_types[s];
      if (out.dtype == DType::undefined)
        fail(ErrorKind::unsupported, label_, ": scan output ", s, " has no declared type and the loop ran no iteration to show it");
      if (scan_types[s] != DType::undefined && scan_types[s] != out.dtype)
        fail(ErrorKind::invalid_model, label_, ": scan output ", s, " should be ", dtype_name(out.dtype), ", the body gave ",
             dtype_name(scan_types[s]));
      Shape& dims = st.dims;
      const Shape& each = iterations > 0 ? scan_shapes[s] : empty_scan_shapes_[s];
      dims.assign(1, iterations);
      dims.insert(dims.end(), each.begin(), each.end());
      scope.allocate_output(out, dims.data(), dims.size());
      if (out.nbytes() > 0) std::memcpy(out.data, scope.scratch(this, scan_slot(s), out.nbytes()), out.nbytes());
    }
  }

 private:
  int64_t read_trip_count(const Tensor& m) const {
    if (m.dtype != DType::i64 || m.size() != 1)
      fail(ErrorKind::invalid_argument, label_, ": input 'M' must be one int64, got ", dtype_name(m.dtype), " of shape ",
           shape_to_string(m.shape));
    return *m.data_as<int64_t>();
  }

  static int carried_slot(size_t k, int64_t iteration) { return 2 + 2 * static_cast<int>(k) + static_cast<int>(iteration & 1); }
  int scan_slot(size_t s) const { return 2 + 2 * static_cast<int>(carried_) + static_cast<int>(s); }

  // Appends one iteration's scan value; every iteration must give the same shape.
  void append_scan(RunScope& scope, size_t s, int64_t iteration, const Tensor& value, Shape& shape) const {
    if (iteration == 0) shape = value.shape;
    else if (value.shape != shape)
      fail(ErrorKind::invalid_model, label_, ": scan output ", s, " has shape ", shape_to_string(value.shape),
           " in iteration ", iteration, " but ", shape_to_string(shape), " before");
    const size_t bytes = value.nbytes();
    auto* base = static_cast<uint8_t*>(scope.scratch(this, scan_slot(s), bytes * static_cast<size_t>(iteration + 1)));
    if (bytes > 0) std::memcpy(base + bytes * static_cast<size_t>(iteration), value.data, bytes);
  }

  std::string label_;
  Subgraph body_;
  size_t carried_ = 0, scans_ = 0;
  std::vector<Shape> empty_scan_shapes_;  // per scan output, for a loop of no iterations
};

std::unique_ptr<Kernel> make_if(const KernelInit& init) { return std::make_unique<IfKernel>(init); }
std::unique_ptr<Kernel> make_loop(const KernelInit& init) { return std::make_unique<LoopKernel>(init); }

}  // namespace

INFERD_CPU_KERNEL("If", 1, kMaxOpset, make_if);
INFERD_CPU_KERNEL("Loop", 1, kMaxOpset, make_loop);

}  // namespace inferd
