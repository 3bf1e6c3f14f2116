#include "cuda/cuda_executor.h"

#include <cuda_runtime_api.h>

#include <chrono>
#include <cstring>
#include <deque>

#include "core/model_impl.h"
#include "core/plan.h"
#include "core/thread_pool.h"
#include "cuda/blas.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_kernel.h"
#include "cuda/device.h"
#include "cuda/device_memory.h"
#include "inferd/error.h"
#include "inferd/session.h"

namespace inferd::gpu {
namespace {

// A step whose op has only a CPU kernel: what to bring to the host before it and back after.
struct HostStep {
  std::vector<ValueId> downloads;  // inputs computed on the device
  std::vector<ValueId> uploads;    // its outputs
};

// What a plan needs on the device side, made at its first run on this session.
struct DevicePlan {
  // Which Plan this was made for (see find_device_plan).
  const Plan* plan = nullptr;
  const Tensor* values_address = nullptr;
  std::vector<Shape> input_shapes;
  std::vector<std::vector<char>> keyed_bytes;

  // Caller inputs and outputs get device copies in the session's I/O buffer.
  std::vector<size_t> input_offset;                      // per model input
  std::vector<std::pair<ValueId, size_t>> output_offset;  // values bound to caller outputs
  size_t io_bytes = 0;

  // Per entry of plan.step_inputs: the tensor a CUDA kernel reads (plan.values for values computed
  // in the run, a device copy for constants) and, for constants, their host tensor.
  std::vector<const Tensor*> device_inputs;
  std::vector<const Tensor*> host_known;
  std::deque<Tensor> constant_views;                          // device views of constants
  std::vector<std::shared_ptr<DeviceBuffer>> model_constants;  // initializers' process-wide copies
  std::vector<std::unique_ptr<DeviceBuffer>> plan_constants;   // values folded when planning

  // CPU-fallback steps: host copies of the tensors they touch, in the pinned staging buffer.
  std::vector<int> host_step;                 // per step: index into host_steps, or -1 (CUDA kernel)
  std::vector<HostStep> host_steps;
  std::vector<Tensor> host_views;             // one per value a host step touches
  std::vector<int> host_view_of;              // per value: index into host_views, or -1
  std::vector<size_t> host_offset;            // per host view, in the staging buffer
  std::vector<int> host_view_caller_input;    // per host view: the caller input it aliases, or -1
  std::vector<const Tensor*> host_inputs;     // per entry of plan.step_inputs, for host steps
  std::vector<Tensor*> host_outputs;          // per entry of plan.step_outputs, for host steps
  size_t staging_bytes = 0;
};

bool same_identity(const DevicePlan& d, const Plan& plan) {
  if (d.plan != &plan || d.values_address != plan.values.data() || d.input_shapes != plan.input_shapes ||
      d.keyed_bytes.size() != plan.keyed_values.size())
    return false;
  for (size_t k = 0; k < d.keyed_bytes.size(); ++k) {
    const Tensor& t = *plan.keyed_values[k].second;
    if (d.keyed_bytes[k].size() != t.nbytes() || std::memcmp(d.keyed_bytes[k].data(), t.data, t.nbytes()) != 0)
      return false;
  }
  return true;
}

// The executor runs plans made in one piece: a model whose shapes follow from computed data (NonZero,
// If, Loop, a Reshape fed by arithmetic on data) plans in segments, which only the CPU session runs.
void check_single_segment(const Plan& plan) {
  if (!plan.complete() || plan.depth != 0 || plan.outputs_data_dependent)
    fail(ErrorKind::unsupported, "provider 'cuda': ",
         plan.paused_at ? plan.paused_at->label() : std::string("the model"),
         " makes shapes depend on computed data, which the CUDA executor does not run yet (use provider 'cpu')");
  for (const Step& step : plan.steps)
    if (step.data_dependent)
      fail(ErrorKind::unsupported, "provider 'cuda': ", step.node->label(),
           " sizes its outputs from data, which the CUDA executor does not run yet (use provider 'cpu')");
  for (Placement p : plan.placement)
    if (p == Placement::earlier || p == Placement::dynamic)
      fail(ErrorKind::unsupported, "provider 'cuda': the plan holds values of data-dependent size");
  auto inside = [&](const Tensor* t) { return !t || (t >= plan.values.data() && t < plan.values.data() + plan.values.size()); };
  for (const Tensor* t : plan.step_inputs)
    if (!inside(t)) fail(ErrorKind::unsupported, "provider 'cuda': a step reads a value outside its plan");
  for (const Tensor* t : plan.step_outputs)
    if (!inside(t)) fail(ErrorKind::unsupported, "provider 'cuda': a step writes a value outside its plan");
  for (const auto& [t, j] : plan.output_copies)
    if (!inside(t)) fail(ErrorKind::unsupported, "provider 'cuda': an output is a value outside its plan");
}

std::unique_ptr<DevicePlan> make_device_plan(const ModelImpl& model, const Plan& plan) {
  check_single_segment(plan);
  auto d = std::make_unique<DevicePlan>();
  d->plan = &plan;
  d->values_address = plan.values.data();
  d->input_shapes = plan.input_shapes;
  for (const auto& [index, tensor] : plan.keyed_values)
    d->keyed_bytes.emplace_back(static_cast<const char*>(tensor->data),
                                static_cast<const char*>(tensor->data) + tensor->nbytes());

  for (ValueId id : plan.input_values) {
    d->input_offset.push_back(d->io_bytes);
    d->io_bytes += align_up(plan.values[static_cast<size_t>(id)].nbytes());
  }
  for (const auto& [id, j] : plan.output_bindings) {
    d->output_offset.emplace_back(id, d->io_bytes);
    d->io_bytes += align_up(plan.values[static_cast<size_t>(id)].nbytes());
  }

  const Graph& graph = model.graph();
  std::vector<const Tensor*> constant_view(plan.values.size(), nullptr);
  auto device_view_of_constant = [&](ValueId id) -> const Tensor* {
    const size_t v = static_cast<size_t>(id);
    if (constant_view[v]) return constant_view[v];
    const Tensor& host = plan.values[v];
    void* data = nullptr;
    const Tensor* initializer = graph.constant(id);
    if (initializer && initializer->data == host.data) {
      d->model_constants.push_back(device_copy_of(*initializer));
      data = d->model_constants.back()->data();
    } else {
      d->plan_constants.push_back(std::make_unique<DeviceBuffer>(host.nbytes()));
      data = d->plan_constants.back()->data();
      if (host.nbytes() > 0) INFERD_CUDA_CHECK(cudaMemcpy(data, host.data, host.nbytes(), cudaMemcpyHostToDevice));
    }
    d->constant_views.push_back(Tensor::view(host.dtype, host.shape, data));
    return constant_view[v] = &d->constant_views.back();
  };
  auto value_id = [&](const Tensor* t) { return static_cast<ValueId>(t - plan.values.data()); };

  d->device_inputs.assign(plan.step_inputs.size(), nullptr);
  d->host_known.assign(plan.step_inputs.size(), nullptr);
  d->host_inputs.assign(plan.step_inputs.size(), nullptr);
  d->host_outputs.assign(plan.step_outputs.size(), nullptr);
  d->host_view_of.assign(plan.values.size(), -1);

  // Host views are counted first so that host_views never reallocates once pointers into it exist.
  auto needs_host_view = [&](const Tensor* t) {
    return t && plan.placement[static_cast<size_t>(value_id(t))] != Placement::constant;
  };
  std::vector<ValueId> host_view_values;
  for (const Step& step : plan.steps) {
    if (as_cuda_kernel(step.kernel)) continue;
    for (size_t i = 0; i < step.input_count; ++i) {
      const Tensor* t = plan.step_inputs[step.first_input + i];
      if (needs_host_view(t) && d->host_view_of[static_cast<size_t>(value_id(t))] < 0) {
        d->host_view_of[static_cast<size_t>(value_id(t))] = static_cast<int>(host_view_values.size());
        host_view_values.push_back(value_id(t));
      }
    }
    for (size_t i = 0; i < step.output_count; ++i) {
      const Tensor* t = plan.step_outputs[step.first_output + i];
      if (d->host_view_of[static_cast<size_t>(value_id(t))] < 0) {
        d->host_view_of[static_cast<size_t>(value_id(t))] = static_cast<int>(host_view_values.size());
        host_view_values.push_back(value_id(t));
      }
    }
  }
  for (ValueId id : host_view_values) {
    const Tensor& t = plan.values[static_cast<size_t>(id)];
    d->host_views.push_back(Tensor::view(t.dtype, t.shape, nullptr));
    const bool caller_input = plan.placement[static_cast<size_t>(id)] == Placement::caller_input;
    d->host_view_caller_input.push_back(caller_input ? plan.caller_index[static_cast<size_t>(id)] : -1);
    d->host_offset.push_back(d->staging_bytes);
    if (!caller_input) d->staging_bytes += align_up(t.nbytes());
  }

  for (const Step& step : plan.steps) {
    if (as_cuda_kernel(step.kernel)) {
      d->host_step.push_back(-1);
      for (size_t i = 0; i < step.input_count; ++i) {
        const size_t k = step.first_input + i;
        const Tensor* t = plan.step_inputs[k];
        if (!t) continue;
        if (plan.placement[static_cast<size_t>(value_id(t))] == Placement::constant) {
          d->device_inputs[k] = device_view_of_constant(value_id(t));
          d->host_known[k] = t;
        } else {
          d->device_inputs[k] = t;
        }
      }
      continue;
    }
    d->host_step.push_back(static_cast<int>(d->host_steps.size()));
    HostStep host;
    for (size_t i = 0; i < step.input_count; ++i) {
      const size_t k = step.first_input + i;
      const Tensor* t = plan.step_inputs[k];
      if (!needs_host_view(t)) {
        d->host_inputs[k] = t;  // omitted, or a constant: its host tensor
        continue;
      }
      const ValueId id = value_id(t);
      const int view = d->host_view_of[static_cast<size_t>(id)];
      d->host_inputs[k] = &d->host_views[static_cast<size_t>(view)];
      if (d->host_view_caller_input[static_cast<size_t>(view)] < 0) host.downloads.push_back(id);
    }
    for (size_t i = 0; i < step.output_count; ++i) {
      const size_t k = step.first_output + i;
      const ValueId id = value_id(plan.step_outputs[k]);
      d->host_outputs[k] = &d->host_views[static_cast<size_t>(d->host_view_of[static_cast<size_t>(id)])];
      host.uploads.push_back(id);
    }
    d->host_steps.push_back(std::move(host));
  }
  return d;
}

}  // namespace

bool runs_on_cuda(const ModelImpl& model) { return model.backend && is_cuda_backend(*model.backend); }

struct CudaExecutor::State {
  explicit State(const ModelImpl& m) : model(m) {
    use_compute_device();
    INFERD_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    blas = std::make_unique<BlasHandle>(stream);
  }
  ~State() {
    blas.reset();
    if (stream) cudaStreamDestroy(stream);
  }

  DevicePlan& device_plan_for(const Plan& plan) {
    for (size_t p = 0; p < plans.size(); ++p)
      if (same_identity(*plans[p], plan)) {
        if (p != 0) std::swap(plans[0], plans[p]);
        return *plans[0];
      }
    plans.insert(plans.begin(), make_device_plan(model, plan));
    if (plans.size() > kMaxPlans) plans.pop_back();
    return *plans[0];
  }

  // More than a session's default plan cache, so a plan the session still holds keeps its state.
  static constexpr size_t kMaxPlans = 32;
  const ModelImpl& model;
  cudaStream_t stream = nullptr;
  std::unique_ptr<BlasHandle> blas;
  GrowingBuffer io{GrowingBuffer::Kind::device};
  GrowingBuffer staging{GrowingBuffer::Kind::pinned_host};
  std::vector<std::unique_ptr<DevicePlan>> plans;  // most recently used first
};

CudaExecutor::CudaExecutor(const ModelImpl& model) : state_(std::make_unique<State>(model)) {}
CudaExecutor::~CudaExecutor() = default;

void CudaExecutor::run(Plan& plan, void* arena, const TensorRef* inputs, const TensorRef* outputs,
                       ThreadPool& threads, StepObserver* observer) {
  State& s = *state_;
  use_compute_device();
  DevicePlan& d = s.device_plan_for(plan);
  auto* io = static_cast<uint8_t*>(s.io.reserve(d.io_bytes));
  auto* staging = static_cast<uint8_t*>(d.staging_bytes > 0 ? s.staging.reserve(d.staging_bytes) : nullptr);
  const cudaStream_t stream = s.stream;

  // Bind this run's addresses: the arena, the device copies of caller inputs and outputs, staging.
  auto* base = static_cast<uint8_t*>(arena);
  for (ValueId id : plan.arena_values)
    plan.values[static_cast<size_t>(id)].data = base + plan.arena_offset[static_cast<size_t>(id)];
  for (size_t i = 0; i < plan.input_values.size(); ++i)
    plan.values[static_cast<size_t>(plan.input_values[i])].data = io + d.input_offset[i];
  for (const auto& [id, offset] : d.output_offset) plan.values[static_cast<size_t>(id)].data = io + offset;
  for (size_t h = 0; h < d.host_views.size(); ++h) {
    const int caller = d.host_view_caller_input[h];
    d.host_views[h].data = caller >= 0 ? inputs[caller].data : staging + d.host_offset[h];
  }

  // Whatever happens, queued copies must finish before the caller's buffers are handed back.
  struct SyncOnExit {
    cudaStream_t stream;
    ~SyncOnExit() { cudaStreamSynchronize(stream); }
  } sync_on_exit{stream};

  for (size_t i = 0; i < plan.input_values.size(); ++i)
    if (inputs[i].byte_length > 0)
      INFERD_CUDA_CHECK(cudaMemcpyAsync(io + d.input_offset[i], inputs[i].data, inputs[i].byte_length,
                                        cudaMemcpyHostToDevice, stream));

  CudaContext device_ctx;
  device_ctx.stream = stream;
  device_ctx.blas = s.blas.get();
  KernelContext host_ctx;
  host_ctx.threads = &threads;
  for (size_t k = 0; k < plan.steps.size(); ++k) {
    const Step& step = plan.steps[k];
    std::chrono::steady_clock::time_point started;
    if (observer) {
      INFERD_CUDA_CHECK(cudaStreamSynchronize(stream));
      started = std::chrono::steady_clock::now();
    }
    try {
      if (d.host_step[k] < 0) {
        device_ctx.inputs = d.device_inputs.data() + step.first_input;
        device_ctx.host_inputs = d.host_known.data() + step.first_input;
        device_ctx.input_count = step.input_count;
        device_ctx.outputs = plan.step_outputs.data() + step.first_output;
        device_ctx.output_count = step.output_count;
        static_cast<const CudaKernel*>(step.kernel)->run_on(device_ctx);
        const cudaError_t launched = cudaGetLastError();
        if (launched != cudaSuccess) fail(ErrorKind::runtime, "kernel launch failed: ", cudaGetErrorString(launched));
      } else {
        const HostStep& host = d.host_steps[static_cast<size_t>(d.host_step[k])];
        for (ValueId id : host.downloads) {
          const Tensor& t = plan.values[static_cast<size_t>(id)];
          const Tensor& h = d.host_views[static_cast<size_t>(d.host_view_of[static_cast<size_t>(id)])];
          if (t.nbytes() > 0) INFERD_CUDA_CHECK(cudaMemcpyAsync(h.data, t.data, t.nbytes(), cudaMemcpyDeviceToHost, stream));
        }
        INFERD_CUDA_CHECK(cudaStreamSynchronize(stream));
        host_ctx.inputs = d.host_inputs.data() + step.first_input;
        host_ctx.input_count = step.input_count;
        host_ctx.outputs = d.host_outputs.data() + step.first_output;
        host_ctx.output_count = step.output_count;
        step.kernel->run(host_ctx);
        for (ValueId id : host.uploads) {
          const Tensor& t = plan.values[static_cast<size_t>(id)];
          const Tensor& h = d.host_views[static_cast<size_t>(d.host_view_of[static_cast<size_t>(id)])];
          if (t.nbytes() > 0) INFERD_CUDA_CHECK(cudaMemcpyAsync(t.data, h.data, t.nbytes(), cudaMemcpyHostToDevice, stream));
        }
      }
    } catch (const Error& e) {
      // Kernel errors already name their node; CUDA and launch errors get it here.
      const std::string label = step.node->label();
      if (std::string(e.what()).find(label) != std::string::npos) throw;
      fail(e.kind(), label, " (CUDA): ", e.what());
    } catch (const std::exception& e) {
      fail(ErrorKind::runtime, step.node->label(), " (CUDA): ", e.what());
    }
    if (observer) {
      INFERD_CUDA_CHECK(cudaStreamSynchronize(stream));
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      observer->on_step(step.node->op_type, step.node->name, took.count());
    }
  }

  for (const auto& [id, j] : plan.output_bindings) {
    const Tensor& t = plan.values[static_cast<size_t>(id)];
    if (t.nbytes() > 0)
      INFERD_CUDA_CHECK(cudaMemcpyAsync(outputs[j].data, t.data, t.nbytes(), cudaMemcpyDeviceToHost, stream));
  }
  for (const auto& [copied, j] : plan.output_copies) {
    const size_t v = static_cast<size_t>(copied - plan.values.data());
    const Tensor& t = plan.values[v];
    if (t.nbytes() == 0) continue;
    if (plan.placement[v] == Placement::constant) std::memcpy(outputs[j].data, t.data, t.nbytes());
    else if (plan.placement[v] == Placement::caller_input)
      std::memcpy(outputs[j].data, inputs[plan.caller_index[v]].data, t.nbytes());
    else INFERD_CUDA_CHECK(cudaMemcpyAsync(outputs[j].data, t.data, t.nbytes(), cudaMemcpyDeviceToHost, stream));
  }
  INFERD_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace inferd::gpu
