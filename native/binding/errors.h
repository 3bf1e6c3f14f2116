// inferd::Error → JavaScript errors. Caller mistakes become TypeError (a wrong type, name or count)
// or RangeError (a wrong shape or size); everything else is a plain Error. Each carries a stable
// `code` ('INFERD_ERR_…') that callers and the HTTP layer switch on instead of parsing messages.
#pragma once

#include <napi.h>

#include <exception>
#include <new>

#include "inferd/error.h"

namespace inferd::binding {

const char* error_code(ErrorKind kind);

Napi::Error to_js_error(Napi::Env env, const Error& error);

// Runs `body` and turns any C++ exception it throws into a Napi::Error, which node-addon-api rethrows
// as a JavaScript exception. Every entry point of the addon runs inside one: an exception of any other
// type escaping into node-addon-api would terminate the process.
template <typename Body> auto guarded(Napi::Env env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;  // already a JavaScript exception (e.g. a throwing getter on an argument)
  } catch (const Error& error) {
    throw to_js_error(env, error);
  } catch (const std::bad_alloc&) {
    throw to_js_error(env, Error(ErrorKind::runtime, "out of memory"));
  } catch (const std::exception& error) {
    throw to_js_error(env, Error(ErrorKind::runtime, error.what()));
  } catch (...) {
    throw to_js_error(env, Error(ErrorKind::runtime, "unknown native exception"));
  }
}

}  // namespace inferd::binding
