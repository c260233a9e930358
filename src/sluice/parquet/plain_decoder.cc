#include "sluice/parquet/plain_decoder.h"

#include <cmath>
#include <cstring>

namespace sluice::parquet {
namespace {

// Julian day of 1970-01-01 (INT96 timestamps count days from the Julian epoch).
constexpr int64_t kJulianEpochDay = 2440588;
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

Status Short(const LeafColumn& column, int64_t n, size_t needed, size_t have) {
  return Err(ErrorCode::kCorruptFile, "PLAIN values of column '" + column.name +
                                          "': " + std::to_string(n) + " values need " +
                                          std::to_string(needed) + " bytes, the page has " +
                                          std::to_string(have));
}

// Big-endian two's complement of 0..16 bytes to __int128.
__int128 BigEndianToInt128(const uint8_t* p, size_t len) {
  if (len == 0) return 0;
  unsigned __int128 v = (p[0] & 0x80) ? ~static_cast<unsigned __int128>(0) : 0;
  for (size_t i = 0; i < len; ++i) v = (v << 8) | p[i];
  return static_cast<__int128>(v);
}

uint8_t* Grow(batch::Column* out, int64_t n, size_t width) {
  const size_t start = out->fixed.size();
  out->fixed.resize(start + static_cast<size_t>(n) * width);
  return out->fixed.data() + start;
}

template <class Src, class Dst>
void Widen(const uint8_t* src, int64_t n, uint8_t* dst) {
  for (int64_t i = 0; i < n; ++i) {
    Src s;
    std::memcpy(&s, src + i * sizeof(Src), sizeof(Src));
    const Dst d = static_cast<Dst>(s);
    std::memcpy(dst + i * sizeof(Dst), &d, sizeof(Dst));
  }
}

Status ByteArrayError(const LeafColumn& column, int64_t i, const char* what) {
  return Err(ErrorCode::kCorruptFile, "PLAIN values of column '" + column.name + "': value " +
                                          std::to_string(i) + ": " + what +
                                          " passes the end of the page");
}

Status DecodeByteArrays(const LeafColumn& column, Cursor* data, int64_t n, batch::Column* out) {
  Cursor probe = *data;
  const ByteView rest = probe.Take(probe.remaining(), "BYTE_ARRAY values").value();
  const uint8_t* base = rest.data();
  const size_t avail = rest.size();
  size_t pos = 0;
  if (column.conversion == Conversion::kBytesDecimal) {
    uint8_t* dst = Grow(out, n, 16);
    for (int64_t i = 0; i < n; ++i) {
      uint32_t length;
      if (avail - pos < 4) return ByteArrayError(column, i, "the length");
      std::memcpy(&length, base + pos, 4);
      pos += 4;
      if (length > avail - pos) return ByteArrayError(column, i, "the value");
      if (length > 16) {
        return Err(ErrorCode::kUnsupportedFormat,
                   "column '" + column.name + "': decimal of " + std::to_string(length) + " bytes");
      }
      const __int128 v = BigEndianToInt128(base + pos, length);
      std::memcpy(dst + i * 16, &v, 16);
      pos += length;
    }
  } else {
    // Pass 1 checks every length against the page and writes the offsets; pass 2 copies the
    // bytes into chars sized once (no per-value growth checks).
    const size_t first = out->offsets.size();
    out->offsets.resize(first + static_cast<size_t>(n));
    int64_t* offsets = out->offsets.data() + first;
    int64_t end = static_cast<int64_t>(out->chars.size());
    const int64_t start = end;
    for (int64_t i = 0; i < n; ++i) {
      uint32_t length;
      if (avail - pos < 4) {
        out->offsets.resize(first);
        return ByteArrayError(column, i, "the length");
      }
      std::memcpy(&length, base + pos, 4);
      pos += 4;
      if (length > avail - pos) {
        out->offsets.resize(first);
        return ByteArrayError(column, i, "the value");
      }
      pos += length;
      end += length;
      offsets[i] = end;
    }
    // All values empty: nothing to copy, and chars may have no storage (memcpy to a null
    // pointer is undefined even for zero bytes).
    if (end != start) {
      out->chars.resize(static_cast<size_t>(end));
      char* dst = out->chars.data() + start;
      const uint8_t* src = base;
      for (int64_t i = 0; i < n; ++i) {
        uint32_t length;
        std::memcpy(&length, src, 4);
        std::memcpy(dst, src + 4, length);
        src += 4 + length;
        dst += length;
      }
    }
  }
  SLUICE_RETURN_IF_ERROR(data->Skip(pos, "BYTE_ARRAY values"));
  out->length += n;
  return Status::Ok();
}

}  // namespace

float HalfToFloat(uint16_t half) {
  const uint32_t sign = half >> 15;
  const uint32_t exponent = (half >> 10) & 0x1f;
  const uint32_t mantissa = half & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? INFINITY : NAN;
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  }
  return sign ? -magnitude : magnitude;
}

Status DecodePlain(const LeafColumn& column, Cursor* data, int64_t n, batch::Column* out) {
  if (n == 0) return Status::Ok();
  if (column.conversion == Conversion::kBytes || column.conversion == Conversion::kBytesDecimal) {
    return DecodeByteArrays(column, data, n, out);
  }
  if (column.conversion == Conversion::kNull) {
    return Err(ErrorCode::kCorruptFile,
               "column '" + column.name + "' of logical type UNKNOWN holds non-null values");
  }
  // Fixed-width physical values: check the byte count once, then convert in a tight loop.
  size_t physical_width = 0;
  switch (column.physical) {
    case PhysicalType::kBoolean:
      physical_width = 0;
      break;
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      physical_width = 4;
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      physical_width = 8;
      break;
    case PhysicalType::kInt96:
      physical_width = 12;
      break;
    case PhysicalType::kFixedLenByteArray:
      physical_width = static_cast<size_t>(column.type_length);
      break;
    case PhysicalType::kByteArray:
      break;
  }
  const size_t needed = column.physical == PhysicalType::kBoolean
                            ? static_cast<size_t>((n + 7) / 8)
                            : static_cast<size_t>(n) * physical_width;
  if (needed > data->remaining() || n < 0) return Short(column, n, needed, data->remaining());
  const uint8_t* src = data->Take(needed, "PLAIN values").value().data();
  switch (column.conversion) {
    case Conversion::kBool: {
      uint8_t* dst = Grow(out, n, 1);
      for (int64_t i = 0; i < n; ++i) dst[i] = (src[i >> 3] >> (i & 7)) & 1;
      break;
    }
    case Conversion::kInt32Signed:
      Widen<int32_t, int64_t>(src, n, Grow(out, n, 8));
      break;
    case Conversion::kInt32Unsigned:
      Widen<uint32_t, int64_t>(src, n, Grow(out, n, 8));
      break;
    case Conversion::kInt32Date:
    case Conversion::kInt64Copy:
    case Conversion::kFloatCopy:
    case Conversion::kDoubleCopy:
    case Conversion::kFixedCopy:
      std::memcpy(Grow(out, n, physical_width), src, needed);
      break;
    case Conversion::kInt32Decimal:
      Widen<int32_t, __int128>(src, n, Grow(out, n, 16));
      break;
    case Conversion::kInt64Decimal:
      Widen<int64_t, __int128>(src, n, Grow(out, n, 16));
      break;
    case Conversion::kInt96Timestamp: {
      uint8_t* dst = Grow(out, n, 8);
      for (int64_t i = 0; i < n; ++i) {
        int64_t nanos;
        int32_t julian_day;
        std::memcpy(&nanos, src + i * 12, 8);
        std::memcpy(&julian_day, src + i * 12 + 8, 4);
        // Floor division keeps pre-epoch nanoseconds exact; the day product fits int64 for
        // every int32 day within +-292,000 years of 1970, wider values wrap like other readers.
        const int64_t micros_of_day = nanos / 1000 - ((nanos % 1000) < 0 ? 1 : 0);
        const int64_t micros =
            static_cast<int64_t>(static_cast<uint64_t>(julian_day - kJulianEpochDay) *
                                     static_cast<uint64_t>(kMicrosPerDay) +
                                 static_cast<uint64_t>(micros_of_day));
        std::memcpy(dst + i * 8, &micros, 8);
      }
      break;
    }
    case Conversion::kFixedBytes: {
      const size_t w = physical_width;
      const size_t old_chars = out->chars.size();
      out->chars.insert(out->chars.end(), src, src + needed);
      out->offsets.reserve(out->offsets.size() + static_cast<size_t>(n));
      for (int64_t i = 1; i <= n; ++i) {
        out->offsets.push_back(static_cast<int64_t>(old_chars + static_cast<size_t>(i) * w));
      }
      break;
    }
    case Conversion::kFixedDecimal: {
      uint8_t* dst = Grow(out, n, 16);
      for (int64_t i = 0; i < n; ++i) {
        const __int128 v =
            BigEndianToInt128(src + static_cast<size_t>(i) * physical_width, physical_width);
        std::memcpy(dst + i * 16, &v, 16);
      }
      break;
    }
    case Conversion::kFloat16: {
      uint8_t* dst = Grow(out, n, 4);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + i * 2, 2);
        const float f = HalfToFloat(h);
        std::memcpy(dst + i * 4, &f, 4);
      }
      break;
    }
    default:
      return Err(ErrorCode::kInternal, "unhandled PLAIN conversion");
  }
  out->length += n;
  return Status::Ok();
}

}  // namespace sluice::parquet
