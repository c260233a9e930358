#include "sluice/parquet/rle_hybrid.h"

#include <algorithm>
#include <cstring>

namespace sluice::parquet {
namespace {

Status Corrupt(const std::string& what) {
  return Err(ErrorCode::kCorruptFile, "rle/bit-packed data: " + what);
}

// Value `index` of a bit-packed block of `nbytes`; the caller guarantees the value's bits lie
// inside the block. Loads 8 bytes when available so that the common case is one unaligned load.
inline uint32_t Unpack(const uint8_t* base, size_t nbytes, uint64_t index, int width,
                       uint64_t mask) {
  const uint64_t bit = index * static_cast<uint64_t>(width);
  const size_t byte = static_cast<size_t>(bit >> 3);
  uint64_t word = 0;
  if (nbytes - byte >= 8) {
    std::memcpy(&word, base + byte, 8);
  } else {
    std::memcpy(&word, base + byte, nbytes - byte);
  }
  return static_cast<uint32_t>((word >> (bit & 7)) & mask);
}

}  // namespace

Status RleBitPackedDecoder::NextRun() {
  uint64_t header = 0;
  int shift = 0;
  while (true) {
    if (pos_ >= data_.size()) return Corrupt("run header past the end of the data");
    const uint8_t b = data_[pos_++];
    if (shift >= 35) return Corrupt("run header varint longer than 5 bytes");
    header |= static_cast<uint64_t>(b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) == 0) break;
  }
  const size_t remaining = data_.size() - pos_;
  if (header & 1) {
    const uint64_t groups = header >> 1;
    if (groups == 0) return Corrupt("empty bit-packed run");
    const uint64_t full_bytes = groups * static_cast<uint64_t>(bit_width_);
    packed_bytes_ = static_cast<size_t>(std::min<uint64_t>(full_bytes, remaining));
    packed_ = data_.data() + pos_;
    pos_ += packed_bytes_;
    packed_run_ = true;
    packed_index_ = 0;
    // Only values whose bits are all present are decodable.
    run_remaining_ =
        bit_width_ == 0
            ? static_cast<int64_t>(groups * 8)
            : static_cast<int64_t>(std::min<uint64_t>(groups * 8, packed_bytes_ * 8 / bit_width_));
    if (run_remaining_ == 0) return Corrupt("bit-packed run with no data");
  } else {
    const uint64_t count = header >> 1;
    if (count == 0) return Corrupt("empty rle run");
    const size_t value_bytes = static_cast<size_t>((bit_width_ + 7) / 8);
    if (value_bytes > remaining) return Corrupt("rle run value past the end of the data");
    uint32_t v = 0;
    std::memcpy(&v, data_.data() + pos_, value_bytes);
    pos_ += value_bytes;
    packed_run_ = false;
    rle_value_ = v;
    run_remaining_ = static_cast<int64_t>(count);
  }
  return Status::Ok();
}

Status RleBitPackedDecoder::GetBatch(uint32_t* out, int64_t n) {
  if (bit_width_ < 0 || bit_width_ > 32) {
    return Err(ErrorCode::kInvalidArgument, "bit width " + std::to_string(bit_width_));
  }
  const uint64_t mask = bit_width_ == 32 ? 0xffffffffull : ((uint64_t{1} << bit_width_) - 1);
  while (n > 0) {
    if (run_remaining_ == 0) SLUICE_RETURN_IF_ERROR(NextRun());
    const int64_t take = std::min(n, run_remaining_);
    if (!packed_run_) {
      std::fill(out, out + take, rle_value_);
    } else if (bit_width_ == 0) {
      std::fill(out, out + take, 0u);
    } else {
      for (int64_t i = 0; i < take; ++i) {
        out[i] = Unpack(packed_, packed_bytes_, packed_index_ + static_cast<uint64_t>(i),
                        bit_width_, mask);
      }
      packed_index_ += static_cast<uint64_t>(take);
    }
    out += take;
    n -= take;
    run_remaining_ -= take;
  }
  return Status::Ok();
}

}  // namespace sluice::parquet
