#pragma once
// The PostgreSQL ceiling's (pg_ceiling.cc) own encoder of PostgreSQL's binary COPY format, for
// flat batches of sluice's Parquet reader. It is the peer's code, not sluice's: the ceiling
// encodes a whole file into memory before its clock starts, so that its clock covers only
// libpq and the server.
//
// The stream (PostgreSQL docs, "COPY", "Binary Format"); every integer is big-endian:
//
//   header   "PGCOPY\n\377\r\n\0"  int32 flags (0)  int32 extension length (0)
//   tuple    int16 field count, then per field: int32 byte length (-1: NULL) and the bytes
//   trailer  int16 -1
//
// Field bytes are each type's binary send format:
//
//   bool         1 byte, 0 or 1
//   int2/4/8     2/4/8 bytes
//   float4/8     the IEEE bits, 4/8 bytes
//   text         the UTF-8 bytes, no terminator
//   date         int32 days since 2000-01-01
//   timestamp    int64 microseconds since 2000-01-01 00:00 (timestamptz: UTC)
//   numeric      int16 ndigits, int16 weight, int16 sign (0x0000 +, 0x4000 -), int16 dscale,
//                then ndigits int16 base-10000 digits, most significant first; the value is
//                sum(digit[i] * 10000^(weight - i)).
//
// Worked numeric example: 123.45 as DECIMAL(18,2) (unscaled 12345, scale 2). Padded to a
// whole number of base-10000 fraction digits: 12345 * 10^2 = 1234500 = 123|4500, one fraction
// digit, so weight = 2 - 1 - 1 = 0, digits [123, 4500], dscale 2:
//   00 02  00 00  00 00  00 02  00 7b  11 94
// Zero is ndigits 0, weight 0, sign 0, dscale = scale. Leading and trailing zero digits are
// left out, as PostgreSQL's own numeric_send does.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"

namespace sluice_bench {

using sluice::batch::Column;
using sluice::batch::TimeUnit;
using sluice::batch::TypeId;

// Days and microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = int64_t{kPgEpochDays} * 86400 * 1000000;

// The PostgreSQL type a column of `type` is created with when the table is not given (the
// types docs/design/pool.md gives the PostgreSQL pool), or "" for a type this ceiling does not
// encode.
inline std::string PgTypeOf(const sluice::batch::DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
      return "boolean";
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kUInt8:
      return "smallint";
    case TypeId::kInt32:
    case TypeId::kUInt16:
      return "integer";
    case TypeId::kInt64:
    case TypeId::kUInt32:
      return "bigint";
    case TypeId::kFloat:
      return "real";
    case TypeId::kDouble:
      return "double precision";
    case TypeId::kDecimal:
      return "numeric(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
    case TypeId::kString:
      return "text";
    case TypeId::kDate:
      return "date";
    case TypeId::kTimestamp:
      return type.utc ? "timestamp with time zone" : "timestamp without time zone";
    default:
      return "";
  }
}

class CopyEncoder {
 public:
  explicit CopyEncoder(std::string* out) : out_(out) {}

  void Header() { out_->append("PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19); }
  void Trailer() { Be16(0xffff); }

  // Appends rows [0, n) of `columns` as tuples, each followed by an int8 field holding
  // first_row + its index when `with_row` (the staging table's row number).
  void Rows(const std::vector<Column>& columns, int64_t n, bool with_row, int64_t first_row) {
    const uint16_t fields = static_cast<uint16_t>(columns.size() + (with_row ? 1 : 0));
    for (int64_t r = 0; r < n; ++r) {
      Be16(fields);
      for (const Column& c : columns) Field(c, r);
      if (with_row) {
        Be32(8);
        Be64(static_cast<uint64_t>(first_row + r));
      }
    }
  }

 private:
  void Be16(uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out_->append(b, 2);
  }
  void Be32(uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    out_->append(b, 4);
  }
  void Be64(uint64_t v) {
    Be32(static_cast<uint32_t>(v >> 32));
    Be32(static_cast<uint32_t>(v));
  }

  static int64_t Micros(int64_t v, TimeUnit unit) {
    switch (unit) {
      case TimeUnit::kMillis:
        return v * 1000;
      case TimeUnit::kNanos:
        return v / 1000;
      default:
        return v;
    }
  }

  void Numeric(__int128 unscaled, int32_t scale) {
    const bool negative = unscaled < 0;
    unsigned __int128 v = negative ? -static_cast<unsigned __int128>(unscaled) : unscaled;
    const int32_t frac_digits = (scale + 3) / 4;
    for (int32_t i = scale; i < frac_digits * 4; ++i) v *= 10;
    uint16_t groups[12];  // 38 digits + 3 of padding fit in 11 base-10000 digits
    int n = 0;
    while (v != 0) {
      groups[n++] = static_cast<uint16_t>(v % 10000);
      v /= 10000;
    }
    int low = 0;  // trailing zero digits are left out; the weight does not change
    while (low < n && groups[low] == 0) ++low;
    const int ndigits = n - low;
    const int weight = ndigits == 0 ? 0 : n - 1 - frac_digits;
    Be32(static_cast<uint32_t>(8 + 2 * ndigits));
    Be16(static_cast<uint16_t>(ndigits));
    Be16(static_cast<uint16_t>(static_cast<int16_t>(weight)));
    Be16(negative && ndigits != 0 ? 0x4000 : 0);
    Be16(static_cast<uint16_t>(scale));
    for (int i = n - 1; i >= low; --i) Be16(groups[i]);
  }

  void Field(const Column& c, int64_t r) {
    if (!c.IsValid(r)) {
      Be32(0xffffffff);
      return;
    }
    switch (c.type.id) {
      case TypeId::kBool:
        Be32(1);
        out_->push_back(c.fixed[static_cast<size_t>(r)] ? 1 : 0);
        return;
      case TypeId::kInt8:
      case TypeId::kInt16:
      case TypeId::kUInt8:
        Be32(2);
        Be16(static_cast<uint16_t>(c.Value<int64_t>(r)));
        return;
      case TypeId::kInt32:
      case TypeId::kUInt16:
        Be32(4);
        Be32(static_cast<uint32_t>(c.Value<int64_t>(r)));
        return;
      case TypeId::kInt64:
      case TypeId::kUInt32:
        Be32(8);
        Be64(static_cast<uint64_t>(c.Value<int64_t>(r)));
        return;
      case TypeId::kFloat: {
        uint32_t bits;
        const float f = c.Value<float>(r);
        std::memcpy(&bits, &f, 4);
        Be32(4);
        Be32(bits);
        return;
      }
      case TypeId::kDouble: {
        uint64_t bits;
        const double d = c.Value<double>(r);
        std::memcpy(&bits, &d, 8);
        Be32(8);
        Be64(bits);
        return;
      }
      case TypeId::kDecimal:
        Numeric(c.Value<__int128>(r), c.type.scale);
        return;
      case TypeId::kString: {
        const std::string_view s = c.StringAt(r);
        Be32(static_cast<uint32_t>(s.size()));
        out_->append(s);
        return;
      }
      case TypeId::kDate:
        Be32(4);
        Be32(static_cast<uint32_t>(c.Value<int32_t>(r) - kPgEpochDays));
        return;
      case TypeId::kTimestamp:
        Be32(8);
        Be64(static_cast<uint64_t>(Micros(c.Value<int64_t>(r), c.type.unit) - kPgEpochMicros));
        return;
      default:  // refused by PgTypeOf before any row is encoded
        Be32(0xffffffff);
        return;
    }
  }

  std::string* out_;
};

}  // namespace sluice_bench
