// A bounds-checked reader of the protobuf wire format, enough to parse ONNX files without libprotobuf.
//
// A model file is untrusted input: every varint, length, field number and wire type is checked
// against the bytes that remain before it is used, and every failure is an Error(invalid_model) that
// gives the absolute byte offset and the path of the message being read, e.g.
//   "truncated varint at byte 1234 (in ModelProto.graph.node.attribute)".
//
// Usage (one message, fields in any order, unknown fields skipped):
//   ProtoReader r(data, size, data, "ModelProto");
//   while (r.next())
//     switch (r.field()) {
//       case 1: ir_version = r.read_int64(); break;
//       case 7: parse_graph(r.read_message("graph")); break;
//       default: r.skip();
//     }
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "inferd/error.h"

namespace inferd {

// The encoded elements of one occurrence of a repeated scalar field: a packed field's payload, or a
// single unpacked element. Protobuf allows both encodings (and any mix of them) for the same field.
struct ProtoRun {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t offset = 0;  // absolute byte offset of data[0], for error messages
};

class ProtoReader {
 public:
  enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };
  static constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;

  // Reads the message in [data, data + size). `origin` is the first byte of the whole file (offsets in
  // errors are counted from it); `name` is the message's name in error paths ("ModelProto", "graph").
  ProtoReader(const uint8_t* data, size_t size, const uint8_t* origin, const char* name,
              const ProtoReader* parent = nullptr)
      : pos_(data ? data : empty_), end_(pos_ + (data ? size : 0)), origin_(data ? origin : empty_),
        name_(name), parent_(parent) {}

  // Moves to the next field; false at the end of the message.
  bool next() {
    if (pos_ == end_) return false;
    tag_pos_ = pos_;
    const uint64_t tag = take_varint("tag");
    const uint64_t field = tag >> 3;
    wire_ = static_cast<uint32_t>(tag & 7);
    if (field == 0 || field > kMaxFieldNumber) fail_at(tag_pos_, "invalid field number ", field);
    field_ = static_cast<uint32_t>(field);
    if (wire_ == 3 || wire_ == 4)
      fail_at(tag_pos_, "field ", field_, " is a protobuf group (wire type ", wire_, "), which ONNX never uses");
    if (wire_ != kVarint && wire_ != kFixed64 && wire_ != kLengthDelimited && wire_ != kFixed32)
      fail_at(tag_pos_, "field ", field_, " has invalid wire type ", wire_);
    return true;
  }

  uint32_t field() const { return field_; }
  uint32_t wire_type() const { return wire_; }
  // Absolute offset of the current field's tag.
  size_t field_offset() const { return static_cast<size_t>(tag_pos_ - origin_); }

  uint64_t read_varint() {
    expect(kVarint);
    return take_varint("varint");
  }
  int64_t read_int64() { return static_cast<int64_t>(read_varint()); }
  // int32 fields are sign-extended to 64 bits on the wire; anything outside int32 is corrupt.
  int32_t read_int32() {
    const int64_t v = read_int64();
    if (v < INT32_MIN || v > INT32_MAX) fail_at(tag_pos_, "field ", field_, " holds ", v, ", which does not fit int32");
    return static_cast<int32_t>(v);
  }
  uint32_t read_fixed32() {
    expect(kFixed32);
    return take_fixed32();
  }
  float read_float() {
    const uint32_t bits = read_fixed32();
    float out;
    std::memcpy(&out, &bits, 4);
    return out;
  }

  // A length-delimited field's bytes, viewing the input buffer.
  std::string_view read_bytes() {
    expect(kLengthDelimited);
    const uint8_t* start = take_length_delimited();
    return {reinterpret_cast<const char*>(start), static_cast<size_t>(pos_ - start)};
  }
  std::string read_string() { return std::string(read_bytes()); }

  // A nested message; `name` extends the error path ("ModelProto.graph.node").
  ProtoReader read_message(const char* name) {
    expect(kLengthDelimited);
    const uint8_t* start = take_length_delimited();
    return ProtoReader(start, static_cast<size_t>(pos_ - start), origin_, name, this);
  }

  // One occurrence of a repeated scalar field whose elements have wire type `scalar`, packed or not.
  // Fixed-size runs are checked to hold whole elements; varint runs are checked by count_varints.
  ProtoRun read_run(WireType scalar) {
    const uint8_t* start;
    if (wire_ == kLengthDelimited) {
      start = take_length_delimited();
      const size_t size = static_cast<size_t>(pos_ - start);
      const size_t width = scalar == kFixed32 ? 4 : scalar == kFixed64 ? 8 : 1;
      if (size % width != 0)
        fail_at(tag_pos_, "packed field ", field_, " has ", size, " bytes, not a multiple of ", width);
    } else {
      expect(scalar);
      start = pos_;
      if (scalar == kVarint) take_varint("varint");
      else if (scalar == kFixed32) take_fixed32();
      else take_fixed(8, "fixed64");
    }
    return {start, static_cast<size_t>(pos_ - start), static_cast<size_t>(start - origin_)};
  }

  // Elements in a run of wire type `scalar`; for varints, also checks that every one is complete and
  // at most 10 bytes long, so that decode_varint may then walk the run without checks.
  size_t count_elements(const ProtoRun& run, WireType scalar) const {
    if (scalar == kFixed32) return run.size / 4;
    if (scalar == kFixed64) return run.size / 8;
    size_t count = 0, length = 0;
    for (size_t i = 0; i < run.size; ++i) {
      ++length;
      if (run.data[i] < 0x80) {
        ++count;
        length = 0;
      } else if (length == 10) {
        fail_at_offset(run.offset + i + 1 - length, "varint longer than 10 bytes");
      }
    }
    if (length != 0) fail_at_offset(run.offset + run.size - length, "truncated varint");
    return count;
  }
  // Decodes the varint at `p` (in a run that count_elements accepted) and advances `p` past it.
  static uint64_t decode_varint(const uint8_t*& p) {
    uint64_t value = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t b = *p++;
      if (shift < 64) value |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return value;
    }
  }

  // Every element of a repeated varint field occurrence, as uint64, in order.
  template <typename F> void read_varints(F&& each) {
    const ProtoRun run = read_run(kVarint);
    count_elements(run, kVarint);
    for (const uint8_t* p = run.data; p != run.data + run.size;) each(decode_varint(p));
  }
  // Every element of a repeated float field occurrence, in order.
  template <typename F> void read_floats(F&& each) {
    const ProtoRun run = read_run(kFixed32);
    for (size_t i = 0; i < run.size; i += 4) {
      float v;
      std::memcpy(&v, run.data + i, 4);  // little-endian hosts only, as everywhere in the engine
      each(v);
    }
  }

  // Skips the current field, whatever its wire type.
  void skip() {
    switch (wire_) {
      case kVarint: take_varint("varint"); break;
      case kFixed64: take_fixed(8, "fixed64"); break;
      case kLengthDelimited: take_length_delimited(); break;
      default: take_fixed32(); break;
    }
  }

  // "ModelProto.graph.node.attribute"
  std::string path() const {
    return parent_ ? parent_->path() + "." + name_ : std::string(name_);
  }

  // Throws Error(invalid_model) about the current field: "<parts> at byte N (in <path>)".
  template <typename... Parts> [[noreturn]] void fail(Parts&&... parts) const {
    fail_at(tag_pos_, std::forward<Parts>(parts)...);
  }

 private:
  template <typename... Parts> [[noreturn]] void fail_at(const uint8_t* where, Parts&&... parts) const {
    fail_at_offset(static_cast<size_t>(where - origin_), std::forward<Parts>(parts)...);
  }
  template <typename... Parts> [[noreturn]] void fail_at_offset(size_t offset, Parts&&... parts) const {
    inferd::fail(ErrorKind::invalid_model, std::forward<Parts>(parts)..., " at byte ", offset, " (in ", path(), ")");
  }

  void expect(WireType wire) const {
    if (wire_ != wire) fail_at(tag_pos_, "field ", field_, " has wire type ", wire_, ", expected ", static_cast<uint32_t>(wire));
  }

  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }

  uint64_t take_varint(const char* what) {
    const uint8_t* start = pos_;
    uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ == end_) fail_at(start, "truncated ", what);
      const uint8_t b = *pos_++;
      // The tenth byte may only carry bit 63.
      if (i == 9 && b > 1) fail_at(start, what, " overflows 64 bits");
      value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) return value;
    }
    fail_at(start, what, " longer than 10 bytes");
  }

  void take_fixed(size_t width, const char* what) {
    if (remaining() < width) fail_at(pos_, "truncated ", what);
    pos_ += width;
  }

  uint32_t take_fixed32() {
    const uint8_t* p = pos_;
    take_fixed(4, "fixed32");
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
  }

  // Reads a length prefix, checks it against what remains, and returns the payload's first byte
  // (pos_ is left just past the payload).
  const uint8_t* take_length_delimited() {
    const uint64_t length = take_varint("length");
    if (length > remaining())
      fail_at(tag_pos_, "field ", field_, " declares ", length, " bytes but only ", remaining(), " remain");
    const uint8_t* start = pos_;
    pos_ += length;
    return start;
  }

  static inline const uint8_t empty_[1] = {0};
  const uint8_t* pos_;
  const uint8_t* end_;
  const uint8_t* origin_;
  const uint8_t* tag_pos_ = pos_;
  const char* name_;
  const ProtoReader* parent_;
  uint32_t field_ = 0;
  uint32_t wire_ = 0;
};

}  // namespace inferd
