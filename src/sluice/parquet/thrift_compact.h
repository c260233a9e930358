#pragma once
// Thrift compact protocol, read side: just enough to walk Parquet's footer and page headers.
//
// Grammar (Thrift compact protocol spec, thrift/doc/specs/thrift-compact-protocol.md):
//
//   struct      := field* STOP(0x00)
//   field       := header value
//   header      := (delta:4 | type:4)                  delta in 1..15 -> id = previous id + delta
//                | (0000 | type:4) id:zigzag-varint-i16  long form
//   type        := 1 BOOL_TRUE | 2 BOOL_FALSE | 3 BYTE | 4 I16 | 5 I32 | 6 I64 | 7 DOUBLE
//                | 8 BINARY | 9 LIST | 10 SET | 11 MAP | 12 STRUCT
//   i16/i32/i64 := zigzag varint (ULEB128 of (n << 1) ^ (n >> 63))
//   binary      := length:varint bytes
//   list / set  := (size:4 | elem_type:4) when size < 15, else (1111 | elem_type:4) size:varint;
//                  then size elements (a bool element is one byte: 1 = true)
//   map         := size:varint, then (key_type:4 | value_type:4) if size > 0, then pairs
//   double      := 8 bytes little-endian
//
// Worked example: bytes 15 04 18 03 61 62 63 00 are a struct with field 1 = i32 2
// (0x15 = delta 1, type 5; 0x04 = zigzag 2) and field 2 = binary "abc" (0x18 = delta 1,
// type 8; length 3), then STOP.
//
// A field's value must be consumed by the handler (a Read* call or Skip). Unknown fields are
// skipped, so newer writers' additions are harmless. Sizes are checked against the remaining
// bytes and kMaxThrift* before anything is allocated; nesting is bounded by kMaxThriftDepth.

#include <cstdint>
#include <string>

#include "sluice/core/core.h"
#include "sluice/parquet/limits.h"

namespace sluice::parquet {

enum class CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Zigzag decoding of a varint payload (exposed for tests).
inline int64_t ZigZagDecode(uint64_t n) {
  return static_cast<int64_t>(n >> 1) ^ -static_cast<int64_t>(n & 1);
}

class CompactReader {
 public:
  explicit CompactReader(ByteView bytes) : cursor_(bytes) {}

  size_t position() const { return cursor_.position(); }

  // Walks one struct, calling `on_field(int16_t id, CType type) -> Status` per field.
  template <class F>
  Status ReadStruct(F&& on_field) {
    if (++depth_ > kMaxThriftDepth) return Corrupt("structs nested deeper than kMaxThriftDepth");
    int16_t last_id = 0;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(uint8_t header, cursor_.ReadU8("thrift field header"));
      const CType type = static_cast<CType>(header & 0x0f);
      if (type == CType::kStop) break;
      if (static_cast<uint8_t>(type) > static_cast<uint8_t>(CType::kStruct)) {
        return Corrupt("unknown field type " + std::to_string(header & 0x0f));
      }
      int16_t id;
      if (const int delta = header >> 4; delta != 0) {
        id = static_cast<int16_t>(last_id + delta);
      } else {
        SLUICE_ASSIGN_OR_RETURN(id, ReadI16());
      }
      last_id = id;
      SLUICE_RETURN_IF_ERROR(on_field(id, type));
    }
    --depth_;
    return Status::Ok();
  }

  Result<uint64_t> ReadVarint();
  Result<int16_t> ReadI16();
  Result<int32_t> ReadI32();
  Result<int64_t> ReadI64();
  Result<std::string> ReadString();
  // Reads a list/set header; `size` is checked against the remaining bytes and the limit.
  Status ReadListHeader(CType* element_type, uint32_t* size);

  // Field readers: check that the field's wire type is the one the schema declares.
  Status ReadField(CType type, int8_t* out);
  Status ReadField(CType type, int32_t* out);
  Status ReadField(CType type, int64_t* out);
  Status ReadField(CType type, bool* out);
  Status ReadField(CType type, std::string* out);

  // Skips one value of `type`; `in_container` distinguishes bools (one byte in lists, none in
  // fields).
  Status Skip(CType type, bool in_container = false);

  static Status Corrupt(const std::string& what) {
    return Err(ErrorCode::kCorruptFile, "thrift: " + what);
  }

 private:
  Status ExpectType(CType got, CType want);

  Cursor cursor_;
  int depth_ = 0;
};

}  // namespace sluice::parquet
