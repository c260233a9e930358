// CopyWriter: the binary COPY stream (the format is in postgres.h, above the class).

#include <libpq-fe.h>

#include <bit>
#include <cstring>

#include "sluice/postgres/postgres.h"
#include "sluice/postgres/postgres_internal.h"

namespace sluice::postgres {
namespace {

constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // + the terminating NUL: 11 bytes

template <class T>
void PutBig(std::string* out, T v) {
  using U = std::make_unsigned_t<T>;
  const auto u = static_cast<U>(v);
  char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) {
    bytes[i] = static_cast<char>(u >> (8 * (sizeof(T) - 1 - i)));
  }
  out->append(bytes, sizeof(T));
}

// Base-10000 digits of the decimal text `digits` (only '0'..'9', no sign) whose last `scale`
// characters are the fraction. Fills the numeric's header fields; strips leading and trailing
// zero groups, as numeric_send does.
void EncodeNumeric(std::string_view digits, int32_t scale, bool negative, std::string* out) {
  // Integer part, left-padded to a multiple of 4; fraction, right-padded to a multiple of 4.
  const size_t int_len = digits.size() - static_cast<size_t>(scale);
  const size_t int_pad = (4 - int_len % 4) % 4;
  const size_t frac_pad = (4 - static_cast<size_t>(scale) % 4) % 4;
  std::string aligned(int_pad, '0');
  aligned.append(digits);
  aligned.append(frac_pad, '0');
  const int int_groups = static_cast<int>((int_len + int_pad) / 4);
  std::vector<int16_t> groups;
  groups.reserve(aligned.size() / 4);
  for (size_t i = 0; i < aligned.size(); i += 4) {
    groups.push_back(static_cast<int16_t>((aligned[i] - '0') * 1000 + (aligned[i + 1] - '0') * 100 +
                                          (aligned[i + 2] - '0') * 10 + (aligned[i + 3] - '0')));
  }
  int weight = int_groups - 1;
  size_t first = 0;
  while (first < groups.size() && groups[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = groups.size();
  while (last > first && groups[last - 1] == 0) --last;
  const auto ndigits = static_cast<int16_t>(last - first);
  if (ndigits == 0) {
    weight = 0;
    negative = false;
  }
  PutBig<int32_t>(out, 8 + 2 * ndigits);
  PutBig<int16_t>(out, ndigits);
  PutBig<int16_t>(out, static_cast<int16_t>(weight));
  PutBig<uint16_t>(out, negative ? 0x4000 : 0x0000);
  PutBig<int16_t>(out, static_cast<int16_t>(scale));
  for (size_t i = first; i < last; ++i) PutBig<int16_t>(out, groups[i]);
}

}  // namespace

CopyWriter::~CopyWriter() {
  if (active_) PQputCopyEnd(conn_->get(), "abandoned by sluice");
  if (active_) {
    while (PGresult* raw = PQgetResult(conn_->get())) PQclear(raw);
  }
}

Status CopyWriter::Begin(std::string_view copy_sql) {
  const std::string text(copy_sql);
  CountRoundTrip();
  Rows started(PQexec(conn_->get(), text.c_str()));
  if (started.get() == nullptr || PQresultStatus(started.get()) != PGRES_COPY_IN) {
    return conn_->Error(started.get(), text.substr(0, 160));
  }
  active_ = true;
  tuples_ = 0;
  buffer_.clear();
  buffer_.append(kSignature, sizeof(kSignature));  // 11 bytes with the NUL
  PutBig<int32_t>(&buffer_, 0);                    // flags: no OIDs
  PutBig<int32_t>(&buffer_, 0);                    // header extension length
  return Status::Ok();
}

void CopyWriter::BeginTuple(int16_t fields) { PutBig<int16_t>(&buffer_, fields); }
void CopyWriter::Length(int32_t n) { PutBig<int32_t>(&buffer_, n); }
void CopyWriter::Null() { Length(-1); }

void CopyWriter::Bool(bool v) {
  Length(1);
  buffer_.push_back(v ? 1 : 0);
}

void CopyWriter::Int2(int16_t v) {
  Length(2);
  PutBig<int16_t>(&buffer_, v);
}

void CopyWriter::Int4(int32_t v) {
  Length(4);
  PutBig<int32_t>(&buffer_, v);
}

void CopyWriter::Int8(int64_t v) {
  Length(8);
  PutBig<int64_t>(&buffer_, v);
}

void CopyWriter::Float4(float v) {
  Length(4);
  PutBig<uint32_t>(&buffer_, std::bit_cast<uint32_t>(v));
}

void CopyWriter::Float8(double v) {
  Length(8);
  PutBig<uint64_t>(&buffer_, std::bit_cast<uint64_t>(v));
}

void CopyWriter::Text(std::string_view v) {
  Length(static_cast<int32_t>(v.size()));
  buffer_.append(v);
}

void CopyWriter::Numeric(__int128 unscaled, int32_t scale) {
  const bool negative = unscaled < 0;
  // |INT128_MIN| does not fit: go through the unsigned type.
  unsigned __int128 magnitude =
      negative ? static_cast<unsigned __int128>(-(unscaled + 1)) + 1 : unscaled;
  char text[48];
  size_t n = 0;
  do {
    text[sizeof(text) - 1 - n++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  std::string digits(text + sizeof(text) - n, n);
  if (digits.size() < static_cast<size_t>(scale) + 1) {
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  }
  EncodeNumeric(digits, scale, negative, &buffer_);
}

Status CopyWriter::NumericText(std::string_view decimal) {
  std::string_view s = decimal;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string digits;
  int32_t scale = 0;
  bool point = false;
  for (char c : s) {
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      digits.push_back(c);
      if (point) ++scale;
    } else {
      digits.clear();
      break;
    }
  }
  if (digits.empty() || scale > 16383) {
    return Err(ErrorCode::kInvalidArgument,
               "'" + std::string(decimal.substr(0, 64)) + "' is not a decimal number");
  }
  if (digits.size() < static_cast<size_t>(scale) + 1) {
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  }
  EncodeNumeric(digits, scale, negative, &buffer_);
  return Status::Ok();
}

void CopyWriter::Date(int32_t unix_days) {
  Length(4);
  PutBig<int32_t>(&buffer_, unix_days - kEpochDays);
}

void CopyWriter::Timestamp(int64_t unix_micros) {
  Length(8);
  PutBig<int64_t>(&buffer_, unix_micros - kEpochMicros);
}

void CopyWriter::Time(int64_t micros) {
  Length(8);
  PutBig<int64_t>(&buffer_, micros);
}

void CopyWriter::Interval(int32_t months, int32_t days, int64_t micros) {
  Length(16);
  PutBig<int64_t>(&buffer_, micros);
  PutBig<int32_t>(&buffer_, days);
  PutBig<int32_t>(&buffer_, months);
}

void CopyWriter::Uuid(const uint8_t* bytes16) {
  Length(16);
  buffer_.append(reinterpret_cast<const char*>(bytes16), 16);
}

void CopyWriter::Jsonb(std::string_view json) {
  Length(static_cast<int32_t>(json.size() + 1));
  buffer_.push_back(1);  // jsonb's binary format version
  buffer_.append(json);
}

Status CopyWriter::EndTuple() {
  ++tuples_;
  if (!active_ || buffer_.size() < kCopyChunkBytes) return Status::Ok();
  return Send();
}

Status CopyWriter::Send() {
  if (buffer_.empty()) return Status::Ok();
  if (PQputCopyData(conn_->get(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
    return conn_->Error(nullptr, "COPY data");
  }
  buffer_.clear();
  return Status::Ok();
}

Result<int64_t> CopyWriter::Finish() {
  PutBig<int16_t>(&buffer_, -1);
  SLUICE_RETURN_IF_ERROR(Send());
  active_ = false;
  CountRoundTrip();
  if (PQputCopyEnd(conn_->get(), nullptr) != 1) return conn_->Error(nullptr, "COPY end");
  Status first = Status::Ok();
  int64_t rows = 0;
  while (PGresult* raw = PQgetResult(conn_->get())) {
    Rows result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK) {
      if (first.ok()) first = conn_->Error(raw, "COPY");
    } else {
      rows = result.affected();
    }
  }
  if (!first.ok()) return first;
  return rows;
}

}  // namespace sluice::postgres
