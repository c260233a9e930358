#pragma once
// The file frame (parquet-format README, "File format"):
//
//   file   := "PAR1" column-chunks* footer
//   footer := FileMetaData (thrift compact) length:uint32-LE "PAR1"
//
// A file with the magic "PARE" at the end has an encrypted footer (modular encryption).
// Checks: at least 12 bytes, "PAR1" at both ends, 0 < length <= kMaxFooterBytes and the footer
// lies between the leading magic and the trailing length.

#include <cstdint>

#include "sluice/core/core.h"
#include "sluice/parquet/metadata.h"

namespace sluice::parquet {

struct Footer {
  FileMetaData metadata;
  uint64_t data_end = 0;  // offset where the footer starts: column data lies before it
};

// kUnsupportedFormat when the file is not Parquet (no leading PAR1) or is encrypted;
// kCorruptFile when the frame or the metadata is damaged.
Result<Footer> ReadFooter(const RandomAccessFile& file);

}  // namespace sluice::parquet
