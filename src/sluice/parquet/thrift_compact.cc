#include "sluice/parquet/thrift_compact.h"

#include <limits>

namespace sluice::parquet {

Result<uint64_t> CompactReader::ReadVarint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    SLUICE_ASSIGN_OR_RETURN(uint8_t byte, cursor_.ReadU8("thrift varint"));
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return Corrupt("varint longer than 10 bytes");
}

Result<int16_t> CompactReader::ReadI16() {
  SLUICE_ASSIGN_OR_RETURN(int64_t v, ReadI64());
  if (v < std::numeric_limits<int16_t>::min() || v > std::numeric_limits<int16_t>::max()) {
    return Corrupt("i16 out of range: " + std::to_string(v));
  }
  return static_cast<int16_t>(v);
}

Result<int32_t> CompactReader::ReadI32() {
  SLUICE_ASSIGN_OR_RETURN(int64_t v, ReadI64());
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return Corrupt("i32 out of range: " + std::to_string(v));
  }
  return static_cast<int32_t>(v);
}

Result<int64_t> CompactReader::ReadI64() {
  SLUICE_ASSIGN_OR_RETURN(uint64_t raw, ReadVarint());
  return ZigZagDecode(raw);
}

Result<std::string> CompactReader::ReadString() {
  SLUICE_ASSIGN_OR_RETURN(uint64_t length, ReadVarint());
  if (length > kMaxThriftStringBytes) {
    return Corrupt("string of " + std::to_string(length) + " bytes exceeds kMaxThriftStringBytes");
  }
  SLUICE_ASSIGN_OR_RETURN(ByteView bytes, cursor_.Take(length, "thrift string"));
  return std::string(AsChars(bytes));
}

Status CompactReader::ReadListHeader(CType* element_type, uint32_t* size) {
  SLUICE_ASSIGN_OR_RETURN(uint8_t header, cursor_.ReadU8("thrift list header"));
  *element_type = static_cast<CType>(header & 0x0f);
  uint64_t n = header >> 4;
  if (n == 15) {
    SLUICE_ASSIGN_OR_RETURN(n, ReadVarint());
  }
  // Every element takes at least one byte, so a size beyond the remaining bytes is a lie.
  if (n > kMaxThriftContainerSize || n > cursor_.remaining()) {
    return Corrupt("list of " + std::to_string(n) + " elements exceeds the remaining " +
                   std::to_string(cursor_.remaining()) + " bytes or kMaxThriftContainerSize");
  }
  *size = static_cast<uint32_t>(n);
  return Status::Ok();
}

Status CompactReader::ExpectType(CType got, CType want) {
  if (got == want) return Status::Ok();
  return Corrupt("field has wire type " + std::to_string(static_cast<int>(got)) + ", expected " +
                 std::to_string(static_cast<int>(want)));
}

Status CompactReader::ReadField(CType type, int8_t* out) {
  SLUICE_RETURN_IF_ERROR(ExpectType(type, CType::kByte));
  SLUICE_ASSIGN_OR_RETURN(uint8_t byte, cursor_.ReadU8("thrift byte"));
  *out = static_cast<int8_t>(byte);
  return Status::Ok();
}

Status CompactReader::ReadField(CType type, int32_t* out) {
  SLUICE_RETURN_IF_ERROR(ExpectType(type, CType::kI32));
  SLUICE_ASSIGN_OR_RETURN(*out, ReadI32());
  return Status::Ok();
}

Status CompactReader::ReadField(CType type, int64_t* out) {
  SLUICE_RETURN_IF_ERROR(ExpectType(type, CType::kI64));
  SLUICE_ASSIGN_OR_RETURN(*out, ReadI64());
  return Status::Ok();
}

Status CompactReader::ReadField(CType type, bool* out) {
  if (type != CType::kBoolTrue && type != CType::kBoolFalse) {
    return ExpectType(type, CType::kBoolTrue);
  }
  *out = type == CType::kBoolTrue;
  return Status::Ok();
}

Status CompactReader::ReadField(CType type, std::string* out) {
  SLUICE_RETURN_IF_ERROR(ExpectType(type, CType::kBinary));
  SLUICE_ASSIGN_OR_RETURN(*out, ReadString());
  return Status::Ok();
}

Status CompactReader::Skip(CType type, bool in_container) {
  switch (type) {
    case CType::kBoolTrue:
    case CType::kBoolFalse:
      if (in_container) return cursor_.Skip(1, "thrift bool");
      return Status::Ok();
    case CType::kByte:
      return cursor_.Skip(1, "thrift byte");
    case CType::kI16:
    case CType::kI32:
    case CType::kI64:
      return ReadVarint().status();
    case CType::kDouble:
      return cursor_.Skip(8, "thrift double");
    case CType::kBinary: {
      SLUICE_ASSIGN_OR_RETURN(uint64_t length, ReadVarint());
      return cursor_.Skip(length, "thrift binary");
    }
    case CType::kList:
    case CType::kSet: {
      CType element;
      uint32_t size;
      SLUICE_RETURN_IF_ERROR(ReadListHeader(&element, &size));
      if (++depth_ > kMaxThriftDepth) return Corrupt("containers nested too deeply");
      for (uint32_t i = 0; i < size; ++i) SLUICE_RETURN_IF_ERROR(Skip(element, true));
      --depth_;
      return Status::Ok();
    }
    case CType::kMap: {
      SLUICE_ASSIGN_OR_RETURN(uint64_t size, ReadVarint());
      if (size == 0) return Status::Ok();
      if (size > kMaxThriftContainerSize || size > cursor_.remaining()) {
        return Corrupt("map of " + std::to_string(size) + " entries exceeds the remaining bytes");
      }
      SLUICE_ASSIGN_OR_RETURN(uint8_t types, cursor_.ReadU8("thrift map types"));
      if (++depth_ > kMaxThriftDepth) return Corrupt("containers nested too deeply");
      for (uint64_t i = 0; i < size; ++i) {
        SLUICE_RETURN_IF_ERROR(Skip(static_cast<CType>(types >> 4), true));
        SLUICE_RETURN_IF_ERROR(Skip(static_cast<CType>(types & 0x0f), true));
      }
      --depth_;
      return Status::Ok();
    }
    case CType::kStruct:
      return ReadStruct([this](int16_t, CType t) { return Skip(t); });
    case CType::kStop:
      break;
  }
  return Corrupt("cannot skip a value of wire type " + std::to_string(static_cast<int>(type)));
}

}  // namespace sluice::parquet
