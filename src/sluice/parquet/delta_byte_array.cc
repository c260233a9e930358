#include "sluice/parquet/delta_byte_array.h"

#include <cstring>
#include <string>

#include "sluice/parquet/delta_binary_packed.h"
#include "sluice/parquet/limits.h"

namespace sluice::parquet {
namespace {

Status Corrupt(const std::string& what) { return Err(ErrorCode::kCorruptFile, what); }

void AppendPlain(const uint8_t* bytes, uint32_t length, std::vector<uint8_t>* plain) {
  const size_t at = plain->size();
  plain->resize(at + 4 + length);
  std::memcpy(plain->data() + at, &length, 4);
  if (length) std::memcpy(plain->data() + at + 4, bytes, length);
}

// Splits a delta-length-byte-array into lengths and the start of the concatenated bytes.
Status ReadLengths(ByteView data, int64_t n, std::vector<int64_t>* lengths, ByteView* bytes) {
  size_t consumed = 0;
  SLUICE_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, n, lengths, &consumed));
  uint64_t sum = 0;
  for (int64_t length : *lengths) {
    if (length < 0 || static_cast<uint64_t>(length) > kMaxPageBytes) {
      return Corrupt("DELTA_LENGTH_BYTE_ARRAY: bad length " + std::to_string(length));
    }
    sum += static_cast<uint64_t>(length);
  }
  if (sum > data.size() - consumed) {
    return Corrupt("DELTA_LENGTH_BYTE_ARRAY: values of " + std::to_string(sum) +
                   " bytes pass the end of the page");
  }
  *bytes = data.subspan(consumed);
  return Status::Ok();
}

}  // namespace

Status DecodeDeltaLengthByteArray(ByteView data, int64_t n, std::vector<uint8_t>* plain) {
  std::vector<int64_t> lengths;
  ByteView bytes;
  SLUICE_RETURN_IF_ERROR(ReadLengths(data, n, &lengths, &bytes));
  plain->clear();
  size_t pos = 0;
  for (int64_t length : lengths) {
    AppendPlain(bytes.data() + pos, static_cast<uint32_t>(length), plain);
    pos += static_cast<size_t>(length);
  }
  return Status::Ok();
}

Status DecodeDeltaByteArray(ByteView data, int64_t n, std::vector<uint8_t>* plain) {
  std::vector<int64_t> prefixes;
  size_t consumed = 0;
  SLUICE_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, n, &prefixes, &consumed));
  std::vector<int64_t> lengths;
  ByteView bytes;
  SLUICE_RETURN_IF_ERROR(ReadLengths(data.subspan(consumed), n, &lengths, &bytes));
  plain->clear();
  std::string previous;
  size_t pos = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t prefix = prefixes[static_cast<size_t>(i)];
    if (prefix < 0 || static_cast<uint64_t>(prefix) > previous.size()) {
      return Corrupt("DELTA_BYTE_ARRAY: prefix " + std::to_string(prefix) +
                     " longer than the previous value (" + std::to_string(previous.size()) + ")");
    }
    const size_t suffix = static_cast<size_t>(lengths[static_cast<size_t>(i)]);
    previous.resize(static_cast<size_t>(prefix));
    previous.append(reinterpret_cast<const char*>(bytes.data() + pos), suffix);
    pos += suffix;
    if (plain->size() + previous.size() > kMaxDecodedPageBytes) {
      return Corrupt("DELTA_BYTE_ARRAY: page expands beyond kMaxDecodedPageBytes");
    }
    AppendPlain(reinterpret_cast<const uint8_t*>(previous.data()),
                static_cast<uint32_t>(previous.size()), plain);
  }
  return Status::Ok();
}

}  // namespace sluice::parquet
