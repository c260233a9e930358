#include "sluice/store/key_usage.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "sluice/core/testing/temp_dir.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

class KeyUsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    auto c = catalog::Catalog::Open(root_ + "/data", FileSystem::Default(), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
    auto conn = catalog_->CreateConnection("shop");
    ASSERT_TRUE(conn.ok());
    key_ = conn->access_key;
  }

  int64_t LastUsed() { return catalog_->ListKeys("shop").value().front().last_used_at; }

  testing::TempDir tmp_{"key_usage_test"};  // first: removed after everything using it
  std::string root_;
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<catalog::Catalog> catalog_;
  AccessKeyId key_;
};

TEST_F(KeyUsageTest, WritesAtMostOncePerIntervalAndOnDestruction) {
  {
    KeyUsage usage(*catalog_, clock_);
    usage.Note(key_);
    EXPECT_EQ(LastUsed(), 0);  // kept in memory
    clock_.Advance(kKeyUsageFlushMicros - 1);
    usage.Note(key_);
    EXPECT_EQ(LastUsed(), 0);
    clock_.Advance(1);
    usage.Note(key_);  // the interval has passed: the batch is written, with the latest time
    EXPECT_EQ(LastUsed(), clock_.NowMicros());
    const int64_t written = clock_.NowMicros();
    clock_.Advance(5'000'000);
    usage.Note(key_);
    EXPECT_EQ(LastUsed(), written);
  }
  EXPECT_EQ(LastUsed(), clock_.NowMicros());  // the destructor flushed the rest
}

TEST_F(KeyUsageTest, FlushWritesNowAndAnUnknownKeyIsHarmless) {
  KeyUsage usage(*catalog_, clock_);
  usage.Note(AccessKeyId("AKIDNOSUCHKEY0000000"));
  usage.Note(key_);
  ASSERT_TRUE(usage.Flush().ok());
  EXPECT_EQ(LastUsed(), clock_.NowMicros());
  EXPECT_TRUE(usage.Flush().ok());  // nothing pending
}

}  // namespace
}  // namespace sluice::store
