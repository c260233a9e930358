#pragma once
// MemoryFile: a RandomAccessFile over bytes in memory, for tests, fuzz targets and benches that
// feed a reader without touching a file system. It owns its bytes, or borrows them (Borrow)
// when they are large and outlive the file. Reads past the end fail with kCorruptFile like the
// POSIX file; FailReadsFrom injects a read error (kIoError) for every read reaching past an
// offset, for the paths that stream a file and must handle a failing disk.
//
// Thread-safety: like every RandomAccessFile, ReadAt may be called concurrently; the setters
// are for before the file is shared.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/fs.h"

namespace sluice::testing {

class MemoryFile final : public RandomAccessFile {
 public:
  explicit MemoryFile(std::string bytes, std::string name = "memory-file")
      : owned_(std::move(bytes)), bytes_(owned_), name_(std::move(name)) {}
  explicit MemoryFile(const std::vector<uint8_t>& bytes, std::string name = "memory-file")
      : MemoryFile(std::string(bytes.begin(), bytes.end()), std::move(name)) {}
  MemoryFile(const uint8_t* data, size_t size, std::string name = "memory-file")
      : MemoryFile(std::string(reinterpret_cast<const char*>(data), size), std::move(name)) {}
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // A file over `bytes` without copying them; they must outlive the file.
  static std::unique_ptr<MemoryFile> Borrow(std::string_view bytes,
                                            std::string name = "memory-file") {
    auto file = std::make_unique<MemoryFile>(std::string(), std::move(name));
    file->bytes_ = bytes;
    return file;
  }

  // Every read that reaches past `offset` fails with kIoError ("injected read error").
  MemoryFile& FailReadsFrom(uint64_t offset) {
    fail_from_ = offset;
    return *this;
  }

  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
    if (offset > bytes_.size() || n > bytes_.size() - offset) {
      return Err(ErrorCode::kCorruptFile, "read of " + std::to_string(n) + " bytes at " +
                                              std::to_string(offset) + " passes the end of " +
                                              name_);
    }
    if (offset + n > fail_from_) return Err(ErrorCode::kIoError, "injected read error");
    out->resize(n);
    std::copy_n(bytes_.data() + offset, n, reinterpret_cast<char*>(out->data()));
    return Status::Ok();
  }
  const std::string& name() const override { return name_; }
  std::string_view bytes() const { return bytes_; }

 private:
  std::string owned_;
  std::string_view bytes_;
  std::string name_;
  uint64_t fail_from_ = UINT64_MAX;
};

}  // namespace sluice::testing
