#include "errors.h"

namespace inferd::binding {

const char* error_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_model: return "INFERD_ERR_INVALID_MODEL";
    case ErrorKind::unsupported: return "INFERD_ERR_UNSUPPORTED";
    case ErrorKind::invalid_argument: return "INFERD_ERR_INVALID_ARGUMENT";
    case ErrorKind::out_of_range: return "INFERD_ERR_OUT_OF_RANGE";
    case ErrorKind::runtime: return "INFERD_ERR_RUNTIME";
  }
  return "INFERD_ERR_RUNTIME";
}

Napi::Error to_js_error(Napi::Env env, const Error& error) {
  Napi::Error js_error;
  switch (error.kind()) {
    case ErrorKind::invalid_argument: js_error = Napi::TypeError::New(env, error.what()); break;
    case ErrorKind::out_of_range: js_error = Napi::RangeError::New(env, error.what()); break;
    default: js_error = Napi::Error::New(env, error.what()); break;
  }
  js_error.Set("code", Napi::String::New(env, error_code(error.kind())));
  return js_error;
}

}  // namespace inferd::binding
