#pragma once
// Private to json: the file's bytes as a stream, inflating gzip on the fly (a file whose
// first bytes are the gzip magic 1f 8b, whatever its key's extension). Concatenated gzip
// members (what `cat a.gz b.gz` and parallel compressors produce) are read one after another.
// Memory: one compressed chunk of kReadBytes; nothing of the file is kept.

#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/batch/limits.h"
#include "sluice/core/core.h"
#include "sluice/json/limits_internal.h"

// zlib's stream state; only source.cc sees its definition.
struct z_stream_s;

namespace sluice::json {

// Bytes read from the file per ReadAt: large enough that a read costs little per byte, small
// enough to be one of the reader's few buffers.
constexpr size_t kReadBytes = 1 << 20;

class ByteSource {
 public:
  // Sniffs the gzip magic at offset 0.
  static Result<std::unique_ptr<ByteSource>> Open(const RandomAccessFile& file);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Reads up to `n` (> 0) bytes into `dst`; 0 only at the end of the data. A damaged gzip
  // stream fails with kCorruptFile naming the compressed offset.
  Result<size_t> Read(char* dst, size_t n);
  bool gzipped() const { return zs_ != nullptr; }
  // Bytes of the file consumed so far (compressed bytes for gzip).
  uint64_t file_offset() const { return file_offset_; }

 private:
  explicit ByteSource(const RandomAccessFile& file);
  Status Fill();

  const RandomAccessFile& file_;
  batch::InflationGuard inflation_{"gzip: inflated bytes", kInflationFloorBytes,
                                   kMaxInflationRatio};
  uint64_t consumed_ = 0;           // compressed bytes counted by inflation_
  uint64_t file_offset_ = 0;        // next byte of the file to read
  std::vector<uint8_t> in_;         // compressed bytes (gzip only)
  size_t in_pos_ = 0;               // consumed bytes of in_
  std::unique_ptr<z_stream_s> zs_;  // null for plain files
  bool member_done_ = false;        // the last inflate() ended a gzip member
};

}  // namespace sluice::json
