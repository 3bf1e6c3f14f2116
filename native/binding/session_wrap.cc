#include "session_wrap.h"

#include <cstring>
#include <string>

#include "errors.h"
#include "model_cache.h"
#include "model_info.h"
#include "tensor_views.h"

namespace inferd::binding {
namespace {

// More intra-op threads than this is a caller's mistake, not a machine.
constexpr double kMaxThreads = 1024;

// "x, y": for messages that say what the model expects.
std::string names_of(const std::vector<TensorInfo>& infos) {
  std::string names;
  for (const TensorInfo& info : infos) names += (names.empty() ? "'" : ", '") + info.name + "'";
  return names.empty() ? "none" : names;
}

std::shared_ptr<const Model> load_model(Napi::Value source, const ModelOptions& model_options) {
  if (source.IsString()) return load_model_shared(source.As<Napi::String>().Utf8Value(), model_options);
  if (source.IsTypedArray() && source.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    // Bytes are not cached: nothing identifies them but their content.
    const Napi::Uint8Array bytes = source.As<Napi::Uint8Array>();
    return Model::load_bytes(bytes.Data(), bytes.ByteLength(), model_options);
  }
  fail(ErrorKind::invalid_argument, "new Session(source): source must be a model path (string) or the model bytes (Uint8Array)");
}

// options.optimize (default true): load-time graph optimizations.
// options.provider (default "cpu"): "cpu", "cuda" or "auto" (see ModelOptions::provider).
// options.cpuFallback (default true): with CUDA, ops without a CUDA kernel run on the CPU (else refused).
ModelOptions read_model_options(Napi::Value value) {
  ModelOptions options;
  if (!value.IsObject()) return options;
  const Napi::Value provider = value.As<Napi::Object>().Get("provider");
  if (!provider.IsUndefined()) {
    if (!provider.IsString()) fail(ErrorKind::invalid_argument, "new Session(source, options): options.provider must be a string");
    options.provider = provider.As<Napi::String>().Utf8Value();
  }
  const Napi::Value cpu_fallback = value.As<Napi::Object>().Get("cpuFallback");
  if (!cpu_fallback.IsUndefined()) {
    if (!cpu_fallback.IsBoolean()) fail(ErrorKind::invalid_argument, "new Session(source, options): options.cpuFallback must be a boolean");
    options.cpu_fallback = cpu_fallback.As<Napi::Boolean>().Value();
  }
  const Napi::Value optimize = value.As<Napi::Object>().Get("optimize");
  if (optimize.IsUndefined()) return options;
  if (!optimize.IsBoolean()) fail(ErrorKind::invalid_argument, "new Session(source, options): options.optimize must be a boolean");
  options.optimize = optimize.As<Napi::Boolean>().Value();
  return options;
}

SessionOptions read_options(Napi::Value value) {
  SessionOptions options;
  if (value.IsUndefined() || value.IsNull()) return options;
  if (!value.IsObject()) fail(ErrorKind::invalid_argument, "new Session(source, options): options must be an object");
  const Napi::Value threads = value.As<Napi::Object>().Get("threads");
  if (!threads.IsUndefined()) {
    if (!threads.IsNumber()) fail(ErrorKind::invalid_argument, "new Session(source, options): options.threads must be a number");
    const double count = threads.As<Napi::Number>().DoubleValue();
    if (!(count >= 1 && count <= kMaxThreads) || static_cast<double>(static_cast<int>(count)) != count) {
      fail(ErrorKind::out_of_range, "new Session(source, options): options.threads is ", count,
           "; it must be an integer from 1 to ", kMaxThreads);
    }
    options.threads = static_cast<int>(count);
  }
  return options;
}

// Shapes as a JavaScript array of dims arrays.
Napi::Array shapes_to_js(Napi::Env env, const std::vector<Shape>& shapes) {
  Napi::Array result = Napi::Array::New(env, shapes.size());
  for (size_t o = 0; o < shapes.size(); ++o) {
    Napi::Array dims = Napi::Array::New(env, shapes[o].size());
    for (size_t d = 0; d < shapes[o].size(); ++d) dims.Set(d, static_cast<double>(shapes[o][d]));
    result.Set(o, dims);
  }
  return result;
}

Napi::Array expect_array(Napi::Value value, const char* what, const std::vector<TensorInfo>& infos, const char* role) {
  if (!value.IsArray()) {
    fail(ErrorKind::invalid_argument, "Session.run: ", what, " must be an array with one typed array per model ", role);
  }
  const Napi::Array array = value.As<Napi::Array>();
  if (array.Length() != infos.size()) {
    fail(ErrorKind::invalid_argument, "Session.run: ", what, " has ", array.Length(), " entries; the model has ",
         infos.size(), " ", role, "s (", names_of(infos), ")");
  }
  return array;
}

bool overlaps(const TensorRef& a, const TensorRef& b) {
  const auto* a_begin = static_cast<const char*>(a.data);
  const auto* b_begin = static_cast<const char*>(b.data);
  return a.byte_length != 0 && b.byte_length != 0 && a_begin < b_begin + b.byte_length && b_begin < a_begin + a.byte_length;
}

}  // namespace

Napi::Function SessionWrap::define(Napi::Env env) {
  return DefineClass(env, "Session",
                     {
                         InstanceMethod<&SessionWrap::describe>("describe"),
                         InstanceMethod<&SessionWrap::output_shapes>("outputShapes"),
                         InstanceMethod<&SessionWrap::run>("run"),
                         InstanceAccessor<&SessionWrap::run_count>("runCount"),
                         InstanceAccessor<&SessionWrap::last_output_shapes>("lastOutputShapes"),
                     });
}

SessionWrap::SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {
  guarded(info.Env(), [&] {
    if (info.Length() < 1) fail(ErrorKind::invalid_argument, "new Session(source): source is missing");
    const SessionOptions options = read_options(info[1]);
    model_ = load_model(info[0], read_model_options(info[1]));
    session_ = std::make_unique<Session>(model_, options);
    input_refs_.resize(model_->inputs().size());
    output_refs_.resize(model_->outputs().size());
  });
}

Napi::Value SessionWrap::describe(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return describe_model(info.Env(), *model_); });
}

Napi::Value SessionWrap::run_count(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(session_->run_count()));
}

void SessionWrap::read_input_dims(Napi::Value value) {
  const std::vector<TensorInfo>& inputs = model_->inputs();
  if (!value.IsArray()) fail(ErrorKind::invalid_argument, "inputDims must be an array with one dims array per model input");
  const Napi::Array array = value.As<Napi::Array>();
  if (array.Length() != inputs.size()) {
    fail(ErrorKind::invalid_argument, "inputDims has ", array.Length(), " entries; the model has ", inputs.size(),
         " inputs (", names_of(inputs), ")");
  }
  input_dims_.clear();
  input_ranks_.clear();
  for (size_t i = 0; i < inputs.size(); ++i) {
    input_ranks_.push_back(append_dims(array.Get(static_cast<uint32_t>(i)), inputs[i], "input", input_dims_));
  }
}

const std::vector<Shape>& SessionWrap::plan_output_shapes() {
  if (has_plan_ && planned_input_dims_ == input_dims_ && planned_input_ranks_ == input_ranks_) {
    return planned_output_shapes_;
  }
  std::vector<Shape> input_shapes(input_ranks_.size());
  const int64_t* dims = input_dims_.data();
  for (size_t i = 0; i < input_ranks_.size(); ++i) {
    input_shapes[i].assign(dims, dims + input_ranks_[i]);
    dims += input_ranks_[i];
  }
  has_plan_ = false;
  planned_data_dependent_ = session_->outputs_depend_on_data(input_shapes);
  planned_output_shapes_ = planned_data_dependent_ ? std::vector<Shape>{} : session_->output_shapes(input_shapes);
  planned_input_dims_ = input_dims_;
  planned_input_ranks_ = input_ranks_;
  has_plan_ = true;
  return planned_output_shapes_;
}

Napi::Value SessionWrap::output_shapes(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    read_input_dims(info[0]);
    const std::vector<Shape>& shapes = plan_output_shapes();
    if (planned_data_dependent_) return env.Null();
    return shapes_to_js(env, shapes);
  });
}

void SessionWrap::check_no_overlap(size_t output_index) const {
  const TensorRef& output = output_refs_[output_index];
  const std::vector<TensorInfo>& outputs = model_->outputs();
  for (size_t i = 0; i < input_refs_.size(); ++i) {
    if (overlaps(output, input_refs_[i])) {
      fail(ErrorKind::invalid_argument, "Session.run: output '", outputs[output_index].name,
           "' shares memory with input '", model_->inputs()[i].name, "'; outputs must not alias inputs");
    }
  }
  for (size_t o = 0; o < output_index; ++o) {
    if (overlaps(output, output_refs_[o])) {
      fail(ErrorKind::invalid_argument, "Session.run: output '", outputs[output_index].name,
           "' shares memory with output '", outputs[o].name, "'");
    }
  }
}

Napi::Value SessionWrap::run(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const std::vector<TensorInfo>& inputs = model_->inputs();
    const std::vector<TensorInfo>& outputs = model_->outputs();

    const Napi::Array input_values = expect_array(info[0], "inputs", inputs, "input");
    read_input_dims(info[1]);
    const int64_t* dims = input_dims_.data();
    for (size_t i = 0; i < inputs.size(); ++i) {
      input_refs_[i] = tensor_ref_for(input_values.Get(static_cast<uint32_t>(i)), inputs[i], "input", dims, input_ranks_[i]);
      dims += input_ranks_[i];
    }

    const bool caller_outputs = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull();
    // The plan from dims alone (cached while dims repeat) says whether output sizes follow from
    // data. A model whose shapes need an input's value cannot be planned from dims: it runs with its
    // values, the same way.
    bool data_dependent = false;
    try {
      plan_output_shapes();
      data_dependent = planned_data_dependent_;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::unsupported) throw;
      data_dependent = true;
    }
    if (data_dependent) return run_data_dependent(env, caller_outputs ? info[2] : env.Undefined());
    const std::vector<Shape>& output_shapes = planned_output_shapes_;
    Napi::Array output_values;
    if (caller_outputs) {
      output_values = expect_array(info[2], "outputs", outputs, "output");
    } else {
      output_values = Napi::Array::New(env, outputs.size());
      for (size_t o = 0; o < outputs.size(); ++o) {
        output_values.Set(static_cast<uint32_t>(o), allocate_typed_array(env, outputs[o], shape_size(output_shapes[o])));
      }
    }
    for (size_t o = 0; o < outputs.size(); ++o) {
      const Shape& shape = output_shapes[o];
      output_refs_[o] = tensor_ref_for(output_values.Get(static_cast<uint32_t>(o)), outputs[o], "output",
                                       shape.data(), static_cast<int>(shape.size()));
      if (caller_outputs) check_no_overlap(o);
    }

    session_->run(input_refs_.data(), input_refs_.size(), output_refs_.data(), output_refs_.size());
    last_run_data_dependent_ = false;
    return output_values;
  });
}

Napi::Value SessionWrap::run_data_dependent(Napi::Env env, const Napi::Value& caller_outputs) {
  const std::vector<TensorInfo>& outputs = model_->outputs();
  // The results live in the session until its next run, so they are copied out once, here: into
  // the caller's buffers, which must have the sizes the run produced, or into new typed arrays.
  const std::vector<Tensor>& produced = session_->run_owned(input_refs_.data(), input_refs_.size());
  Napi::Array output_values =
      caller_outputs.IsUndefined() ? Napi::Array::New(env, outputs.size()) : expect_array(caller_outputs, "outputs", outputs, "output");
  last_output_shapes_.resize(outputs.size());  // shapes assigned in place: their capacity is reused
  last_run_data_dependent_ = true;
  for (size_t o = 0; o < outputs.size(); ++o) {
    const Tensor& t = produced[o];
    // An output declared without a type takes the run's (a copy of its description only then).
    TensorInfo retyped;
    const TensorInfo* info = &outputs[o];
    if (info->dtype != t.dtype) {
      retyped = *info;
      retyped.dtype = t.dtype;
      info = &retyped;
    }
    if (caller_outputs.IsUndefined())
      output_values.Set(static_cast<uint32_t>(o), allocate_typed_array(env, *info, t.size()));
    const TensorRef out = tensor_ref_for(output_values.Get(static_cast<uint32_t>(o)), *info, "output", t.shape.data(), t.rank());
    if (t.nbytes() > 0) std::memcpy(out.data, t.data, t.nbytes());
    last_output_shapes_[o].assign(t.shape.begin(), t.shape.end());
  }
  return output_values;
}

Napi::Value SessionWrap::last_output_shapes(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  return shapes_to_js(env, last_run_data_dependent_ ? last_output_shapes_ : planned_output_shapes_);
}

}  // namespace inferd::binding
