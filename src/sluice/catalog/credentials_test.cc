// The key life cycle (credentials.cc): rotation with at most two active keys, revocation,
// expiry and the batched last-used times.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/catalog_testing.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::catalog {
namespace {

namespace fs = std::filesystem;

using testing_util::CatalogKind;

// Runs on both catalogs.
class CredentialsTest : public ::testing::TestWithParam<CatalogKind> {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    store_ = std::make_unique<testing_util::CatalogStore>(GetParam(), root_ + "/data");
  }

  std::unique_ptr<Catalog> OpenCatalog() {
    auto c = store_->Open(FileSystem::Default(), clock_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  testing::TempDir tmp_{"credentials_test"};  // first: removed after everything using it
  std::string root_;
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<testing_util::CatalogStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Catalogs, CredentialsTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(CredentialsTest, KeyRotationKeepsAtMostTwoActiveKeys) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto conn = cat->CreateConnection("shop");
  ASSERT_TRUE(conn.ok());
  const AccessKeyId first = conn->access_key;
  clock_.Advance(1'000'000);
  auto second = cat->RotateKey("shop", 0);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->access_key, first);
  // Both work during the rotation.
  EXPECT_TRUE(cat->LookupAccessKey(first).value().has_value());
  EXPECT_TRUE(cat->LookupAccessKey(second->access_key).value().has_value());
  // A third is refused, naming the keys and what to do.
  auto third = cat->RotateKey("shop", 0);
  ASSERT_EQ(third.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_NE(third.status().message().find(first.str()), std::string::npos);
  EXPECT_NE(third.status().message().find("sluice credentials revoke " + first.str()),
            std::string::npos)
      << third.status().message();
  // Revoking the old key makes room; the revoked key is refused at once.
  clock_.Advance(1'000'000);
  ASSERT_TRUE(cat->RevokeKey(first).ok());
  EXPECT_FALSE(cat->LookupAccessKey(first).value().has_value());
  EXPECT_EQ(cat->RevokeKey(first).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat->RevokeKey(AccessKeyId("AKIDNOSUCHKEY0000000")).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(cat->RotateKey("shop", 0).ok());
  EXPECT_EQ(cat->RotateKey("nope", 0).status().code(), ErrorCode::kNotFound);

  auto keys = cat->ListKeys("shop");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].access_key, first);
  EXPECT_EQ((*keys)[0].state, KeyState::kRevoked);
  EXPECT_EQ((*keys)[0].revoked_at, clock_.NowMicros());
  EXPECT_EQ((*keys)[1].state, KeyState::kActive);
  EXPECT_EQ((*keys)[2].state, KeyState::kActive);
  EXPECT_EQ(KeyStateName(KeyState::kExpired), "expired");
  // Other connections' keys and account keys are listed only in the full list.
  ASSERT_TRUE(cat->CreateConnection("other").ok());
  ASSERT_TRUE(cat->CreateAccountKey(0).ok());
  EXPECT_EQ(cat->ListKeys("shop")->size(), 3u);
  EXPECT_EQ(cat->ListKeys("")->size(), 5u);
}

TEST_P(CredentialsTest, ExpiredKeysAreRefusedAndFreeARotationSlot) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const int64_t hour = 3600'000'000;
  EXPECT_EQ(cat->RotateKey("shop", clock_.NowMicros()).status().code(),
            ErrorCode::kInvalidArgument);  // not in the future
  clock_.Advance(1);                       // listed after the connection's first key
  auto temp = cat->RotateKey("shop", clock_.NowMicros() + hour);
  ASSERT_TRUE(temp.ok()) << temp.status().ToString();
  EXPECT_TRUE(cat->LookupAccessKey(temp->access_key).value().has_value());
  EXPECT_EQ(cat->RotateKey("shop", 0).status().code(), ErrorCode::kLimitExceeded);
  clock_.Advance(hour);
  EXPECT_FALSE(cat->LookupAccessKey(temp->access_key).value().has_value());
  auto keys = cat->ListKeys("shop");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->back().state, KeyState::kExpired);
  EXPECT_EQ(keys->back().expires_at, clock_.NowMicros());
  EXPECT_TRUE(cat->RotateKey("shop", 0).ok());  // the expired key no longer counts
  // Account keys expire the same way.
  auto account = cat->CreateAccountKey(clock_.NowMicros() + 1);
  ASSERT_TRUE(account.ok());
  clock_.Advance(1);
  EXPECT_FALSE(cat->LookupAccessKey(account->access_key).value().has_value());
  EXPECT_EQ(cat->CreateAccountKey(1).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(CredentialsTest, KeyUsesAreRecordedInOneBatchNeverBackwards) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto conn = cat->CreateConnection("shop");
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(cat->ListKeys("shop")->front().last_used_at, 0);
  ASSERT_TRUE(
      cat->RecordKeyUses({{conn->access_key, 5000}, {AccessKeyId("AKIDNOSUCHKEY0000000"), 7000}})
          .ok());
  EXPECT_EQ(cat->ListKeys("shop")->front().last_used_at, 5000);
  ASSERT_TRUE(cat->RecordKeyUses({{conn->access_key, 4000}}).ok());  // an older batch
  EXPECT_EQ(cat->ListKeys("shop")->front().last_used_at, 5000);
  EXPECT_TRUE(cat->RecordKeyUses({}).ok());
}

}  // namespace
}  // namespace sluice::catalog
