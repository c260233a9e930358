#pragma once
// Private to http/ tests: a RandomAccessFile whose bytes are a function of their offset, for
// streamed responses larger than memory, and a blocking loopback connect for the test clients.
// (A file over bytes in memory, with injected read errors, is the test kit's:
// core/testing/memory_file.h.)

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::http::internal {

// A TCP connection to 127.0.0.1:`port` with 10 s send/receive timeouts and Nagle off; -1 when
// the connect fails.
inline int ConnectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// `size` bytes that exist only as a function of their offset (PatternByte), so that tests can
// stream far more than they could hold.
inline uint8_t PatternByte(uint64_t i) {
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
  return static_cast<uint8_t>(x >> 56);
}

class PatternFile final : public RandomAccessFile {
 public:
  explicit PatternFile(uint64_t size) : size_(size) {}
  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
    if (offset > size_ || n > size_ - offset) {
      return Err(ErrorCode::kCorruptFile, "read past the end of " + name_);
    }
    out->resize(n);
    for (size_t i = 0; i < n; ++i) (*out)[i] = PatternByte(offset + i);
    return Status::Ok();
  }
  const std::string& name() const override { return name_; }

 private:
  uint64_t size_;
  std::string name_ = "pattern-file";
};

}  // namespace sluice::http::internal
