#include "sluice/parquet/delta_binary_packed.h"

#include <cstring>

namespace sluice::parquet {
namespace {

// Block geometry bounds: writers use 128 values in 4 miniblocks; 1 Mi values per block or
// 1,024 miniblocks would already be absurd and bound the per-block work.
constexpr uint64_t kMaxBlockSize = uint64_t{1} << 20;
constexpr uint64_t kMaxMiniblocks = 1024;

Status Corrupt(const std::string& what) {
  return Err(ErrorCode::kCorruptFile, "DELTA_BINARY_PACKED: " + what);
}

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}
  Result<uint64_t> Uleb() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Corrupt("varint past the end of the page");
      const uint8_t b = data_[pos_++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Corrupt("varint longer than 10 bytes");
  }
  Result<int64_t> ZigZag() {
    SLUICE_ASSIGN_OR_RETURN(uint64_t v, Uleb());
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  size_t pos_ = 0;
  ByteView data_;
};

// Bits [bit, bit + width) of `p` (width 1..64); the caller guarantees they lie in `p`.
inline uint64_t ReadBits(const uint8_t* p, size_t nbytes, uint64_t bit, int width) {
  const size_t byte = static_cast<size_t>(bit >> 3);
  const int shift = static_cast<int>(bit & 7);
  uint64_t lo = 0;
  std::memcpy(&lo, p + byte, nbytes - byte >= 8 ? 8 : nbytes - byte);
  uint64_t v = lo >> shift;
  if (shift + width > 64) v |= static_cast<uint64_t>(p[byte + 8]) << (64 - shift);
  return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

}  // namespace

Status DecodeDeltaBinaryPacked(ByteView data, int64_t n, std::vector<int64_t>* out,
                               size_t* consumed) {
  ByteReader r(data);
  SLUICE_ASSIGN_OR_RETURN(uint64_t block_size, r.Uleb());
  SLUICE_ASSIGN_OR_RETURN(uint64_t miniblocks, r.Uleb());
  SLUICE_ASSIGN_OR_RETURN(uint64_t total, r.Uleb());
  SLUICE_ASSIGN_OR_RETURN(int64_t first, r.ZigZag());
  if (block_size == 0 || block_size % 128 != 0 || block_size > kMaxBlockSize || miniblocks == 0 ||
      miniblocks > kMaxMiniblocks || block_size % miniblocks != 0 ||
      (block_size / miniblocks) % 32 != 0) {
    return Corrupt("bad block geometry (block size " + std::to_string(block_size) + ", " +
                   std::to_string(miniblocks) + " miniblocks)");
  }
  if (n < 0 || static_cast<uint64_t>(n) > total) {
    return Corrupt("page needs " + std::to_string(n) + " values, the stream holds " +
                   std::to_string(total));
  }
  const uint64_t per_miniblock = block_size / miniblocks;
  out->resize(static_cast<size_t>(n));
  if (total > 0 && n > 0) (*out)[0] = first;
  // Only the n values the page needs are decoded (a stream claiming more would otherwise let
  // width-0 miniblocks spin through billions of values); for DELTA_LENGTH_BYTE_ARRAY total == n.
  total = static_cast<uint64_t>(n);
  uint64_t produced = total > 0 ? 1 : 0;
  uint64_t prev = static_cast<uint64_t>(first);
  uint8_t widths[kMaxMiniblocks];
  while (produced < total) {
    SLUICE_ASSIGN_OR_RETURN(int64_t min_delta, r.ZigZag());
    if (miniblocks > data.size() - r.pos_) return Corrupt("bit widths past the end of the page");
    std::memcpy(widths, data.data() + r.pos_, miniblocks);
    r.pos_ += miniblocks;
    for (uint64_t m = 0; m < miniblocks && produced < total; ++m) {
      const int width = widths[m];
      if (width > 64) return Corrupt("miniblock bit width " + std::to_string(width));
      const size_t bytes = static_cast<size_t>(per_miniblock * static_cast<uint64_t>(width) / 8);
      if (bytes > data.size() - r.pos_) return Corrupt("miniblock past the end of the page");
      const uint8_t* packed = data.data() + r.pos_;
      r.pos_ += bytes;
      const uint64_t take = std::min(per_miniblock, total - produced);
      for (uint64_t i = 0; i < take; ++i) {
        const uint64_t delta = width == 0 ? 0 : ReadBits(packed, bytes, i * width, width);
        prev = prev + static_cast<uint64_t>(min_delta) + delta;
        (*out)[produced++] = static_cast<int64_t>(prev);
      }
    }
  }
  *consumed = r.pos_;
  return Status::Ok();
}

}  // namespace sluice::parquet
