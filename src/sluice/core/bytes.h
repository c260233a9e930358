#pragma once
// Bytes with a type and a lifetime (STYLE.md rule 5).
//
// - ByteView: a borrowed, read-only view; valid only while its owner is alive.
// - Buffer: an owning, shareable, immutable block; slices keep it alive.
// - Cursor: checked little-endian reads over untrusted bytes; never reads past the end.

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/result.h"

namespace sluice {

using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::vector<uint8_t> bytes)
      : owner_(std::make_shared<std::vector<uint8_t>>(std::move(bytes))),
        view_(owner_->data(), owner_->size()) {}

  ByteView view() const { return view_; }
  size_t size() const { return view_.size(); }
  const uint8_t* data() const { return view_.data(); }

  // A sub-range sharing ownership. Precondition: offset + length <= size().
  Buffer Slice(size_t offset, size_t length) const {
    Buffer b;
    b.owner_ = owner_;
    b.view_ = view_.subspan(offset, length);
    return b;
  }

 private:
  std::shared_ptr<const std::vector<uint8_t>> owner_;
  ByteView view_;
};

// Sequential checked reads. Every read that would pass the end fails with kCorruptFile and
// `what` in the message, leaving the cursor where it was.
class Cursor {
 public:
  explicit Cursor(ByteView bytes) : bytes_(bytes) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool empty() const { return pos_ == bytes_.size(); }

  Result<ByteView> Take(size_t n, std::string_view what) {
    if (n > remaining()) return Short(n, what);
    ByteView out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Status Skip(size_t n, std::string_view what) {
    if (n > remaining()) return Short(n, what);
    pos_ += n;
    return Status::Ok();
  }
  Result<uint8_t> ReadU8(std::string_view what) {
    if (remaining() < 1) return Short(1, what);
    return bytes_[pos_++];
  }
  template <class T>
  Result<T> ReadLE(std::string_view what) {
    if (remaining() < sizeof(T)) return Short(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));  // little-endian hosts only
    pos_ += sizeof(T);
    return v;
  }

 private:
  Status Short(size_t n, std::string_view what) const {
    return Status(ErrorCode::kCorruptFile, std::string(what) + ": needs " + std::to_string(n) +
                                               " bytes at offset " + std::to_string(pos_) +
                                               ", only " + std::to_string(remaining()) + " left");
  }

  ByteView bytes_;
  size_t pos_ = 0;
};

// Lower-case hex of `bytes`.
std::string ToHex(ByteView bytes);

}  // namespace sluice
