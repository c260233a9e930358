#include "sluice/batch/prefetch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>

namespace sluice::batch {
namespace {

// Batches of one BIGINT column holding the batch number; fails after `fail_after` batches
// when that is >= 0.
class CountingReader final : public BatchReader {
 public:
  CountingReader(int batches, int fail_after, std::atomic<int>* decoded)
      : batches_(batches), fail_after_(fail_after), decoded_(decoded) {
    schema_.fields.push_back({"n", DataType(TypeId::kInt64), false});
  }
  const Schema& schema() const override { return schema_; }
  int64_t num_rows() const override { return batches_; }
  Result<bool> Next(Batch* out) override {
    if (next_ == fail_after_) return Err(ErrorCode::kCorruptFile, "page 7 is damaged");
    if (next_ == batches_) return false;
    if (out->columns.empty()) {
      out->schema = std::make_shared<Schema>(schema_);
      out->columns.push_back(MakeColumn(DataType(TypeId::kInt64)));
    } else {
      ++reused_;
    }
    Column& c = out->columns[0];
    c.length = 1;
    c.fixed.resize(sizeof(int64_t));
    const int64_t v = next_++;
    std::memcpy(c.fixed.data(), &v, sizeof v);
    out->num_rows = 1;
    if (decoded_ != nullptr) ++*decoded_;
    return true;
  }
  int reused() const { return reused_; }

 private:
  Schema schema_;
  int batches_;
  int fail_after_;
  std::atomic<int>* decoded_;
  int next_ = 0;
  int reused_ = 0;
};

TEST(PrefetchTest, ReturnsEveryBatchInOrderAndRecyclesBuffers) {
  auto inner = std::make_unique<CountingReader>(1000, -1, nullptr);
  CountingReader* raw = inner.get();
  auto reader = Prefetch(std::move(inner));
  EXPECT_EQ(reader->schema().fields.at(0).name, "n");
  EXPECT_EQ(reader->num_rows(), 1000);
  Batch b;
  for (int64_t i = 0; i < 1000; ++i) {
    auto more = reader->Next(&b);
    ASSERT_TRUE(more.ok() && *more) << i;
    EXPECT_EQ(b.columns[0].Value<int64_t>(0), i);
  }
  auto end = reader->Next(&b);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
  // The end came after the decoder finished (under the reader's mutex), so its counter is
  // final here. After reader.reset() `raw` is gone: the prefetcher owns the inner reader.
  const int reused = raw->reused();
  reader.reset();
  // Only the first few batches were new; the rest reused buffers handed back.
  EXPECT_GE(reused, 990);
}

TEST(PrefetchTest, DeliversTheBatchesBeforeAFailureThenTheFailure) {
  auto reader = Prefetch(std::make_unique<CountingReader>(10, 3, nullptr));
  Batch b;
  for (int64_t i = 0; i < 3; ++i) {
    auto more = reader->Next(&b);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(b.columns[0].Value<int64_t>(0), i);
  }
  auto failed = reader->Next(&b);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kCorruptFile);
  EXPECT_EQ(failed.status().message(), "page 7 is damaged");
  // The failure stays.
  EXPECT_FALSE(reader->Next(&b).ok());
}

TEST(PrefetchTest, DecodesAtMostDepthAheadAndStopsWhenDropped) {
  std::atomic<int> decoded{0};
  auto reader = Prefetch(std::make_unique<CountingReader>(1'000'000, -1, &decoded), 2);
  Batch b;
  ASSERT_TRUE(*reader->Next(&b));
  // The decoder runs ahead by the queue's depth plus the batch in its hands, never further.
  for (int i = 0; i < 200 && decoded.load() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_LE(decoded.load(), 4);
  reader.reset();
  EXPECT_LE(decoded.load(), 4);
}

TEST(PrefetchTest, AnEmptyReaderEndsAtOnce) {
  auto reader = Prefetch(std::make_unique<CountingReader>(0, -1, nullptr));
  Batch b;
  auto more = reader->Next(&b);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

// Delivers `good` batches of CountingReader, then throws what `thrower` throws.
class ThrowingReader final : public BatchReader {
 public:
  ThrowingReader(int good, void (*thrower)())
      : inner_(good + 1, -1, nullptr), good_(good), thrower_(thrower) {}
  const Schema& schema() const override { return inner_.schema(); }
  int64_t num_rows() const override { return inner_.num_rows(); }
  Result<bool> Next(Batch* out) override {
    if (served_++ == good_) thrower_();
    return inner_.Next(out);
  }

 private:
  CountingReader inner_;
  int good_;
  int served_ = 0;
  void (*thrower_)();
};

TEST(PrefetchTest, AnExceptionOnTheDecodingThreadArrivesAsAFailureInOrder) {
  auto reader = Prefetch(std::make_unique<ThrowingReader>(
      2, [] { throw std::runtime_error("vector::_M_range_check: n >= size"); }));
  Batch b;
  for (int64_t i = 0; i < 2; ++i) {
    auto more = reader->Next(&b);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(b.columns[0].Value<int64_t>(0), i);
  }
  auto failed = reader->Next(&b);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kInternal);
  EXPECT_NE(failed.status().message().find("vector::_M_range_check"), std::string::npos)
      << failed.status().message();
}

TEST(PrefetchTest, BadAllocOnTheDecodingThreadIsLimitExceeded) {
  auto reader = Prefetch(std::make_unique<ThrowingReader>(0, [] { throw std::bad_alloc(); }));
  Batch b;
  auto failed = reader->Next(&b);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_NE(failed.status().message().find("more memory"), std::string::npos);
}

}  // namespace
}  // namespace sluice::batch
