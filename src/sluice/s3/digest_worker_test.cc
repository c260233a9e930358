#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "sluice/s3/digest_worker_internal.h"

namespace sluice::s3 {
namespace {

std::string Inline(auth::Digest::Kind kind, const std::vector<uint8_t>& bytes) {
  auth::Digest d(kind);
  d.Update(ByteView(bytes.data(), bytes.size()));
  return d.Finish();
}

// Runs `body` on a thread of its own and fails the test if it has not returned within `limit`:
// a worker that deadlocks (a lost wake-up between the producer and the hashing thread) fails
// here with a message instead of hanging the suite. A safety net, not a timing assertion: the
// limit is minutes for what takes milliseconds. The body owns everything it touches, so a stuck
// thread can be left behind.
void FinishesWithin(std::function<void()> body,
                    std::chrono::seconds limit = std::chrono::minutes(2)) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread([body = std::move(body), done] {
    body();
    done->set_value();
  }).detach();
  if (finished.wait_for(limit) != std::future_status::ready) {
    FAIL() << "the digest worker did not finish within " << limit.count()
           << " s: a deadlock between Update/Drain and the hashing thread";
  }
}

TEST(DigestWorkerTest, HashesEveryPieceInOrderLikeTheInlineDigests) {
  FinishesWithin([] {
    std::mt19937 rng(7);
    std::vector<uint8_t> body((13u << 20) + 4321);
    for (uint8_t& b : body) b = static_cast<uint8_t>(rng());
    auth::Digest md5(auth::Digest::Kind::kMd5);
    auth::Digest sha(auth::Digest::Kind::kSha256);
    auth::Digest crc(auth::Digest::Kind::kCrc32c);
    DigestWorker worker({&md5, &sha, &crc});
    // Pieces from 1 byte to several buffers, so that buffer edges fall everywhere.
    size_t at = 0;
    std::uniform_int_distribution<size_t> piece(1, 3u << 20);
    while (at < body.size()) {
      const size_t n = std::min(piece(rng), body.size() - at);
      worker.Update(ByteView(body.data() + at, n));
      at += n;
    }
    worker.Drain();
    EXPECT_EQ(md5.Finish(), Inline(auth::Digest::Kind::kMd5, body));
    EXPECT_EQ(sha.Finish(), Inline(auth::Digest::Kind::kSha256, body));
    EXPECT_EQ(crc.Finish(), Inline(auth::Digest::Kind::kCrc32c, body));
  });
}

TEST(DigestWorkerTest, DroppedWithoutDrainStopsCleanly) {
  FinishesWithin([] {
    auth::Digest md5(auth::Digest::Kind::kMd5);
    {
      DigestWorker worker({&md5});
      std::vector<uint8_t> bytes(5u << 20, 1);
      worker.Update(ByteView(bytes.data(), bytes.size()));
    }  // an aborted upload: the worker stops, nothing waits for it
    SUCCEED();
  });
}

TEST(DigestWorkerTest, AnEmptyBodyDrainsAtOnce) {
  FinishesWithin([] {
    auth::Digest md5(auth::Digest::Kind::kMd5);
    DigestWorker worker({&md5});
    worker.Drain();
    EXPECT_EQ(md5.Finish(), Inline(auth::Digest::Kind::kMd5, {}));
  });
}

}  // namespace
}  // namespace sluice::s3
