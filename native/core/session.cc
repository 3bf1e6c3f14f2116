// Running a model: find (or make) the plan for the inputs' shapes, bind caller buffers and arena
// offsets, call each step's kernel. At an already-planned shape this path allocates nothing.
#include "inferd/session.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/model_impl.h"
#include "core/plan.h"
#include "core/thread_pool.h"
#include "inferd/error.h"

namespace inferd {

class SessionImpl {
 public:
  SessionImpl(const ModelImpl& model, const SessionOptions& options)
      : model_(model), options_(options), pool_(std::max(options.threads, 1)) {}
  ~SessionImpl() {
    if (arena_) model_.backend->release(arena_);
  }

  Plan& plan_for(const TensorRef* inputs) {
    for (size_t p = 0; p < plans_.size(); ++p)
      if (same_shapes(*plans_[p], inputs)) {
        std::rotate(plans_.begin(), plans_.begin() + static_cast<std::ptrdiff_t>(p),
                    plans_.begin() + static_cast<std::ptrdiff_t>(p) + 1);
        return *plans_.front();
      }
    std::vector<Shape> shapes;
    for (size_t i = 0; i < model_.inputs.size(); ++i) shapes.emplace_back(inputs[i].dims, inputs[i].dims + inputs[i].rank);
    // A shape may depend on a model input's value (Reshape's shape, Resize's scales fed by the
    // caller): such inputs, when small, become part of the plan key, and the plan is made with their
    // values. Each planning failure names one more; stop at the first that cannot be keyed.
    if (inputs_keyed_by_value_.empty()) inputs_keyed_by_value_.assign(model_.inputs.size(), 0);
    for (;;) {
      std::vector<const TensorRef*> values(model_.inputs.size(), nullptr);
      for (size_t i = 0; i < values.size(); ++i)
        if (inputs_keyed_by_value_[i]) values[i] = &inputs[i];
      try {
        return insert(make_plan(model_, shapes, values));
      } catch (const RuntimeValueRequired& e) {
        const int input = e.graph_input;
        if (input < 0 || inputs_keyed_by_value_[static_cast<size_t>(input)] ||
            inputs[input].byte_length > kMaxKeyedInputBytes)
          throw;
        inputs_keyed_by_value_[static_cast<size_t>(input)] = 1;
      }
    }
  }

  Plan& plan_for(const std::vector<Shape>& shapes) {
    for (size_t p = 0; p < plans_.size(); ++p)
      if (plans_[p]->input_shapes == shapes) {
        std::rotate(plans_.begin(), plans_.begin() + static_cast<std::ptrdiff_t>(p),
                    plans_.begin() + static_cast<std::ptrdiff_t>(p) + 1);
        return *plans_.front();
      }
    return insert(make_plan(model_, shapes));
  }

  Plan& insert(std::unique_ptr<Plan> plan) {
    plans_.insert(plans_.begin(), std::move(plan));
    if (plans_.size() > static_cast<size_t>(std::max(options_.plan_cache_size, 1))) plans_.pop_back();
    return *plans_.front();
  }

  void run(const TensorRef* inputs, const TensorRef* outputs) {
    Plan& plan = plan_for(inputs);
    check_outputs(plan, outputs);
    if (plan.arena_bytes > arena_capacity_) {
      // Grows only when a plan needs more than any before: steady state never gets here.
      if (arena_) model_.backend->release(arena_);
      arena_ = nullptr;
      arena_ = model_.backend->allocate(plan.arena_bytes);
      arena_capacity_ = plan.arena_bytes;
    }
    auto* base = static_cast<uint8_t*>(arena_);
    for (ValueId id : plan.arena_values)
      plan.values[static_cast<size_t>(id)].data = base + plan.arena_offset[static_cast<size_t>(id)];
    for (size_t i = 0; i < plan.input_values.size(); ++i)
      plan.values[static_cast<size_t>(plan.input_values[i])].data = inputs[i].data;
    for (const auto& [id, j] : plan.output_bindings) plan.values[static_cast<size_t>(id)].data = outputs[j].data;

    KernelContext ctx;
    ctx.threads = &pool_;
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
    }
    for (const auto& [id, j] : plan.output_copies) {
      const Tensor& t = plan.values[static_cast<size_t>(id)];
      if (t.nbytes() > 0) std::memcpy(outputs[j].data, t.data, t.nbytes());
    }
    ++runs_;
  }

  uint64_t runs() const { return runs_; }
  void set_step_observer(StepObserver* observer) { observer_ = observer; }

 private:
  bool same_shapes(const Plan& plan, const TensorRef* inputs) const {
    for (size_t i = 0; i < plan.input_shapes.size(); ++i) {
      const Shape& s = plan.input_shapes[i];
      if (s.size() != static_cast<size_t>(inputs[i].rank) || !std::equal(s.begin(), s.end(), inputs[i].dims))
        return false;
    }
    for (const auto& [i, value] : plan.keyed_values)
      if (inputs[i].dtype != value->dtype || std::memcmp(inputs[i].data, value->data, value->nbytes()) != 0)
        return false;
    return true;
  }

  void check_outputs(const Plan& plan, const TensorRef* outputs) const {
    for (size_t j = 0; j < plan.output_shapes.size(); ++j) {
      const TensorRef& out = outputs[j];
      const std::string& name = model_.outputs[j].name;
      if (out.dtype != plan.output_dtypes[j])
        fail(ErrorKind::invalid_argument, "output '", name, "' is ", dtype_name(plan.output_dtypes[j]),
             ", the buffer given is ", dtype_name(out.dtype));
      const Shape& shape = plan.output_shapes[j];
      if (out.dims && (static_cast<size_t>(out.rank) != shape.size() || !std::equal(shape.begin(), shape.end(), out.dims)))
        fail(ErrorKind::out_of_range, "output '", name, "' has shape ", shape_to_string(shape),
             ", the buffer given is for ", shape_to_string(Shape(out.dims, out.dims + out.rank)));
      const size_t bytes = static_cast<size_t>(shape_size(shape)) * dtype_size(plan.output_dtypes[j]);
      if (out.byte_length != bytes)
        fail(ErrorKind::out_of_range, "output '", name, "' of shape ", shape_to_string(shape), " needs ", bytes,
             " bytes, the buffer given has ", out.byte_length);
      if (!out.data && bytes > 0) fail(ErrorKind::invalid_argument, "output '", name, "' has no buffer");
    }
  }

  const ModelImpl& model_;
  SessionOptions options_;
  ThreadPool pool_;
  // Inputs larger than this are never treated as shape-deciding values.
  static constexpr size_t kMaxKeyedInputBytes = 1024;

  std::vector<std::unique_ptr<Plan>> plans_;  // most recently used first
  std::vector<char> inputs_keyed_by_value_;   // per input: its value is part of the plan key
  void* arena_ = nullptr;
  size_t arena_capacity_ = 0;
  uint64_t runs_ = 0;
  StepObserver* observer_ = nullptr;
};

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)), impl_(std::make_unique<SessionImpl>(model_->impl(), options)) {}
Session::~Session() = default;

std::vector<Shape> Session::output_shapes(const std::vector<Shape>& input_shapes) {
  return impl_->plan_for(input_shapes).output_shapes;
}

std::vector<Shape> Session::output_shapes(const TensorRef* inputs, size_t input_count) {
  check_inputs(inputs, input_count);
  return impl_->plan_for(inputs).output_shapes;
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
