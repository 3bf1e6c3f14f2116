#include "gpu.h"

#include "errors.h"
#include "inferd/cuda.h"

namespace inferd::binding {

Napi::Value gpu_stats(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  GpuStats stats;
  if (!read_gpu_stats(&stats)) return env.Null();
  Napi::Object object = Napi::Object::New(env);
  object.Set("name", stats.name);
  object.Set("utilizationPercent", stats.utilization_percent);
  object.Set("memoryUsedBytes", static_cast<double>(stats.memory_used_bytes));
  object.Set("memoryTotalBytes", static_cast<double>(stats.memory_total_bytes));
  return object;
}

// Pinned memory stays pinned for the life of the buffer: slots are allocated once per worker and
// live as long as the process, so there is no unregister call. A SharedArrayBuffer is passed as a
// typed array over it (napi_get_typedarray_info gives its data pointer on every Node version).
Napi::Value register_host_memory(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    void* data = nullptr;
    size_t bytes = 0;
    if (info.Length() >= 1 && info[0].IsTypedArray()) {
      napi_typedarray_type type;
      size_t length = 0, offset = 0;
      napi_value buffer;
      if (napi_get_typedarray_info(env, info[0], &type, &length, &data, &buffer, &offset) != napi_ok)
        fail(ErrorKind::invalid_argument, "registerHostMemory(buffer): cannot read the typed array");
      bytes = info[0].As<Napi::TypedArray>().ByteLength();
    } else if (info.Length() >= 1 && info[0].IsArrayBuffer()) {
      Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
      data = buffer.Data();
      bytes = buffer.ByteLength();
    } else {
      fail(ErrorKind::invalid_argument, "registerHostMemory(buffer): buffer must be a typed array or an ArrayBuffer");
    }
    return Napi::Boolean::New(env, ::inferd::register_host_memory(data, bytes));
  });
}

}  // namespace inferd::binding
