#include "sluice/parquet/footer.h"

#include <cstring>

#include "sluice/parquet/limits.h"

namespace sluice::parquet {

Result<Footer> ReadFooter(const RandomAccessFile& file) {
  const uint64_t size = file.size();
  const std::string& name = file.name();
  std::vector<uint8_t> head;
  if (size < 4) return Err(ErrorCode::kUnsupportedFormat, name + ": not a parquet file");
  SLUICE_RETURN_IF_ERROR(file.ReadAt(0, 4, &head));
  if (std::memcmp(head.data(), "PAR1", 4) != 0) {
    if (std::memcmp(head.data(), "PARE", 4) == 0) {
      return Err(ErrorCode::kUnsupportedFormat,
                 name + ": encrypted parquet is not supported (encrypted footer, PARE magic)");
    }
    return Err(ErrorCode::kUnsupportedFormat, name + ": not a parquet file (no PAR1 magic)");
  }
  if (size < 12) {
    return Err(ErrorCode::kCorruptFile,
               name + ": truncated parquet file (" + std::to_string(size) + " bytes)");
  }
  std::vector<uint8_t> tail;
  SLUICE_RETURN_IF_ERROR(file.ReadAt(size - 8, 8, &tail));
  if (std::memcmp(tail.data() + 4, "PAR1", 4) != 0) {
    return Err(ErrorCode::kCorruptFile,
               name + ": no PAR1 magic at the end of the file (truncated or damaged)");
  }
  uint32_t length;
  std::memcpy(&length, tail.data(), 4);
  if (length == 0 || length > kMaxFooterBytes || length > size - 12) {
    return Err(ErrorCode::kCorruptFile, name + ": footer length " + std::to_string(length) +
                                            " does not fit the file of " + std::to_string(size) +
                                            " bytes (or exceeds kMaxFooterBytes)");
  }
  Footer footer;
  footer.data_end = size - 8 - length;
  std::vector<uint8_t> bytes;
  SLUICE_RETURN_IF_ERROR(file.ReadAt(footer.data_end, length, &bytes));
  auto metadata = ParseFileMetaData(ByteView(bytes.data(), bytes.size()));
  if (!metadata.ok()) return metadata.status().WithContext(name);
  footer.metadata = std::move(metadata).value();
  if (footer.metadata.encrypted) {
    return Err(ErrorCode::kUnsupportedFormat,
               name + ": encrypted parquet is not supported (plaintext footer, encrypted columns)");
  }
  return footer;
}

}  // namespace sluice::parquet
