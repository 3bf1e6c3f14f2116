// The one exception type the core throws. Every message names what is wrong (which tensor, which
// dimension, which op or node, which byte offset of a model file); the N-API binding maps `kind` to a
// JavaScript error class, so no C++ exception ever crosses into JavaScript.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace inferd {

enum class ErrorKind {
  invalid_model,     // the model file is malformed, truncated, or inconsistent
  unsupported,       // the model is valid ONNX but uses something the engine does not implement
  invalid_argument,  // the caller passed a wrong dtype, name or count (→ TypeError in JS)
  out_of_range,      // the caller passed a wrong shape or size (→ RangeError in JS)
  runtime,           // a failure while computing (e.g. an index out of bounds in Gather's data)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
template <typename... Parts> std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

// fail(ErrorKind::invalid_model, "tensor '", name, "' has ", n, " bytes, expected ", m);
template <typename... Parts> [[noreturn]] void fail(ErrorKind kind, Parts&&... parts) {
  throw Error(kind, detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace inferd
