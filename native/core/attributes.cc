#include "core/attributes.h"

namespace inferd {

const Attribute* Attributes::find(const std::string& name) const {
  for (const Attribute& a : items_)
    if (a.name == name) return &a;
  return nullptr;
}

const Attribute& Attributes::typed(const Attribute& a, Attribute::Type expected, const char* type_name) const {
  if (a.type != expected) fail(ErrorKind::invalid_model, owner_, ": attribute '", a.name, "' must be ", type_name);
  return a;
}

float Attributes::get_float(const std::string& name, float fallback) const {
  const Attribute* a = find(name);
  return a ? typed(*a, Attribute::Type::f, "a float").f : fallback;
}

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  const Attribute* a = find(name);
  return a ? typed(*a, Attribute::Type::i, "an int").i : fallback;
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  const Attribute* a = find(name);
  return a ? typed(*a, Attribute::Type::s, "a string").s : fallback;
}

std::vector<int64_t> Attributes::get_ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  const Attribute* a = find(name);
  return a ? typed(*a, Attribute::Type::ints, "a list of ints").ints : fallback;
}

std::vector<float> Attributes::get_floats(const std::string& name, const std::vector<float>& fallback) const {
  const Attribute* a = find(name);
  return a ? typed(*a, Attribute::Type::floats, "a list of floats").floats : fallback;
}

const Tensor* Attributes::get_tensor(const std::string& name) const {
  const Attribute* a = find(name);
  return a ? &typed(*a, Attribute::Type::t, "a tensor").t : nullptr;
}

int64_t Attributes::require_int(const std::string& name) const {
  const Attribute* a = find(name);
  if (!a) fail(ErrorKind::invalid_model, owner_, ": required attribute '", name, "' is missing");
  return typed(*a, Attribute::Type::i, "an int").i;
}

std::vector<int64_t> Attributes::require_ints(const std::string& name) const {
  const Attribute* a = find(name);
  if (!a) fail(ErrorKind::invalid_model, owner_, ": required attribute '", name, "' is missing");
  return typed(*a, Attribute::Type::ints, "a list of ints").ints;
}

}  // namespace inferd
