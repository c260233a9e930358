#include "sluice/s3/digest_worker.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace sluice::s3 {
namespace {

std::string Inline(auth::Digest::Kind kind, const std::vector<uint8_t>& bytes) {
  auth::Digest d(kind);
  d.Update(ByteView(bytes.data(), bytes.size()));
  return d.Finish();
}

TEST(DigestWorkerTest, HashesEveryPieceInOrderLikeTheInlineDigests) {
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
}

TEST(DigestWorkerTest, DroppedWithoutDrainStopsCleanly) {
  auth::Digest md5(auth::Digest::Kind::kMd5);
  {
    DigestWorker worker({&md5});
    std::vector<uint8_t> bytes(5u << 20, 1);
    worker.Update(ByteView(bytes.data(), bytes.size()));
  }  // an aborted upload: the worker stops, nothing waits for it
  SUCCEED();
}

TEST(DigestWorkerTest, AnEmptyBodyDrainsAtOnce) {
  auth::Digest md5(auth::Digest::Kind::kMd5);
  DigestWorker worker({&md5});
  worker.Drain();
  EXPECT_EQ(md5.Finish(), Inline(auth::Digest::Kind::kMd5, {}));
}

}  // namespace
}  // namespace sluice::s3
