#pragma once
// What the store reports as uploads arrive and are refused, for whoever counts them (the
// /metrics page, api::Metrics). The store calls it from I/O threads, so an implementation must
// be thread-safe; it must not block (it runs inside a request).

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::store {

class UploadObserver {
 public:
  virtual ~UploadObserver() = default;
  // A file of `bytes` entered the ledger for `connection` (a PUT or a completed upload).
  virtual void OnReceived(const std::string& connection, uint64_t bytes) = 0;
  // Backpressure refused an upload into `connection`; `limit`: "files", "bytes" or "disk".
  virtual void OnRefused(const std::string& connection, std::string_view limit) = 0;
};

}  // namespace sluice::store
