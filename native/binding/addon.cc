// The inferd addon: a thin N-API layer over the engine's public C++ API. It computes nothing itself;
// it checks arguments, points engine tensors at typed array memory and maps errors.
//
//   exports.Session        see session_wrap.h
//   exports.inspect(path)  Model::inspect_file as a plain object (see model_info.h)
//   exports.gpuStats(), exports.registerHostMemory(buffer)  see gpu.h
#include <napi.h>

#include "gpu.h"
#include "model_info.h"
#include "session_wrap.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("Session", inferd::binding::SessionWrap::define(env));
  exports.Set("inspect", Napi::Function::New(env, inferd::binding::inspect_model, "inspect"));
  exports.Set("gpuStats", Napi::Function::New(env, inferd::binding::gpu_stats, "gpuStats"));
  exports.Set("registerHostMemory", Napi::Function::New(env, inferd::binding::register_host_memory, "registerHostMemory"));
  return exports;
}

}  // namespace

NODE_API_MODULE(inferd, init)
