#include "sluice/parquet/levels.h"

#include <algorithm>
#include <string>

#include "sluice/parquet/rle_hybrid.h"

namespace sluice::parquet {
namespace {

// One check per page: the largest level against the maximum.
Status CheckMax(uint32_t max_seen, int max_level) {
  if (max_seen > static_cast<uint32_t>(max_level)) {
    return Err(ErrorCode::kCorruptFile, "level " + std::to_string(max_seen) +
                                            " above the maximum " + std::to_string(max_level));
  }
  return Status::Ok();
}

}  // namespace

int LevelBitWidth(int max_level) {
  int width = 0;
  while ((1 << width) <= max_level) ++width;
  return width;
}

Status DecodeRleLevels(ByteView data, int max_level, int64_t n, std::vector<uint8_t>* levels) {
  levels->resize(static_cast<size_t>(n));
  RleBitPackedDecoder decoder(data, LevelBitWidth(max_level));
  // Through a small buffer, so that a page of many levels costs one byte per level.
  constexpr int64_t kChunk = 1024;
  uint32_t buffer[kChunk];
  uint32_t max_seen = 0;
  uint8_t* dst = levels->data();
  for (int64_t done = 0; done < n; done += kChunk) {
    const int64_t m = std::min(kChunk, n - done);
    SLUICE_RETURN_IF_ERROR(decoder.GetBatch(buffer, m));
    for (int64_t i = 0; i < m; ++i) {
      max_seen = buffer[i] > max_seen ? buffer[i] : max_seen;
      dst[done + i] = static_cast<uint8_t>(buffer[i]);
    }
  }
  return CheckMax(max_seen, max_level);
}

Status DecodeBitPackedLevels(ByteView data, int max_level, int64_t n, std::vector<uint8_t>* levels,
                             size_t* consumed) {
  const int width = LevelBitWidth(max_level);
  const uint64_t bits = static_cast<uint64_t>(n) * static_cast<uint64_t>(width);
  const uint64_t bytes = (bits + 7) / 8;
  if (bytes > data.size()) {
    return Err(ErrorCode::kCorruptFile, "BIT_PACKED levels: " + std::to_string(n) +
                                            " levels need " + std::to_string(bytes) +
                                            " bytes, the page has " + std::to_string(data.size()));
  }
  levels->resize(static_cast<size_t>(n));
  uint32_t max_seen = 0;
  uint64_t bit = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t v = 0;
    for (int b = 0; b < width; ++b, ++bit) {
      v = (v << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1u);
    }
    max_seen = v > max_seen ? v : max_seen;
    (*levels)[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  }
  *consumed = static_cast<size_t>(bytes);
  return CheckMax(max_seen, max_level);
}

}  // namespace sluice::parquet
