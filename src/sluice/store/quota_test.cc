// The per-connection disk quota: DiskQuota's arithmetic, and StoreBackend keeping its counts
// over a real catalog, landing store, SQLite pool and loader. After every sequence of changes
// the running counts must equal what a fresh start would count from the ledger (Load).
#include "sluice/store/quota.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "sluice/store/s3_backend.h"
#include "sluice/store/store_testing.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSecond = 1'000'000;
constexpr uint64_t kMiB = 1024 * 1024;

catalog::Connection Conn(const std::string& id, std::optional<uint64_t> quota = std::nullopt) {
  catalog::Connection c;
  c.id = id;
  c.quota_bytes = quota;
  return c;
}

TEST(DiskQuotaTest, ReservesUpToTheQuotaAndReleases) {
  DiskQuota quota(100);
  auto a = quota.Reserve(Conn("shop"), 60);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(quota.UsageOf("shop"), 60u);
  auto b = quota.Reserve(Conn("shop"), 41);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ErrorCode::kQuotaExceeded);
  // The message names the connection, what it keeps, the upload and the quota.
  EXPECT_NE(b.status().message().find("connection 'shop'"), std::string::npos);
  EXPECT_NE(b.status().message().find("keeps 60 bytes"), std::string::npos);
  EXPECT_NE(b.status().message().find("needs 41 bytes more"), std::string::npos);
  EXPECT_NE(b.status().message().find("quota of 100 bytes"), std::string::npos);
  EXPECT_EQ(quota.UsageOf("shop"), 60u);     // a refusal charges nothing
  auto c = quota.Reserve(Conn("shop"), 40);  // exactly up to the quota
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(quota.UsageOf("shop"), 100u);
  // Other connections have their own count.
  EXPECT_TRUE(quota.Reserve(Conn("other"), 100).ok());
  a->Release();
  EXPECT_EQ(quota.UsageOf("shop"), 40u);
  c->Keep(30);  // landed shorter than declared: the count follows the disk
  EXPECT_EQ(quota.UsageOf("shop"), 30u);
  { auto d = quota.Reserve(Conn("shop"), 5); }  // dropped: released
  EXPECT_EQ(quota.UsageOf("shop"), 30u);
}

TEST(DiskQuotaTest, OwnQuotaOverridesTheDefaultAndZeroIsNone) {
  DiskQuota quota(10);
  EXPECT_FALSE(quota.Reserve(Conn("a"), 11).ok());
  EXPECT_TRUE(quota.Reserve(Conn("a", 20), 11).ok());
  EXPECT_TRUE(quota.Reserve(Conn("a", 0), uint64_t{1} << 50).ok());
  DiskQuota none(0);
  auto huge = none.Reserve(Conn("b"), ~uint64_t{0} - 1);
  ASSERT_TRUE(huge.ok());
  // Past the largest count: refused without overflowing, under a quota.
  EXPECT_EQ(quota.Reserve(Conn("a", 5), ~uint64_t{0}).status().code(), ErrorCode::kQuotaExceeded);
}

TEST(DiskQuotaTest, GrowChargesBytesBeyondTheDeclaredLength) {
  DiskQuota quota(100);
  auto r = quota.Reserve(Conn("shop"), 50);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Grow(50).ok());
  EXPECT_EQ(r->Grow(1).code(), ErrorCode::kQuotaExceeded);
  EXPECT_EQ(r->bytes(), 100u);
  QuotaReservation moved = std::move(r).value();
  EXPECT_EQ(quota.UsageOf("shop"), 100u);
  moved.Release();
  EXPECT_EQ(quota.UsageOf("shop"), 0u);
}

TEST(DiskQuotaTest, RemoveStopsAtZeroAndForgetDrops) {
  DiskQuota quota(0);
  quota.Add("shop", 10);
  quota.Remove("shop", 25);
  EXPECT_EQ(quota.UsageOf("shop"), 0u);
  quota.Add("shop", 7);
  quota.Forget("shop");
  EXPECT_EQ(quota.UsageOf("shop"), 0u);
  EXPECT_TRUE(quota.Usage().empty());
}

TEST(DiskQuotaTest, ConcurrentUploadsNeverShareTheLastBytes) {
  // Eight threads race for a quota of 500 in reservations of 10: exactly 50 are granted.
  DiskQuota quota(500);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  std::mutex kept_mu;
  std::vector<QuotaReservation> kept;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto r = quota.Reserve(Conn("shop"), 10);
        if (!r.ok()) continue;
        ++granted;
        std::lock_guard<std::mutex> lock(kept_mu);
        kept.push_back(std::move(r).value());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 50);
  EXPECT_EQ(quota.UsageOf("shop"), 500u);
  kept.clear();
  EXPECT_EQ(quota.UsageOf("shop"), 0u);
}

TEST(DescribeBytesTest, ExactAndReadable) {
  EXPECT_EQ(DescribeBytes(0), "0 bytes");
  EXPECT_EQ(DescribeBytes(1), "1 byte");
  EXPECT_EQ(DescribeBytes(1023), "1023 bytes");
  EXPECT_EQ(DescribeBytes(1536), "1.5 KiB (1536 bytes)");
  EXPECT_EQ(DescribeBytes(uint64_t{3} << 30), "3.0 GiB (3221225472 bytes)");
}

class QuotaBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status opened = rig_.Open(clock_);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    dir_ = rig_.dir();
    catalog_ = rig_.catalog.get();
    store_ = rig_.landing.get();
    loader_ = rig_.loader.get();
    ASSERT_TRUE(catalog_->CreateConnection("shop").ok());
    ASSERT_TRUE(catalog_->CreateConnection("other").ok());
    ASSERT_TRUE(catalog_->AddTable({"shop", "orders", {"order_id"}}).ok());
    parquet_ = SeedOrdersParquet();
    ASSERT_FALSE(parquet_.empty());
    quota_ = std::make_unique<DiskQuota>(uint64_t{0});
    ASSERT_TRUE(quota_->Load(*catalog_).ok());
    BackendOptions options;
    options.quota = quota_.get();
    backend_ = std::make_unique<StoreBackend>(*catalog_, *store_, *loader_, clock_, options);
  }
  void TearDown() override {
    backend_.reset();
    rig_.Close();
  }

  // A PUT as the S3 layer makes it: BeginPut with the declared length, the body, Commit.
  Status Put(const std::string& bucket, const std::string& key, const std::string& body) {
    s3::PutRequest req{bucket, key, "application/x-parquet", {}, body.size()};
    SLUICE_ASSIGN_OR_RETURN(auto sink, backend_->BeginPut({AccessKeyId(), bucket, false}, req));
    SLUICE_RETURN_IF_ERROR(sink->Append(AsBytes(std::string_view(body))));
    return sink->Commit({body.size(), Md5Hex(body), ""}).status();
  }
  Result<std::string> Part(const std::string& upload, int n, const std::string& body) {
    SLUICE_ASSIGN_OR_RETURN(
        auto sink, backend_->BeginUploadPart(shop_, "shop", "orders/big", upload, n, body.size()));
    SLUICE_RETURN_IF_ERROR(sink->Append(AsBytes(std::string_view(body))));
    SLUICE_RETURN_IF_ERROR(sink->Commit({body.size(), Md5Hex(body), ""}).status());
    return Md5Hex(body);
  }
  // The running count equals what a restart would count from the ledger.
  void ExpectCountsMatchTheLedger() {
    DiskQuota fresh(0);
    ASSERT_TRUE(fresh.Load(*catalog_).ok());
    for (const std::string conn : {"shop", "other"}) {
      EXPECT_EQ(quota_->UsageOf(conn), fresh.UsageOf(conn)) << conn;
    }
  }
  size_t LandedObjects() {
    auto ids = store_->ListObjects();
    return ids.ok() ? ids->size() : 0;
  }

  FakeClock clock_{1'800'000'000'000'000};  // first: outlives the rig
  StoreRig rig_{"quota_test"};
  std::string dir_;
  std::string parquet_;
  catalog::Catalog* catalog_ = nullptr;
  landing::Store* store_ = nullptr;
  load::Loader* loader_ = nullptr;
  std::unique_ptr<DiskQuota> quota_;
  std::unique_ptr<StoreBackend> backend_;
  s3::Identity shop_{AccessKeyId(), "shop", false};
};

TEST_F(QuotaBackendTest, PutOverTheQuotaIsRefusedBeforeItsBodyAndOthersKeepWriting) {
  ASSERT_TRUE(catalog_->SetConnectionQuota("shop", 1000).ok());
  ASSERT_TRUE(Put("shop", "orders/a.parquet", std::string(600, 'a')).ok());
  EXPECT_EQ(quota_->UsageOf("shop"), 600u);
  const size_t landed = LandedObjects();
  s3::PutRequest req{"shop", "orders/b.parquet", "application/x-parquet", {}, 401};
  auto refused = backend_->BeginPut(shop_, req);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kQuotaExceeded);
  EXPECT_NE(refused.status().message().find("quota of 1000 bytes"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(LandedObjects(), landed);  // nothing written
  EXPECT_EQ(quota_->UsageOf("shop"), 600u);
  // Up to the quota still fits; another connection has no quota of its own and the default
  // is none.
  EXPECT_TRUE(Put("shop", "orders/c.parquet", std::string(400, 'c')).ok());
  EXPECT_TRUE(Put("other", "x/big.bin", std::string(5000, 'x')).ok());
  ExpectCountsMatchTheLedger();
}

TEST_F(QuotaBackendTest, ABodyLongerThanDeclaredIsStoppedAndRemoved) {
  ASSERT_TRUE(catalog_->SetConnectionQuota("shop", 100).ok());
  s3::PutRequest req{"shop", "orders/a.parquet", "application/x-parquet", {}, 10};
  auto sink = backend_->BeginPut(shop_, req);
  ASSERT_TRUE(sink.ok());
  EXPECT_TRUE((*sink)->Append(AsBytes(std::string_view(std::string(90, 'a')))).ok());
  EXPECT_EQ((*sink)->Append(AsBytes(std::string_view(std::string(11, 'a')))).code(),
            ErrorCode::kQuotaExceeded);
  (*sink)->Abort();
  sink->reset();
  EXPECT_EQ(quota_->UsageOf("shop"), 0u);
  EXPECT_EQ(LandedObjects(), 0u);
}

TEST_F(QuotaBackendTest, AbortedAndFailedCommitsGiveTheirBytesBack) {
  ASSERT_TRUE(catalog_->SetConnectionQuota("shop", 100).ok());
  {
    s3::PutRequest req{"shop", "orders/a.parquet", "application/x-parquet", {}, 100};
    auto sink = backend_->BeginPut(shop_, req);
    ASSERT_TRUE(sink.ok());
    EXPECT_EQ(quota_->UsageOf("shop"), 100u);  // in flight: counted
    // The connection is dropped mid-body: the S3 layer aborts the sink.
    ASSERT_TRUE((*sink)->Append(AsBytes(std::string_view(std::string(40, 'a')))).ok());
    (*sink)->Abort();
  }
  EXPECT_EQ(quota_->UsageOf("shop"), 0u);
  {
    s3::PutRequest req{"shop", "orders/b.parquet", "application/x-parquet", {}, 100};
    auto sink = backend_->BeginPut(shop_, req);  // dropped without Abort: the destructor
    ASSERT_TRUE(sink.ok());
  }
  EXPECT_EQ(quota_->UsageOf("shop"), 0u);
  ExpectCountsMatchTheLedger();
}

TEST_F(QuotaBackendTest, HeldAndStoredFilesCountDeletesOfFinishedFilesRelease) {
  ASSERT_TRUE(catalog_->SetUnconfiguredPolicy("other", catalog::UnconfiguredPolicy::kStore).ok());
  ASSERT_TRUE(Put("other", "plain/a.bin", std::string(300, 'a')).ok());   // stored
  ASSERT_TRUE(Put("shop", "unknown/a.bin", std::string(200, 'h')).ok());  // held (failed)
  ASSERT_TRUE(Put("shop", "orders/a.parquet", parquet_).ok());            // queued
  EXPECT_EQ(quota_->UsageOf("other"), 300u);
  EXPECT_EQ(quota_->UsageOf("shop"), 200u + parquet_.size());
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  EXPECT_EQ(quota_->UsageOf("shop"), 200u + parquet_.size());  // loaded: still stored
  ExpectCountsMatchTheLedger();

  // A delete removes the bytes of a loaded or stored file, and the ledger says so.
  ASSERT_TRUE(backend_->DeleteObject(shop_, "shop", "orders/a.parquet").ok());
  ASSERT_TRUE(backend_->DeleteObject({AccessKeyId(), "other", false}, "other", "plain/a.bin").ok());
  EXPECT_EQ(quota_->UsageOf("shop"), 200u);
  EXPECT_EQ(quota_->UsageOf("other"), 0u);
  // A held file keeps its bytes (it can still be retried) until it is handled.
  ASSERT_TRUE(backend_->DeleteObject(shop_, "shop", "unknown/a.bin").ok());
  EXPECT_EQ(quota_->UsageOf("shop"), 200u);
  ExpectCountsMatchTheLedger();
  // Deleting again, or retention after the delete, releases nothing twice.
  ASSERT_TRUE(backend_->DeleteObject(shop_, "shop", "orders/a.parquet").ok());
  clock_.Advance(3600 * kSecond);
  EXPECT_EQ(*backend_->PurgeRetained(kSecond), 0);
  EXPECT_EQ(quota_->UsageOf("shop"), 200u);
  ExpectCountsMatchTheLedger();
}

TEST_F(QuotaBackendTest, RetentionReleasesWhatItPurges) {
  ASSERT_TRUE(Put("shop", "orders/a.parquet", parquet_).ok());
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  EXPECT_EQ(quota_->UsageOf("shop"), parquet_.size());
  clock_.Advance(3600 * kSecond);
  EXPECT_EQ(*backend_->PurgeRetained(kSecond), 1);
  EXPECT_EQ(quota_->UsageOf("shop"), 0u);
  ExpectCountsMatchTheLedger();
}

TEST_F(QuotaBackendTest, MultipartPartsCountOnceAndCompleteOrAbortMovesThem) {
  ASSERT_TRUE(catalog_->SetConnectionQuota("shop", 12 * kMiB).ok());
  auto upload = backend_->CreateMultipartUpload(
      shop_, s3::PutRequest{"shop", "orders/big", "application/octet-stream", {}});
  ASSERT_TRUE(upload.ok());
  const std::string first(5 * kMiB, '1');
  auto e1 = Part(*upload, 1, first);
  ASSERT_TRUE(e1.ok());
  // A re-sent part replaces the earlier one: counted once.
  e1 = Part(*upload, 1, first);
  ASSERT_TRUE(e1.ok());
  EXPECT_EQ(quota_->UsageOf("shop"), 5 * kMiB);
  auto e2 = Part(*upload, 2, std::string(5 * kMiB, '2'));
  ASSERT_TRUE(e2.ok());
  // A third part would go over.
  auto refused = backend_->BeginUploadPart(shop_, "shop", "orders/big", *upload, 3, 3 * kMiB);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kQuotaExceeded);
  auto e3 = Part(*upload, 3, std::string(kMiB, '3'));  // left out of the Complete below
  ASSERT_TRUE(e3.ok());
  EXPECT_EQ(quota_->UsageOf("shop"), 11 * kMiB);
  ExpectCountsMatchTheLedger();
  // Complete: the object replaces every part (the unlisted one is removed too).
  auto done =
      backend_->CompleteMultipartUpload(shop_, "shop", "orders/big", *upload, {{1, *e1}, {2, *e2}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(quota_->UsageOf("shop"), 10 * kMiB);
  ExpectCountsMatchTheLedger();

  // Abort gives the parts back; so does expiry.
  auto second = backend_->CreateMultipartUpload(
      shop_, s3::PutRequest{"shop", "orders/big", "application/octet-stream", {}});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(Part(*second, 1, std::string(kMiB, 'a')).ok());
  EXPECT_EQ(quota_->UsageOf("shop"), 11 * kMiB);
  ASSERT_TRUE(backend_->AbortMultipartUpload(shop_, "shop", "orders/big", *second).ok());
  EXPECT_EQ(quota_->UsageOf("shop"), 10 * kMiB);
  auto third = backend_->CreateMultipartUpload(
      shop_, s3::PutRequest{"shop", "orders/big", "application/octet-stream", {}});
  ASSERT_TRUE(third.ok());
  ASSERT_TRUE(Part(*third, 1, std::string(kMiB, 'b')).ok());
  clock_.Advance(int64_t{48} * 3600 * kSecond);
  EXPECT_EQ(*backend_->ReapExpiredUploads(), 1);
  EXPECT_EQ(quota_->UsageOf("shop"), 10 * kMiB);
  ExpectCountsMatchTheLedger();
}

TEST_F(QuotaBackendTest, DeleteBucketForgetsTheConnection) {
  ASSERT_TRUE(Put("other", "x/a.bin", std::string(10, 'a')).ok());  // held: other has no table
  // A held file keeps the bucket from being empty until it is deleted.
  ASSERT_TRUE(backend_->DeleteObject({AccessKeyId(), "other", false}, "other", "x/a.bin").ok());
  auto account = catalog_->CreateAccountKey(0);
  ASSERT_TRUE(account.ok());
  ASSERT_TRUE(backend_->DeleteBucket({account->access_key, "", true}, "other").ok());
  EXPECT_EQ(quota_->UsageOf("other"), 0u);
}

}  // namespace
}  // namespace sluice::store
