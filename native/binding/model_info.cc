#include "model_info.h"

#include "errors.h"
#include "tensor_views.h"

namespace inferd::binding {
namespace {

// ONNX writes the default operator domain as "" or "ai.onnx"; reports always say "ai.onnx".
const char* domain_name(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain.c_str(); }

}  // namespace

Napi::Array tensor_infos_to_js(Napi::Env env, const std::vector<TensorInfo>& infos) {
  Napi::Array array = Napi::Array::New(env, infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    const TensorInfo& tensor = infos[i];
    Napi::Array dims = Napi::Array::New(env, tensor.dims.size());
    Napi::Array dim_names = Napi::Array::New(env, tensor.dims.size());
    for (size_t d = 0; d < tensor.dims.size(); ++d) {
      dims.Set(d, Napi::Number::New(env, static_cast<double>(tensor.dims[d])));
      const bool named = d < tensor.dim_names.size() && !tensor.dim_names[d].empty();
      dim_names.Set(d, named ? Napi::Value(Napi::String::New(env, tensor.dim_names[d])) : env.Null());
    }
    Napi::Object object = Napi::Object::New(env);
    object.Set("name", tensor.name);
    object.Set("dtype", dtype_js_name(tensor.dtype));
    object.Set("dims", dims);
    object.Set("dimNames", dim_names);
    object.Set("hasShape", tensor.has_shape);
    array.Set(i, object);
  }
  return array;
}

Napi::Object describe_model(Napi::Env env, const Model& model) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("inputs", tensor_infos_to_js(env, model.inputs()));
  object.Set("outputs", tensor_infos_to_js(env, model.outputs()));
  object.Set("opset", static_cast<double>(model.opset()));
  object.Set("weightBytes", static_cast<double>(model.weight_bytes()));
  object.Set("nodeCount", static_cast<double>(model.node_count()));
  object.Set("provider", model.provider());
  return object;
}

Napi::Value inspect_model(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) {
      fail(ErrorKind::invalid_argument, "inspect(path): path must be a string");
    }
    const Model::Inspection inspection = Model::inspect_file(info[0].As<Napi::String>().Utf8Value());

    Napi::Object opsets = Napi::Object::New(env);
    for (const auto& [domain, version] : inspection.opsets) opsets.Set(domain_name(domain), static_cast<double>(version));
    Napi::Object census = Napi::Object::New(env);
    for (const auto& [op_type, count] : inspection.op_census) census.Set(op_type, count);
    Napi::Array unsupported = Napi::Array::New(env, inspection.unsupported.size());
    for (size_t i = 0; i < inspection.unsupported.size(); ++i) {
      const UnsupportedOp& op = inspection.unsupported[i];
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("opType", op.op_type);
      entry.Set("nodeName", op.node_name);
      entry.Set("domain", domain_name(op.domain));
      entry.Set("opset", op.opset);
      unsupported.Set(i, entry);
    }

    Napi::Object object = Napi::Object::New(env);
    object.Set("inputs", tensor_infos_to_js(env, inspection.inputs));
    object.Set("outputs", tensor_infos_to_js(env, inspection.outputs));
    object.Set("opsets", opsets);
    object.Set("opCensus", census);
    object.Set("unsupported", unsupported);
    object.Set("irVersion", static_cast<double>(inspection.ir_version));
    object.Set("producer", inspection.producer);
    object.Set("weightBytes", static_cast<double>(inspection.weight_bytes));
    return object;
  });
}

}  // namespace inferd::binding
