// Flow control, waits, retention and checksums of the store, over a real catalog,
// landing store, SQLite pool and loader (loads run synchronously with Loader::LoadNext), a fake
// clock and a file system whose free space the test sets.
#include "sluice/store/flow.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <thread>

#include "sluice/core/testing/fake_monotonic_clock.h"
#include "sluice/core/testing/faulty_fs.h"
#include "sluice/store/s3_backend.h"
#include "sluice/store/store_testing.h"
#include "sluice/store/upload_observer.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kSecond = 1'000'000;

std::string Header(const http::HeaderList& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// What the store reports for the metrics page, as it reports it.
class RecordedEvents final : public UploadObserver, public load::LoadObserver {
 public:
  void OnReceived(const std::string&, uint64_t) override {}
  void OnRefused(const std::string& connection, std::string_view limit) override {
    MutexLock lock(&mu_);
    ++refused[{connection, std::string(limit)}];
  }
  void OnFileFinished(const load::LoadEvent&) override {}

  // (connection, limit) -> refusals; read once the refusing calls returned.
  std::map<std::pair<std::string, std::string>, int> refused;

 private:
  Mutex mu_;
};

// The real file system with a free space the test sets.
class FreeSpaceFs final : public testing::ForwardingFileSystem {
 public:
  Result<uint64_t> FreeBytes(const std::string&) override { return free_.load(); }

  std::atomic<uint64_t> free_{uint64_t{1} << 40};
};

class FlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status opened = rig_.Open(clock_, fs_);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    dir_ = rig_.dir();
    catalog_ = rig_.catalog.get();
    store_ = rig_.landing.get();
    loader_ = rig_.loader.get();
    ASSERT_TRUE(catalog_->CreateConnection("shop").ok());
    ASSERT_TRUE(catalog_->AddTable({"shop", "orders", {"order_id"}}).ok());
    parquet_ = SeedOrdersParquet();
    ASSERT_FALSE(parquet_.empty());
  }

  // Builds the loader and backend with these limits (after the test chose them).
  void Build(FlowLimits limits = {}) {
    backpressure_ = std::make_unique<Backpressure>(*catalog_, *store_, limits, &metrics_, ticks_);
    waits_ = std::make_unique<LoadWaits>(*catalog_, ticks_);
    loader_->AddObserver(&metrics_);
    loader_->AddObserver(backpressure_.get());
    loader_->AddObserver(waits_.get());
    ASSERT_TRUE(backpressure_->Refresh().ok());
    BackendOptions options;
    options.backpressure = backpressure_.get();
    options.waits = waits_.get();
    options.metrics = &metrics_;
    backend_ = std::make_unique<StoreBackend>(*catalog_, *store_, *loader_, clock_, options);
  }

  void TearDown() override {
    if (waits_) waits_->Stop();
    backend_.reset();
    waits_.reset();
    backpressure_.reset();
    rig_.Close();
  }

  struct Put {
    Status status;
    http::Response response;
  };
  // A PUT through the backend: BeginPut, the body, Commit, then Respond as s3 calls it.
  Put DoPut(const std::string& key, const std::string& body,
            std::vector<std::pair<std::string, std::string>> meta = {},
            std::vector<std::pair<std::string, std::string>> checksums = {}) {
    Put out;
    s3::PutRequest req{"shop", key, "application/x-parquet", std::move(meta)};
    auto sink = backend_->BeginPut(shop_, req);
    if (!sink.ok()) {
      out.status = sink.status();
      return out;
    }
    out.status = (*sink)->Append(AsBytes(body));
    if (!out.status.ok()) return out;
    s3::ObjectDigests digests{body.size(), Md5Hex(body), ""};
    digests.checksums = std::move(checksums);
    auto headers = (*sink)->Commit(digests);
    if (!headers.ok()) {
      out.status = headers.status();
      return out;
    }
    http::Response r;
    r.headers = *headers;
    out.response = (*sink)->Respond(std::move(r));
    return out;
  }

  size_t ObjectFiles() {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir_ + "/landing/objects"), fs::directory_iterator()));
  }

  FakeClock clock_{1'800'000'000'000'000};  // first: these outlive the rig
  testing::FakeMonotonicClock ticks_;       // drives the waits' deadlines and poll
  FreeSpaceFs fs_;
  StoreRig rig_{"flow_test"};
  std::string dir_;
  catalog::Catalog* catalog_ = nullptr;
  landing::Store* store_ = nullptr;
  RecordedEvents metrics_;
  load::Loader* loader_ = nullptr;
  std::unique_ptr<Backpressure> backpressure_;
  std::unique_ptr<LoadWaits> waits_;
  std::unique_ptr<StoreBackend> backend_;
  s3::Identity shop_{AccessKeyId(""), "shop", false};
  std::string parquet_;
};

TEST(FlowParseTest, Waits) {
  EXPECT_EQ(*WaitSecondsOf({}), 0);
  EXPECT_EQ(*WaitSecondsOf({{"x-amz-meta-other", "x"}, {"x-amz-meta-sluice-wait", "30"}}), 30);
  EXPECT_EQ(*WaitSecondsOf({{"x-amz-meta-sluice-wait", "100000"}}), kMaxWaitSeconds);
  for (const char* bad : {"", "-1", "1.5", "ten", " 3"}) {
    auto w = WaitSecondsOf({{"x-amz-meta-sluice-wait", bad}});
    EXPECT_EQ(w.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_F(FlowTest, InvalidWaitIsRefusedBeforeTheBody) {
  Build();
  auto put = DoPut("orders/a.parquet", parquet_, {{"x-amz-meta-sluice-wait", "soon"}});
  EXPECT_EQ(put.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(put.status.message().find("x-amz-meta-sluice-wait"), std::string::npos);
  auto create = backend_->CreateMultipartUpload(
      shop_, {"shop", "orders/m.parquet", "", {{"x-amz-meta-sluice-wait", "-5"}}});
  EXPECT_EQ(create.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ObjectFiles(), 0u);
}

TEST_F(FlowTest, WaitIsAnsweredByTheLoadWithItsOutcome) {
  Build();
  auto put = DoPut("orders/a.parquet", parquet_, {{"x-amz-meta-sluice-wait", "30"}});
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  ASSERT_TRUE(put.response.deferred);
  EXPECT_FALSE(put.response.deferred->completed());
  EXPECT_EQ(waits_->waiting(), 1u);
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  auto done = put.response.deferred->Peek();
  ASSERT_TRUE(done);
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-status"), "loaded");
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-seq"), "1");
  EXPECT_NE(Header(done->headers, "x-amz-meta-sluice-rows-inserted"), "0");
  EXPECT_EQ(waits_->waiting(), 0u);

  // A bad file: the wait ends with failed and its error code.
  put = DoPut("orders/bad.parquet", "not parquet at all", {{"x-amz-meta-sluice-wait", "30"}});
  ASSERT_TRUE(put.status.ok());
  ASSERT_TRUE(put.response.deferred);
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  done = put.response.deferred->Peek();
  ASSERT_TRUE(done);
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-status"), "failed");
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-error-code"), "UNSUPPORTED_FORMAT");

  // Already finished when the response is built (an unconfigured table under `hold` is failed
  // at once): answered without deferral.
  put = DoPut("misc/x.bin", "x", {{"x-amz-meta-sluice-wait", "30"}});
  ASSERT_TRUE(put.status.ok());
  EXPECT_FALSE(put.response.deferred);
  EXPECT_EQ(Header(put.response.headers, "x-amz-meta-sluice-error-code"), "TABLE_NOT_CONFIGURED");
}

TEST_F(FlowTest, WaitTimesOutWithTheStateSoFarAndSeesOtherProcesses) {
  Build();
  waits_->Start();
  auto put = DoPut("orders/a.parquet", parquet_, {{"x-amz-meta-sluice-wait", "1"}});
  ASSERT_TRUE(put.response.deferred);
  // The wait's thread sleeps on the fake clock: not answered at 900 ms, answered at 1 s.
  ASSERT_TRUE(ticks_.AwaitSleepers(1));
  ticks_.Advance(900ms);
  ASSERT_TRUE(ticks_.AwaitSleepers(1));  // it woke (a poll), checked, and sleeps again
  EXPECT_FALSE(put.response.deferred->completed());
  ticks_.Advance(100ms);
  ASSERT_TRUE(ticks_.AwaitSleepers(1));
  auto done = put.response.deferred->Peek();
  ASSERT_TRUE(done);
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-status"), "queued");

  // A status changed behind the loader's back (as the CLI does from another process) is
  // found by the poll.
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));  // loads a.parquet
  put = DoPut("orders/b.parquet", "broken", {{"x-amz-meta-sluice-wait", "30"}});
  ASSERT_TRUE(put.response.deferred);
  ASSERT_TRUE(catalog_->MarkFailed(2, Err(ErrorCode::kCorruptFile, "marked by hand")).ok());
  // Found within one poll interval (the wait itself is 30 s).
  ASSERT_TRUE(ticks_.AwaitSleepers(1));
  ticks_.Advance(LoadWaits::kPollInterval);
  ASSERT_TRUE(ticks_.AwaitSleepers(1));
  done = put.response.deferred->Peek();
  ASSERT_TRUE(done);
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-status"), "failed");

  // Stop answers whoever still waits.
  put = DoPut("orders/c.parquet", parquet_, {{"x-amz-meta-sluice-wait", "900"}});
  ASSERT_TRUE(put.response.deferred);
  waits_->Stop();
  ASSERT_TRUE(put.response.deferred->completed());
  EXPECT_EQ(Header(put.response.deferred->Peek()->headers, "x-amz-meta-sluice-status"), "queued");
}

// Another node's change to a shared ledger (its loader finished the file) is announced by the
// catalog's notification: the waiter is answered within kMinPollGap, not the poll interval.
TEST_F(FlowTest, ALedgerChangeElsewhereIsFoundAtOnce) {
  Build();
  waits_->Start();
  auto put = DoPut("orders/b.parquet", "broken", {{"x-amz-meta-sluice-wait", "30"}});
  ASSERT_TRUE(put.response.deferred);
  ASSERT_TRUE(ticks_.AwaitSleepers(1));
  ticks_.Advance(LoadWaits::kMinPollGap);  // nothing changed yet: it waits on
  ASSERT_TRUE(ticks_.AwaitSleepers(1));
  EXPECT_FALSE(put.response.deferred->completed());
  ASSERT_TRUE(catalog_->MarkFailed(1, Err(ErrorCode::kCorruptFile, "failed elsewhere")).ok());
  waits_->OnLedgerChanged();
  // The fake clock stays 10 ms past the start, far from the 500 ms poll.
  for (int i = 0; i < 5000 && !put.response.deferred->completed(); ++i) {
    std::this_thread::sleep_for(1ms);
  }
  auto done = put.response.deferred->Peek();
  ASSERT_TRUE(done);
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-status"), "failed");
  waits_->Stop();
}

TEST_F(FlowTest, PendingFilesLimitRefusesWithSlowDownUntilTheQueueDrains) {
  FlowLimits limits;
  limits.max_pending_files = 2;
  Build(limits);
  ASSERT_TRUE(DoPut("orders/1.parquet", parquet_).status.ok());
  ASSERT_TRUE(DoPut("orders/2.parquet", parquet_).status.ok());
  auto refused = DoPut("orders/3.parquet", parquet_);
  EXPECT_EQ(refused.status.code(), ErrorCode::kSlowDown);
  EXPECT_NE(refused.status.message().find("--max-pending-files"), std::string::npos);
  EXPECT_NE(refused.status.message().find("'shop'"), std::string::npos);
  // Multipart creation and parts are refused the same way.
  EXPECT_EQ(
      backend_->CreateMultipartUpload(shop_, {"shop", "orders/m.parquet", "", {}}).status().code(),
      ErrorCode::kSlowDown);
  EXPECT_EQ(ObjectFiles(), 2u);
  // A fresh counter (a restart) derives the same from the ledger.
  Backpressure fresh(*catalog_, *store_, limits);
  ASSERT_TRUE(fresh.Refresh().ok());
  EXPECT_EQ(fresh.PendingOf("shop").files, 2);
  EXPECT_EQ(fresh.PendingOf("shop").bytes, static_cast<int64_t>(2 * parquet_.size()));

  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  EXPECT_EQ(backpressure_->PendingOf("shop").files, 1);
  EXPECT_TRUE(DoPut("orders/3.parquet", parquet_).status.ok());
  auto files = catalog_->ListFiles("shop", "orders");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 3u);
}

TEST_F(FlowTest, PendingBytesLimitAndDiskFloor) {
  FlowLimits limits;
  limits.max_pending_bytes = 10;
  limits.min_free_disk = 1000;
  Build(limits);
  ASSERT_TRUE(DoPut("orders/1.parquet", parquet_).status.ok());
  auto refused = DoPut("orders/2.parquet", parquet_);
  EXPECT_EQ(refused.status.code(), ErrorCode::kSlowDown);
  EXPECT_NE(refused.status.message().find("--max-pending-bytes"), std::string::npos);
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));

  fs_.free_ = 999;
  refused = DoPut("orders/2.parquet", parquet_);
  EXPECT_EQ(refused.status.code(), ErrorCode::kSlowDown);
  EXPECT_NE(refused.status.message().find("--min-free-disk"), std::string::npos);
  EXPECT_EQ(backend_->BeginUploadPart(shop_, "shop", "orders/x", "0123", 1, 0).status().code(),
            ErrorCode::kNoSuchUpload);  // unknown upload first: nothing to refuse
  EXPECT_EQ(ObjectFiles(), 1u);
  EXPECT_EQ(catalog_->ListFiles("shop")->size(), 1u);
  fs_.free_ = 1000;
  EXPECT_TRUE(DoPut("orders/2.parquet", parquet_).status.ok());

  // Each refusal is reported once, by limit (api/metrics_test.cc renders them).
  EXPECT_EQ(metrics_.refused, (std::map<std::pair<std::string, std::string>, int>{
                                  {{"shop", "bytes"}, 1}, {{"shop", "disk"}, 1}}));
}

TEST_F(FlowTest, AFullDiskMidBodyIsSlowDown) {
  // /dev/full fails every write with ENOSPC.
  auto file = FileSystem::Default().NewWritableFile("/dev/full");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const std::string data(1 << 16, 'x');
  Status st = (*file)->Append(AsBytes(data));
  if (st.ok()) st = (*file)->Sync();
  EXPECT_EQ(st.code(), ErrorCode::kSlowDown) << st.ToString();
  EXPECT_NE(st.message().find("/dev/full"), std::string::npos);
}

TEST_F(FlowTest, RetentionPurgesFinishedFilesOnly) {
  Build();
  ASSERT_TRUE(DoPut("orders/old.parquet", parquet_).status.ok());
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  ASSERT_TRUE(DoPut("orders/bad.parquet", "broken").status.ok());
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));  // failed: blocks the table
  ASSERT_TRUE(DoPut("orders/queued.parquet", parquet_).status.ok());
  ASSERT_TRUE(DoPut("misc/stored.bin", "x").status.ok());  // failed at once (hold)
  ASSERT_EQ(ObjectFiles(), 4u);

  const int64_t retention = 3600 * kSecond;
  EXPECT_EQ(*backend_->PurgeRetained(retention), 0);
  clock_.Advance(retention + kSecond);
  EXPECT_EQ(*backend_->PurgeRetained(retention), 1);
  EXPECT_EQ(*backend_->PurgeRetained(retention), 0);
  EXPECT_EQ(ObjectFiles(), 3u);
  EXPECT_EQ(backend_->GetObject(shop_, "shop", "orders/old.parquet", false).status().code(),
            ErrorCode::kNoSuchKey);
  auto listed = backend_->ListObjects(shop_, "shop", {"orders/", "", 100});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->objects.size(), 2u);
  EXPECT_EQ(listed->objects[0].key, "orders/bad.parquet");
  auto old = catalog_->GetFile(1);
  ASSERT_TRUE(old.ok() && *old);
  EXPECT_EQ((*old)->status, catalog::FileStatus::kLoaded);
  EXPECT_EQ((*old)->purged_at, clock_.NowMicros());
  EXPECT_FALSE((*old)->deleted);  // purged by retention, not deleted by anyone
  for (int64_t seq : {2, 3, 4}) EXPECT_EQ((*catalog_->GetFile(seq))->purged_at, 0) << seq;
  EXPECT_EQ(*backend_->PurgeRetained(0), 0);  // 0: keep for ever
}

TEST_F(FlowTest, VerifiedChecksumsAreRecordedInTheLedger) {
  Build();
  ASSERT_TRUE(DoPut("orders/a.parquet", parquet_, {}, {{"crc32c", "yZRlqg=="}}).status.ok());
  ASSERT_TRUE(DoPut("orders/b.parquet", parquet_).status.ok());
  EXPECT_EQ((*catalog_->GetFile(1))->checksums_json, R"({"crc32c":"yZRlqg=="})");
  EXPECT_EQ((*catalog_->GetFile(2))->checksums_json, "{}");
}

}  // namespace
}  // namespace sluice::store
