// Running a model: find (or make) the plan for the inputs' shapes, bind caller buffers and arena
// offsets, call each step's kernel. At an already-planned shape this path allocates nothing.
#include "inferd/session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <unordered_map>

#include "core/model_impl.h"
#include "core/plan.h"
#include "core/thread_pool.h"
#include "inferd/error.h"

#ifdef INFERD_HAS_CUDA
#include "cuda/cuda_executor.h"
#endif

namespace inferd {

class SessionImpl final : public RunScope {
 public:
  SessionImpl(const ModelImpl& model, const SessionOptions& options)
      : model_(model), options_(options), own_pool_(std::make_unique<ThreadPool>(std::max(options.threads, 1))),
        pool_(own_pool_.get()) {
    attach_device();
  }
  // A session for a subgraph (If branch, Loop body), sharing its parent's threads.
  SessionImpl(const ModelImpl& model, const SessionOptions& options, ThreadPool* pool)
      : model_(model), options_(options), pool_(pool) {
    attach_device();
  }
  ~SessionImpl() override {
    for (Arena& arena : arenas_)
      if (arena.base) model_.backend->release(arena.base);
  }

  // The first segment's plan for these inputs (with `owned_outputs`, graph outputs stay in this
  // session's memory). A shape may depend on a model input's value (Reshape's shape, Resize's scales
  // fed by the caller): such inputs, when small, become part of the plan key, and the plan is made
  // with their values. Each planning failure names one more; stop at the first that cannot be keyed.
  Plan& plan_for(const TensorRef* inputs, bool owned_outputs) {
    for (size_t p = 0; p < plans_.size(); ++p)
      if (plans_[p]->owned_outputs == owned_outputs && same_key(*plans_[p], inputs)) return use(p);
    std::vector<Shape> shapes;
    std::vector<DType> dtypes;
    for (size_t i = 0; i < model_.inputs.size(); ++i) {
      shapes.emplace_back(inputs[i].dims, inputs[i].dims + inputs[i].rank);
      dtypes.push_back(inputs[i].dtype);
    }
    if (inputs_keyed_by_value_.empty()) inputs_keyed_by_value_.assign(model_.inputs.size(), 0);
    for (;;) {
      std::vector<const TensorRef*> values(model_.inputs.size(), nullptr);
      for (size_t i = 0; i < values.size(); ++i)
        if (inputs_keyed_by_value_[i]) values[i] = &inputs[i];
      try {
        return insert(make_plan(model_, shapes, values, dtypes, owned_outputs));
      } catch (const RuntimeValueRequired& e) {
        const int input = e.graph_input;
        if (input < 0 || inputs_keyed_by_value_[static_cast<size_t>(input)]) throw;
        inputs_keyed_by_value_[static_cast<size_t>(input)] = 1;
      }
    }
  }

  Plan& plan_for(const std::vector<Shape>& shapes) {
    for (size_t p = 0; p < plans_.size(); ++p)
      if (!plans_[p]->owned_outputs && plans_[p]->keyed_values.empty() && plans_[p]->input_shapes == shapes)
        return use(p);
    return insert(make_plan(model_, shapes));
  }

  // Computes into the caller's buffers. A model whose output sizes follow from computed data runs
  // with outputs in this session's memory first, then copies them: their sizes were not known when
  // the caller's buffers were made, so the buffers are checked against what the run produced.
  void run(const TensorRef* inputs, const TensorRef* outputs) {
    Plan& plan = plan_for(inputs, false);
#ifdef INFERD_HAS_CUDA
    if (cuda_) {
      // The GPU executor runs whole plans only (it refuses a segmented one, naming the node).
      if (plan.complete()) check_outputs(plan.output_shapes, plan.output_dtypes, outputs);
      cuda_->run(plan, grow_arena(plan), inputs, outputs, *pool_, observer_);
      ++runs_;
      return;
    }
#endif
    if (!plan.complete()) {
      const std::vector<Tensor>& produced = run_owned(inputs);
      for (size_t j = 0; j < produced.size(); ++j) check_output(j, produced[j].shape, produced[j].dtype, outputs[j]);
      for (size_t j = 0; j < produced.size(); ++j)
        if (produced[j].nbytes() > 0) std::memcpy(outputs[j].data, produced[j].data, produced[j].nbytes());
      return;
    }
    check_outputs(plan.output_shapes, plan.output_dtypes, outputs);
    bind_inputs(plan, inputs);
    run_segment(plan, outputs);
    ++runs_;
  }

  // Computes with outputs left in this session's memory, valid until its next run.
  const std::vector<Tensor>& run_owned(const TensorRef* inputs) {
#ifdef INFERD_HAS_CUDA
    if (cuda_) fail(ErrorKind::unsupported, "provider 'cuda': outputs whose sizes follow from computed data are not supported yet");
#endif
    Plan* plan = &plan_for(inputs, true);
    bind_inputs(*plan, inputs);
    for (;;) {
      run_segment(*plan, nullptr);
      if (plan->complete()) break;
      plan = &continuation_of(*plan);
    }
    const Graph& graph = model_.graph();
    results_.resize(graph.outputs.size());
    for (size_t j = 0; j < graph.outputs.size(); ++j) {
      const Tensor& t = *plan->tensors[static_cast<size_t>(graph.outputs[j])];
      results_[j].dtype = t.dtype;
      results_[j].shape.assign(t.shape.begin(), t.shape.end());
      results_[j].data = t.data;
    }
    ++runs_;
    return results_;
  }

  // Whether outputs' sizes for these inputs are known only after a run.
  bool outputs_depend_on_data(const TensorRef* inputs) { return !plan_for(inputs, false).complete(); }

  uint64_t runs() const { return runs_; }
  void set_step_observer(StepObserver* observer) { observer_ = observer; }

  // RunScope, for data-dependent kernels.
  void allocate_output(Tensor& output, const int64_t* dims, size_t rank) override {
    for (DynamicOutput& d : current_->dynamic_outputs) {
      if (d.tensor != &output) continue;
      output.shape.assign(dims, dims + rank);
      const size_t bytes = static_cast<size_t>(shape_size(output.shape)) * dtype_size(output.dtype);
      if (!d.storage || d.storage->size() < bytes) d.storage = std::make_unique<AlignedBuffer>(std::max<size_t>(bytes, 64));
      output.data = d.storage->data();
      return;
    }
    fail(ErrorKind::runtime, "a kernel asked for memory for a tensor that is not a data-dependent output");
  }

  const std::vector<Tensor>& run_subgraph(const ModelImpl& subgraph, const Tensor* const* inputs,
                                          size_t input_count) override {
    Nested& nested = nested_[&subgraph];
    if (!nested.session) nested.session = std::make_unique<SessionImpl>(subgraph, options_, pool_);
    if (input_count != subgraph.inputs.size())
      fail(ErrorKind::runtime, "a subgraph takes ", subgraph.inputs.size(), " inputs, got ", input_count);
    nested.refs.resize(input_count);
    for (size_t i = 0; i < input_count; ++i) {
      const Tensor& t = *inputs[i];
      nested.refs[i] = TensorRef{t.dtype, t.shape.data(), t.rank(), t.data, t.nbytes()};
    }
    return nested.session->run_owned(nested.refs.data());
  }

  std::shared_ptr<void>& kernel_state(const void* owner) override { return kernel_state_[owner]; }

  void* scratch(const void* owner, int slot, size_t bytes) override {
    std::unique_ptr<AlignedBuffer>& buffer = scratch_[{owner, slot}];
    if (!buffer || buffer->size() < bytes) {
      auto grown = std::make_unique<AlignedBuffer>(std::max<size_t>({bytes, 64, buffer ? 2 * buffer->size() : 0}));
      if (buffer) std::memcpy(grown->data(), buffer->data(), buffer->size());
      buffer = std::move(grown);
    }
    return buffer->data();
  }

 private:
  struct Arena {
    void* base = nullptr;
    size_t capacity = 0;
  };
  struct Nested {
    std::unique_ptr<SessionImpl> session;
    std::vector<TensorRef> refs;
  };

  Plan& use(size_t p) {
    std::rotate(plans_.begin(), plans_.begin() + static_cast<std::ptrdiff_t>(p),
                plans_.begin() + static_cast<std::ptrdiff_t>(p) + 1);
    return *plans_.front();
  }

  Plan& insert(std::unique_ptr<Plan> plan) {
    plans_.insert(plans_.begin(), std::move(plan));
    if (plans_.size() > static_cast<size_t>(std::max(options_.plan_cache_size, 1))) plans_.pop_back();
    return *plans_.front();
  }

  // The plan for what follows `parent`, made (and cached under what `parent` observed) on first need.
  Plan& continuation_of(Plan& parent) {
    auto& list = parent.continuations;
    for (size_t c = 0; c < list.size(); ++c)
      if (continuation_matches(parent, list[c])) {
        std::rotate(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(c),
                    list.begin() + static_cast<std::ptrdiff_t>(c) + 1);
        return *list.front().plan;
      }
    list.insert(list.begin(), make_continuation(model_, parent));
    if (list.size() > static_cast<size_t>(std::max(options_.plan_cache_size, 1))) list.pop_back();
    return *list.front().plan;
  }

  void bind_inputs(Plan& plan, const TensorRef* inputs) {
    for (size_t i = 0; i < plan.input_values.size(); ++i)
      plan.values[static_cast<size_t>(plan.input_values[i])].data = inputs[i].data;
  }

  void attach_device() {
#ifdef INFERD_HAS_CUDA
    if (gpu::runs_on_cuda(model_)) cuda_ = std::make_unique<gpu::CudaExecutor>(model_);
#endif
  }

  // The arena for a segment at plan.depth, grown (through the model's backend) to what it needs.
  void* grow_arena(const Plan& plan) {
    if (arenas_.size() <= plan.depth) arenas_.resize(plan.depth + 1);
    Arena& arena = arenas_[plan.depth];
    if (plan.arena_bytes > arena.capacity) {
      // Grows only when a plan needs more than any before: steady state never gets here.
      if (arena.base) model_.backend->release(arena.base);
      arena.base = nullptr;
      arena.base = model_.backend->allocate(plan.arena_bytes);
      arena.capacity = plan.arena_bytes;
    }
    return arena.base;
  }

  // Binds a segment's arena (and, for a complete plan, the caller's outputs) and runs its steps.
  void run_segment(Plan& plan, const TensorRef* outputs) {
    auto* base = static_cast<uint8_t*>(grow_arena(plan));
    for (ValueId id : plan.arena_values)
      plan.values[static_cast<size_t>(id)].data = base + plan.arena_offset[static_cast<size_t>(id)];
    if (outputs)
      for (const auto& [id, j] : plan.output_bindings) plan.values[static_cast<size_t>(id)].data = outputs[j].data;

    current_ = &plan;
    KernelContext ctx;
    ctx.threads = pool_;
    ctx.scope = this;
    for (const Step& step : plan.steps) {
      ctx.inputs = plan.step_inputs.data() + step.first_input;
      ctx.input_count = step.input_count;
      ctx.outputs = plan.step_outputs.data() + step.first_output;
      ctx.output_count = step.output_count;
      try {
        if (observer_) {
          const auto started = std::chrono::steady_clock::now();
          step.kernel->run(ctx);
          const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
          observer_->on_step(step.node->op_type, step.node->name, took.count());
        } else {
          step.kernel->run(ctx);
        }
      } catch (const Error&) {
        throw;
      } catch (const std::exception& e) {
        fail(ErrorKind::runtime, step.node->label(), ": ", e.what());
      }
      // A subgraph's session may have run in between: the scope is this plan's again.
      current_ = &plan;
    }
    if (outputs)
      for (const auto& [t, j] : plan.output_copies)
        if (t->nbytes() > 0) std::memcpy(outputs[j].data, t->data, t->nbytes());
  }

  bool same_key(const Plan& plan, const TensorRef* inputs) const {
    for (size_t i = 0; i < plan.input_shapes.size(); ++i) {
      const Shape& s = plan.input_shapes[i];
      if (plan.input_dtypes[i] != inputs[i].dtype || s.size() != static_cast<size_t>(inputs[i].rank) ||
          !std::equal(s.begin(), s.end(), inputs[i].dims))
        return false;
    }
    for (const auto& [i, value] : plan.keyed_values)
      if (inputs[i].dtype != value->dtype || std::memcmp(inputs[i].data, value->data, value->nbytes()) != 0)
        return false;
    return true;
  }

  void check_outputs(const std::vector<Shape>& shapes, const std::vector<DType>& dtypes, const TensorRef* outputs) const {
    for (size_t j = 0; j < shapes.size(); ++j) check_output(j, shapes[j], dtypes[j], outputs[j]);
  }

  // The caller's buffer for output j must be of this dtype and shape.
  void check_output(size_t j, const Shape& shape, DType dtype, const TensorRef& out) const {
    const std::string& name = model_.outputs[j].name;
    if (out.dtype != dtype)
      fail(ErrorKind::invalid_argument, "output '", name, "' is ", dtype_name(dtype), ", the buffer given is ",
           dtype_name(out.dtype));
    if (out.dims && (static_cast<size_t>(out.rank) != shape.size() || !std::equal(shape.begin(), shape.end(), out.dims)))
      fail(ErrorKind::out_of_range, "output '", name, "' has shape ", shape_to_string(shape), ", the buffer given is for ",
           shape_to_string(Shape(out.dims, out.dims + out.rank)));
    const size_t bytes = static_cast<size_t>(shape_size(shape)) * dtype_size(dtype);
    if (out.byte_length != bytes)
      fail(ErrorKind::out_of_range, "output '", name, "' of shape ", shape_to_string(shape), " needs ", bytes,
           " bytes, the buffer given has ", out.byte_length);
    if (!out.data && bytes > 0) fail(ErrorKind::invalid_argument, "output '", name, "' has no buffer");
  }

  const ModelImpl& model_;
  SessionOptions options_;
  std::unique_ptr<ThreadPool> own_pool_;
  ThreadPool* pool_;

  std::vector<std::unique_ptr<Plan>> plans_;  // most recently used first
  std::vector<char> inputs_keyed_by_value_;   // per input: its value is part of the plan key
  std::vector<Arena> arenas_;                 // by segment depth
  Plan* current_ = nullptr;                   // the segment running, for allocate_output
  std::vector<Tensor> results_;               // run_owned's outputs
  std::unordered_map<const ModelImpl*, Nested> nested_;
  std::map<std::pair<const void*, int>, std::unique_ptr<AlignedBuffer>> scratch_;
  std::unordered_map<const void*, std::shared_ptr<void>> kernel_state_;
  uint64_t runs_ = 0;
  StepObserver* observer_ = nullptr;
#ifdef INFERD_HAS_CUDA
  std::unique_ptr<gpu::CudaExecutor> cuda_;  // set when the model computes on the GPU
#endif
};

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)), impl_(std::make_unique<SessionImpl>(model_->impl(), options)) {}
Session::~Session() = default;

namespace {

const std::vector<Shape>& shapes_of(const Plan& plan) {
  if (!plan.complete())
    fail(ErrorKind::invalid_argument, "output shapes depend on data computed in the run (", plan.paused_at->label(),
         "): they are known only after it; use run_owned()");
  return plan.output_shapes;
}

}  // namespace

std::vector<Shape> Session::output_shapes(const std::vector<Shape>& input_shapes) {
  return shapes_of(impl_->plan_for(input_shapes));
}

std::vector<Shape> Session::output_shapes(const TensorRef* inputs, size_t input_count) {
  check_inputs(inputs, input_count);
  return shapes_of(impl_->plan_for(inputs, false));
}

bool Session::outputs_depend_on_data(const TensorRef* inputs, size_t input_count) {
  check_inputs(inputs, input_count);
  return impl_->outputs_depend_on_data(inputs);
}

bool Session::outputs_depend_on_data(const std::vector<Shape>& input_shapes) {
  return !impl_->plan_for(input_shapes).complete();
}

const std::vector<Tensor>& Session::run_owned(const TensorRef* inputs, size_t input_count) {
  check_inputs(inputs, input_count);
  return impl_->run_owned(inputs);
}

void Session::run(const TensorRef* inputs, size_t input_count, const TensorRef* outputs, size_t output_count) {
  check_inputs(inputs, input_count);
  const std::vector<TensorInfo>& declared_outputs = model_->outputs();
  if (output_count != declared_outputs.size())
    fail(ErrorKind::invalid_argument, "the model has ", declared_outputs.size(), " outputs, got ", output_count,
         " output buffers");
  impl_->run(inputs, outputs);
}

void Session::check_inputs(const TensorRef* inputs, size_t input_count) const {
  const std::vector<TensorInfo>& declared_inputs = model_->inputs();
  if (input_count != declared_inputs.size())
    fail(ErrorKind::invalid_argument, "the model takes ", declared_inputs.size(), " inputs, got ", input_count);
  for (size_t i = 0; i < input_count; ++i) {
    const TensorRef& in = inputs[i];
    const TensorInfo& info = declared_inputs[i];
    if (info.dtype != DType::undefined && in.dtype != info.dtype)
      fail(ErrorKind::invalid_argument, "input '", info.name, "' must be ", dtype_name(info.dtype), ", got ",
           dtype_name(in.dtype));
    if (in.rank < 0 || (in.rank > 0 && !in.dims))
      fail(ErrorKind::invalid_argument, "input '", info.name, "' has no shape");
    int64_t elements = 1;
    for (int d = 0; d < in.rank; ++d) {
      if (in.dims[d] < 0)
        fail(ErrorKind::out_of_range, "input '", info.name, "': dimension ", d, " is negative (", in.dims[d], ")");
      if (in.dims[d] != 0 && elements > (int64_t{1} << 50) / in.dims[d])
        fail(ErrorKind::out_of_range, "input '", info.name, "' is too large");
      elements *= in.dims[d];
    }
    const size_t bytes = static_cast<size_t>(elements) * dtype_size(in.dtype);
    if (in.byte_length != bytes)
      fail(ErrorKind::out_of_range, "input '", info.name, "' of shape ", shape_to_string(Shape(in.dims, in.dims + in.rank)),
           " needs ", bytes, " bytes of ", dtype_name(in.dtype), ", got ", in.byte_length);
    if (!in.data && bytes > 0) fail(ErrorKind::invalid_argument, "input '", info.name, "' has no data");
  }
}

uint64_t Session::run_count() const { return impl_->runs(); }
void Session::set_step_observer(StepObserver* observer) { impl_->set_step_observer(observer); }

}  // namespace inferd
