#pragma once
// The RLE / bit-packing hybrid (parquet-format Encodings.md, "Run Length Encoding /
// Bit-Packing Hybrid"), used for definition/repetition levels, dictionary indices and RLE
// booleans.
//
//   encoded-data    := run*
//   run             := bit-packed-run | rle-run
//   bit-packed-run  := header:varint(groups << 1 | 1) values:(groups * bit_width bytes)
//                      8 * groups values, each bit_width bits, packed LSB first
//   rle-run         := header:varint(count << 1) value:(ceil(bit_width / 8) bytes, LE)
//
// Worked example (bit width 1, the definition levels 1 1 1 0 1 0 0 0 then eight 1s):
//   03 17   bit-packed, 1 group: 0x17 = 0b00010111 -> 1 1 1 0 1 0 0 0
//   10 01   rle, count 8, value 1
//
// Bit widths are 0..32; width 0 encodes only zeros (the rle value takes no bytes). A final
// bit-packed run may be cut short by the end of the data (writers pad the last group with
// values that are never read); reading past the decodable values fails with kCorruptFile.

#include <cstdint>

#include "sluice/core/core.h"

namespace sluice::parquet {

class RleBitPackedDecoder {
 public:
  RleBitPackedDecoder(ByteView data, int bit_width) : data_(data), bit_width_(bit_width) {}

  // Decodes exactly `n` values into `out`. kCorruptFile if the data ends first or a header is
  // malformed; kInvalidArgument for a bit width outside 0..32.
  Status GetBatch(uint32_t* out, int64_t n);

  // Bytes consumed so far (through the end of the current run's header and value/packed bytes).
  size_t position() const { return pos_; }

 private:
  Status NextRun();

  ByteView data_;
  int bit_width_;
  size_t pos_ = 0;
  // Current run: an rle run repeats `rle_value_`; a bit-packed run reads from `packed_`.
  bool packed_run_ = false;
  int64_t run_remaining_ = 0;
  uint32_t rle_value_ = 0;
  const uint8_t* packed_ = nullptr;
  size_t packed_bytes_ = 0;
  uint64_t packed_index_ = 0;  // next value within the packed run
};

}  // namespace sluice::parquet
