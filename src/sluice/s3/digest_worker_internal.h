#pragma once
// Private to s3/: hashes a large body on a second thread. The receive copies each piece into a
// buffer (memcpy runs at ~10 GB/s) and goes on; the worker feeds the buffers to the digests in
// order. An MD5 (~0.8 GB/s per core), which every PUT needs for its ETag, then no longer
// bounds the upload on the thread that receives and writes it (PERFORMANCE.md: hash on the
// other core).
//
// Memory: at most kBuffers buffers of kBufferBytes per body. Update blocks only while every
// buffer waits for the worker. Thread-safety: one producer thread; the digests must not be
// touched by anyone else until Drain returns.

#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "sluice/auth/auth.h"
#include "sluice/core/mutex.h"

namespace sluice::s3 {

class DigestWorker {
 public:
  static constexpr size_t kBufferBytes = size_t{1} << 20;
  static constexpr size_t kBuffers = 4;

  // `digests` must outlive the worker (or its Drain).
  explicit DigestWorker(std::vector<auth::Digest*> digests);
  ~DigestWorker();
  DigestWorker(const DigestWorker&) = delete;
  DigestWorker& operator=(const DigestWorker&) = delete;

  void Update(ByteView data);
  // Returns once every byte given to Update has gone into the digests; stops the thread.
  void Drain();

 private:
  void Hand(std::vector<uint8_t> buffer) EXCLUDES(mu_);  // queues a filled buffer
  void Run();

  std::vector<auth::Digest*> digests_;
  std::vector<uint8_t> filling_;  // the producer's current buffer

  Mutex mu_;
  CondVar cv_;
  std::deque<std::vector<uint8_t>> full_ GUARDED_BY(mu_);   // waiting for the worker, in order
  std::vector<std::vector<uint8_t>> free_ GUARDED_BY(mu_);  // hashed, for reuse
  size_t allocated_ GUARDED_BY(mu_) = 0;
  bool closing_ GUARDED_BY(mu_) = false;  // no more buffers will come
  bool done_ GUARDED_BY(mu_) = false;     // the worker has hashed everything and stopped
  std::thread thread_;
};

}  // namespace sluice::s3
