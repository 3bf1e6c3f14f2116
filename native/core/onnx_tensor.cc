// TensorProto → Tensor: dims, element type, and values from raw_data, a typed repeated field or an
// external file, each checked against the declared shape before a byte is allocated.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <utility>
#include <vector>

#include "core/onnx_loader.h"
#include "inferd/error.h"

namespace inferd {
namespace onnx_detail {

const char* onnx_type_name(int64_t data_type) {
  static const char* const names[] = {
      "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool",
      "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16", "float8e4m3fn",
      "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4", "float4e2m1", "float8e8m0",
      "uint2", "int2"};
  if (data_type < 0 || data_type >= static_cast<int64_t>(sizeof(names) / sizeof(names[0]))) return nullptr;
  return names[data_type];
}

std::string read_whole_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    fail(ErrorKind::invalid_argument, "cannot read ", what, " '", path, "': ",
         std::filesystem::exists(path, ec) ? "not a regular file" : "no such file");
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(ErrorKind::invalid_argument, "cannot read ", what, " '", path, "': ", ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::invalid_argument, "cannot open ", what, " '", path, "': ", std::strerror(errno));
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size)
    fail(ErrorKind::invalid_argument, "cannot read ", what, " '", path, "': read ", in.gcount(), " of ", size, " bytes");
  return bytes;
}

std::string directory_of(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

namespace {

// Which typed repeated field carries each element type when raw_data is not used.
enum class TypedField { none, float_data, int32_data, int64_data, double_data, uint64_data };

const char* typed_field_name(TypedField f) {
  switch (f) {
    case TypedField::float_data: return "float_data";
    case TypedField::int32_data: return "int32_data";
    case TypedField::int64_data: return "int64_data";
    case TypedField::double_data: return "double_data";
    case TypedField::uint64_data: return "uint64_data";
    default: return "none";
  }
}

TypedField typed_field_for(DType t) {
  switch (t) {
    case DType::f32: return TypedField::float_data;
    case DType::i32: case DType::i16: case DType::i8: case DType::u16: case DType::u8:
    case DType::boolean: case DType::f16: case DType::bf16: return TypedField::int32_data;
    case DType::i64: return TypedField::int64_data;
    case DType::f64: return TypedField::double_data;
    case DType::u32: case DType::u64: return TypedField::uint64_data;
    default: return TypedField::none;
  }
}

ProtoReader::WireType element_wire_type(TypedField f) {
  switch (f) {
    case TypedField::float_data: return ProtoReader::kFixed32;
    case TypedField::double_data: return ProtoReader::kFixed64;
    default: return ProtoReader::kVarint;
  }
}

// Everything a TensorProto says, gathered first because fields may come in any order.
struct TensorFields {
  std::string name;
  std::vector<int64_t> dims;
  int64_t data_type = 0;
  bool has_raw = false;
  std::string_view raw;
  TypedField typed = TypedField::none;  // the typed field that carries values, if any
  std::vector<ProtoRun> runs;           // its occurrences
  bool has_string_data = false;
  int64_t data_location = 0;
  std::vector<std::pair<std::string, std::string>> external;  // key → value
};

TensorFields read_fields(ProtoReader& r) {
  TensorFields t;
  auto take_typed = [&](TypedField field) {
    if (t.typed != TypedField::none && t.typed != field)
      r.fail("tensor has both ", typed_field_name(t.typed), " and ", typed_field_name(field));
    t.typed = field;
    t.runs.push_back(r.read_run(element_wire_type(field)));
  };
  while (r.next()) {
    switch (r.field()) {
      case 1: r.read_varints([&](uint64_t d) { t.dims.push_back(static_cast<int64_t>(d)); }); break;
      case 2: t.data_type = r.read_int32(); break;
      case 3: fail(ErrorKind::unsupported, "segmented TensorProto (field 'segment') at byte ", r.field_offset(),
                   " is not supported");
      case 4: take_typed(TypedField::float_data); break;
      case 5: take_typed(TypedField::int32_data); break;
      case 6: r.read_bytes(); t.has_string_data = true; break;
      case 7: take_typed(TypedField::int64_data); break;
      case 8: t.name = r.read_string(); break;
      case 9: t.raw = r.read_bytes(); t.has_raw = true; break;
      case 10: take_typed(TypedField::double_data); break;
      case 11: take_typed(TypedField::uint64_data); break;
      case 13: {
        ProtoReader entry = r.read_message("external_data");
        std::string key, value;
        while (entry.next()) {
          if (entry.field() == 1) key = entry.read_string();
          else if (entry.field() == 2) value = entry.read_string();
          else entry.skip();
        }
        t.external.emplace_back(std::move(key), std::move(value));
        break;
      }
      case 14: t.data_location = r.read_int32(); break;
      default: r.skip();
    }
  }
  return t;
}

// A non-negative decimal integer from an external_data entry; nothing else (no sign, no spaces).
int64_t parse_decimal(const std::string& text, const std::string& label, const std::string& key) {
  if (text.empty() || text.size() > 18) fail(ErrorKind::invalid_model, label, ": external_data ", key, " '", text, "' is not a valid byte count");
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') fail(ErrorKind::invalid_model, label, ": external_data ", key, " '", text, "' is not a valid byte count");
    value = value * 10 + (c - '0');
  }
  return value;
}

// Refuses any location that could name a file outside the model's directory by itself: absolute
// paths, drive letters and ".." components. (Symbolic links inside the directory are followed on
// purpose: model caches such as Hugging Face's link each file to a shared blob store.)
void check_location(const std::string& location, const std::string& label) {
  if (location.empty()) fail(ErrorKind::invalid_model, label, ": external_data has no location");
  if (location.find('\0') != std::string::npos)
    fail(ErrorKind::invalid_model, label, ": external_data location contains a NUL byte");
  if (location[0] == '/' || location[0] == '\\' || (location.size() > 1 && location[1] == ':'))
    fail(ErrorKind::invalid_model, label, ": external_data location '", location, "' must be a relative path");
  size_t start = 0;
  while (start <= location.size()) {
    size_t end = location.find_first_of("/\\", start);
    if (end == std::string::npos) end = location.size();
    if (location.compare(start, end - start, "..") == 0)
      fail(ErrorKind::invalid_model, label, ": external_data location '", location,
           "' must not contain '..'");
    start = end + 1;
  }
}

// Finds the tensor's bytes in its external file, checks that the file holds them, and only then
// allocates the tensor and reads them.
Tensor read_external(const TensorFields& t, DType dtype, const std::string& label, const std::string& dir, size_t nbytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  bool seen_location = false, seen_offset = false, seen_length = false;
  for (const auto& [key, value] : t.external) {
    bool* seen = key == "location" ? &seen_location : key == "offset" ? &seen_offset : key == "length" ? &seen_length : nullptr;
    if (!seen) continue;  // "checksum" and future keys do not change where the bytes are
    if (*seen) fail(ErrorKind::invalid_model, label, ": external_data gives '", key, "' twice");
    *seen = true;
    if (key == "location") location = value;
    else if (key == "offset") offset = parse_decimal(value, label, key);
    else length = parse_decimal(value, label, key);
  }
  check_location(location, label);
  if (length >= 0 && static_cast<uint64_t>(length) != nbytes)
    fail(ErrorKind::invalid_model, label, ": external_data length is ", length, " bytes, expected ", nbytes);
  if (dir.empty())
    fail(ErrorKind::invalid_model, label, ": data is in external file '", location,
         "', but the model was given as bytes with no directory to find it in");

  const std::filesystem::path path = std::filesystem::path(dir) / location;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    fail(ErrorKind::invalid_model, label, ": external data file '", path.string(), "' does not exist or is not a regular file");
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec) fail(ErrorKind::invalid_model, label, ": cannot read the size of external data file '", path.string(), "'");
  if (static_cast<uint64_t>(offset) > file_size || nbytes > file_size - static_cast<uint64_t>(offset))
    fail(ErrorKind::invalid_model, label, ": external data file '", path.string(), "' has ", file_size,
         " bytes, too few for ", nbytes, " bytes at offset ", offset);

  Tensor out = Tensor::allocate(dtype, t.dims);
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(out.data), static_cast<std::streamsize>(nbytes));
  if (!in || static_cast<size_t>(in.gcount()) != nbytes)
    fail(ErrorKind::invalid_model, label, ": cannot read ", nbytes, " bytes at offset ", offset,
         " of external data file '", path.string(), "'");
  return out;
}

// Kernels treat bool as bytes that are exactly 0 or 1; files may hold any non-zero byte for true.
void normalize_bools(Tensor& t) {
  if (t.dtype != DType::boolean) return;
  uint8_t* bytes = static_cast<uint8_t*>(t.data);
  for (size_t i = 0, n = t.nbytes(); i < n; ++i) bytes[i] = bytes[i] != 0;
}

// Narrows int32_data values to the tensor's element type, refusing values that do not fit.
template <typename T>
void store_int32_data(const ProtoRun& run, T* dst, int64_t lo, int64_t hi, const std::string& label, size_t& index) {
  for (const uint8_t* p = run.data; p != run.data + run.size; ++index) {
    const int64_t v = static_cast<int64_t>(ProtoReader::decode_varint(p));
    if (v < lo || v > hi)
      fail(ErrorKind::invalid_model, label, ": int32_data[", index, "] = ", v, " is out of range for its element type");
    dst[index] = static_cast<T>(v);
  }
}

void decode_typed(const TensorFields& t, DType dtype, const std::string& label, void* dst) {
  size_t index = 0;
  for (const ProtoRun& run : t.runs) {
    switch (t.typed) {
      case TypedField::float_data:
      case TypedField::double_data:
        std::memcpy(static_cast<uint8_t*>(dst) + index * dtype_size(dtype), run.data, run.size);
        index += run.size / dtype_size(dtype);
        break;
      case TypedField::int64_data: {
        int64_t* out = static_cast<int64_t*>(dst);
        for (const uint8_t* p = run.data; p != run.data + run.size;) out[index++] = static_cast<int64_t>(ProtoReader::decode_varint(p));
        break;
      }
      case TypedField::uint64_data:
        for (const uint8_t* p = run.data; p != run.data + run.size; ++index) {
          const uint64_t v = ProtoReader::decode_varint(p);
          if (dtype == DType::u64) {
            static_cast<uint64_t*>(dst)[index] = v;
          } else {
            if (v > UINT32_MAX) fail(ErrorKind::invalid_model, label, ": uint64_data[", index, "] = ", v, " does not fit uint32");
            static_cast<uint32_t*>(dst)[index] = static_cast<uint32_t>(v);
          }
        }
        break;
      case TypedField::int32_data:
        switch (dtype) {
          case DType::i32: store_int32_data(run, static_cast<int32_t*>(dst), INT32_MIN, INT32_MAX, label, index); break;
          case DType::i16: store_int32_data(run, static_cast<int16_t*>(dst), INT16_MIN, INT16_MAX, label, index); break;
          case DType::i8: store_int32_data(run, static_cast<int8_t*>(dst), INT8_MIN, INT8_MAX, label, index); break;
          case DType::u16: store_int32_data(run, static_cast<uint16_t*>(dst), 0, UINT16_MAX, label, index); break;
          case DType::u8: store_int32_data(run, static_cast<uint8_t*>(dst), 0, UINT8_MAX, label, index); break;
          case DType::boolean: store_int32_data(run, static_cast<uint8_t*>(dst), 0, 1, label, index); break;
          // 16-bit float bit patterns: writers store them unsigned, some sign-extended.
          default: store_int32_data(run, static_cast<uint16_t*>(dst), INT16_MIN, UINT16_MAX, label, index); break;
        }
        break;
      case TypedField::none: break;
    }
  }
}

}  // namespace

Tensor read_tensor(ProtoReader message, const std::string& where, const std::string& external_data_dir,
                   std::string* name) {
  const TensorFields t = read_fields(message);
  if (name) *name = t.name;
  const std::string label = t.name.empty() ? where : where + " '" + t.name + "'";

  if (t.data_type == 0) fail(ErrorKind::invalid_model, label, ": has no data_type");
  if (t.data_type < 0) fail(ErrorKind::invalid_model, label, ": data_type ", t.data_type, " is not a tensor element type");
  // A number past the last type ONNX defines may be a newer ONNX's type: valid, but not ours.
  if (!onnx_type_name(t.data_type))
    fail(ErrorKind::unsupported, label, ": data_type ", t.data_type, " is not an element type this engine knows");
  if (!dtype_is_supported(static_cast<int32_t>(t.data_type)))
    fail(ErrorKind::unsupported, label, ": element type ", onnx_type_name(t.data_type), " (", t.data_type,
         ") is not supported");
  const DType dtype = static_cast<DType>(t.data_type);

  for (size_t i = 0; i < t.dims.size(); ++i)
    if (t.dims[i] < 0) fail(ErrorKind::invalid_model, label, ": dims[", i, "] is ", t.dims[i]);
  int64_t count;
  try {
    count = shape_size(t.dims);
  } catch (const Error& e) {
    fail(ErrorKind::invalid_model, label, ": ", e.what());
  }
  const size_t elem = dtype_size(dtype);
  const auto describe = [&] { return detail::concat(dtype_name(dtype), " ", shape_to_string(t.dims)); };
  // shape_size allows up to 2^62 elements, which times 8 bytes would overflow size_t.
  if (static_cast<uint64_t>(count) > std::numeric_limits<size_t>::max() / elem)
    fail(ErrorKind::invalid_model, label, ": ", describe(), " is too large");
  const size_t nbytes = static_cast<size_t>(count) * elem;

  if (t.has_string_data) fail(ErrorKind::invalid_model, label, ": string_data given for a ", dtype_name(dtype), " tensor");
  if (t.data_location != 0 && t.data_location != 1)
    fail(ErrorKind::invalid_model, label, ": data_location ", t.data_location, " is neither DEFAULT (0) nor EXTERNAL (1)");
  const bool external = t.data_location == 1;
  if (!external && !t.external.empty())
    fail(ErrorKind::invalid_model, label, ": has external_data entries but data_location is not EXTERNAL");

  if (external) {
    if (t.has_raw || t.typed != TypedField::none)
      fail(ErrorKind::invalid_model, label, ": data_location is EXTERNAL but the tensor also holds data inline");
    Tensor out = read_external(t, dtype, label, external_data_dir, nbytes);
    normalize_bools(out);
    return out;
  }

  if (t.has_raw && t.typed != TypedField::none)
    fail(ErrorKind::invalid_model, label, ": has both raw_data and ", typed_field_name(t.typed));
  if (t.has_raw) {
    if (t.raw.size() != nbytes)
      fail(ErrorKind::invalid_model, label, ": raw_data has ", t.raw.size(), " bytes, expected ", nbytes, " for ", describe());
    Tensor out = Tensor::allocate(dtype, t.dims);
    if (nbytes) std::memcpy(out.data, t.raw.data(), nbytes);
    normalize_bools(out);
    return out;
  }

  const TypedField expected = typed_field_for(dtype);
  if (t.typed != TypedField::none && t.typed != expected)
    fail(ErrorKind::invalid_model, label, ": values are in ", typed_field_name(t.typed), ", but a ", dtype_name(dtype),
         " tensor keeps them in ", typed_field_name(expected), " or raw_data");
  size_t have = 0;
  for (const ProtoRun& run : t.runs) have += message.count_elements(run, element_wire_type(t.typed));
  if (have != static_cast<uint64_t>(count)) {
    if (t.typed == TypedField::none)
      fail(ErrorKind::invalid_model, label, ": has no data, expected ", count, " values for ", describe());
    fail(ErrorKind::invalid_model, label, ": ", typed_field_name(t.typed), " has ", have, " values, expected ", count,
         " for ", describe());
  }
  Tensor out = Tensor::allocate(dtype, t.dims);
  decode_typed(t, dtype, label, out.data);
  return out;
}

}  // namespace onnx_detail

Tensor parse_tensor_proto(const uint8_t* data, size_t size, const std::string& external_data_dir) {
  return onnx_detail::read_tensor(ProtoReader(data, size, data, "TensorProto"), "tensor", external_data_dir, nullptr);
}

Tensor load_tensor_proto_file(const std::string& path) {
  const std::string bytes = onnx_detail::read_whole_file(path, "tensor file");
  return parse_tensor_proto(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), onnx_detail::directory_of(path));
}

}  // namespace inferd
