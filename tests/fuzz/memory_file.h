#pragma once
// An in-memory RandomAccessFile over the fuzzer's input, so that a fuzz iteration touches no
// file system and the reader sees exactly the bytes libFuzzer chose.

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::fuzz {

class MemoryFile final : public RandomAccessFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) : bytes_(data, data + size) {}
  explicit MemoryFile(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}

  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
    if (offset > bytes_.size() || n > bytes_.size() - offset) {
      return Err(ErrorCode::kCorruptFile, name_ + ": read of " + std::to_string(n) + " bytes at " +
                                              std::to_string(offset) +
                                              " passes the end of the file");
    }
    out->assign(bytes_.begin() + static_cast<std::ptrdiff_t>(offset),
                bytes_.begin() + static_cast<std::ptrdiff_t>(offset + n));
    return Status::Ok();
  }
  const std::string& name() const override { return name_; }

 private:
  std::vector<uint8_t> bytes_;
  std::string name_ = "fuzz.parquet";
};

}  // namespace sluice::fuzz
