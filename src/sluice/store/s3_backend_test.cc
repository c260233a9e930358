// StoreBackend driven directly, over a real catalog, landing store, SQLite pool and loader
// (loads run synchronously with Loader::LoadNext), with a fake clock for expiry.
#include "sluice/store/s3_backend.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "sluice/core/testing/fake_monotonic_clock.h"
#include "sluice/store/reaper.h"
#include "sluice/store/store_testing.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr int64_t kHour = int64_t{3600} * 1'000'000;

std::string Md5Bin(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// A distinct body of `n` bytes.
std::string Body(char seed, size_t n) {
  std::string s(n, seed);
  for (size_t i = 0; i < n; i += 997) s[i] = static_cast<char>('a' + (i / 997) % 26);
  return s;
}

std::string Header(const http::HeaderList& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

class BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status opened = rig_.Open(clock_);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    dir_ = rig_.dir();
    catalog_ = rig_.catalog.get();
    store_ = rig_.landing.get();
    pool_ = rig_.pool.get();
    loader_ = rig_.loader.get();
    backend_ = std::make_unique<StoreBackend>(*catalog_, *store_, *loader_, clock_);

    auto shop = catalog_->CreateConnection("shop");
    ASSERT_TRUE(shop.ok());
    shop_ = {shop->access_key, "shop", false};
    auto other = catalog_->CreateConnection("other");
    ASSERT_TRUE(other.ok());
    other_ = {other->access_key, "other", false};
    auto account = catalog_->CreateAccountKey(0);
    ASSERT_TRUE(account.ok());
    account_ = {account->access_key, "", true};
    ASSERT_TRUE(catalog_->AddTable({"shop", "orders", {"order_id"}}).ok());
  }
  void TearDown() override {
    backend_.reset();
    rig_.Close();
  }

  static Status Stream(s3::ObjectSink& sink, const std::string& body) {
    // A few appends, as the body would arrive.
    const size_t step = std::max<size_t>(1, body.size() / 3);
    for (size_t at = 0; at < body.size(); at += step) {
      SLUICE_RETURN_IF_ERROR(sink.Append(
          AsBytes(std::string_view(body).substr(at, std::min(step, body.size() - at)))));
    }
    return Status::Ok();
  }

  Result<http::HeaderList> Put(const s3::Identity& who, const std::string& bucket,
                               const std::string& key, const std::string& body,
                               std::vector<std::pair<std::string, std::string>> meta = {}) {
    s3::PutRequest req{bucket, key, "application/octet-stream", std::move(meta)};
    SLUICE_ASSIGN_OR_RETURN(auto sink, backend_->BeginPut(who, req));
    SLUICE_RETURN_IF_ERROR(Stream(*sink, body));
    return sink->Commit({body.size(), Md5Hex(body), ""});
  }

  // Uploads a part and returns its ETag.
  Result<std::string> Part(const s3::Identity& who, const std::string& bucket,
                           const std::string& key, const std::string& upload, int n,
                           const std::string& body) {
    SLUICE_ASSIGN_OR_RETURN(auto sink,
                            backend_->BeginUploadPart(who, bucket, key, upload, n, body.size()));
    SLUICE_RETURN_IF_ERROR(Stream(*sink, body));
    SLUICE_RETURN_IF_ERROR(sink->Commit({body.size(), Md5Hex(body), ""}).status());
    return Md5Hex(body);
  }

  Result<std::string> Create(const s3::Identity& who, const std::string& bucket,
                             const std::string& key,
                             std::vector<std::pair<std::string, std::string>> meta = {}) {
    return backend_->CreateMultipartUpload(
        who, s3::PutRequest{bucket, key, "application/x-parquet", std::move(meta)});
  }

  std::string ReadAll(const s3::ObjectData& data) {
    EXPECT_TRUE(data.file);
    if (!data.file) return "";
    std::vector<uint8_t> bytes;
    EXPECT_TRUE(data.file->ReadAt(0, data.file->size(), &bytes).ok());
    return std::string(bytes.begin(), bytes.end());
  }

  std::string GetBody(const s3::Identity& who, const std::string& bucket, const std::string& key) {
    auto got = backend_->GetObject(who, bucket, key, true);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? ReadAll(*got) : "";
  }

  ErrorCode GetCode(const s3::Identity& who, const std::string& bucket, const std::string& key) {
    return backend_->GetObject(who, bucket, key, false).status().code();
  }

  std::vector<std::string> UploadDirs() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ + "/landing/uploads")) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }

  size_t ObjectFiles() {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir_ + "/landing/objects"), fs::directory_iterator()));
  }

  FakeClock clock_{1'800'000'000'000'000};  // first: outlives the rig
  StoreRig rig_{"s3_backend_test"};
  std::string dir_;
  catalog::Catalog* catalog_ = nullptr;
  landing::Store* store_ = nullptr;
  pool::Pool* pool_ = nullptr;
  load::Loader* loader_ = nullptr;
  std::unique_ptr<StoreBackend> backend_;
  s3::Identity shop_, other_, account_;
};

TEST_F(BackendTest, MultipartOutOfOrderAndResentParts) {
  auto upload = Create(shop_, "shop", "orders/big.bin",
                       {{"x-amz-meta-origin", "nightly"}, {"x-amz-meta-n", "3"}});
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  EXPECT_EQ(upload->size(), 32u);

  const std::string p1 = Body('1', 5 * kMiB);
  const std::string p2 = Body('2', 5 * kMiB + 3);
  const std::string p3 = Body('3', 1234);
  ASSERT_TRUE(Part(shop_, "shop", "orders/big.bin", *upload, 3, p3).ok());
  ASSERT_TRUE(Part(shop_, "shop", "orders/big.bin", *upload, 1, Body('x', 5 * kMiB)).ok());
  ASSERT_TRUE(Part(shop_, "shop", "orders/big.bin", *upload, 2, p2).ok());
  ASSERT_TRUE(Part(shop_, "shop", "orders/big.bin", *upload, 1, p1).ok());  // re-sent

  auto parts = backend_->ListParts(shop_, "shop", "orders/big.bin", *upload, {});
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].part_number, 1);
  EXPECT_EQ((*parts)[0].etag, Md5Hex(p1));
  EXPECT_EQ((*parts)[0].size, p1.size());
  EXPECT_EQ((*parts)[0].last_modified, clock_.NowMicros());
  EXPECT_EQ((*parts)[2].size, p3.size());
  auto uploads = backend_->ListMultipartUploads(shop_, "shop", {"orders/"});
  ASSERT_TRUE(uploads.ok());
  ASSERT_EQ(uploads->size(), 1u);
  EXPECT_EQ((*uploads)[0].upload_id, *upload);
  EXPECT_EQ((*uploads)[0].key, "orders/big.bin");
  EXPECT_TRUE(backend_->ListMultipartUploads(shop_, "shop", {"misc/"})->empty());
  // Not an object until completed.
  EXPECT_EQ(GetCode(shop_, "shop", "orders/big.bin"), ErrorCode::kNoSuchKey);

  clock_.Advance(5'000'000);
  const size_t objects_before = ObjectFiles();
  auto done = backend_->CompleteMultipartUpload(
      shop_, "shop", "orders/big.bin", *upload,
      {{1, "\"" + Md5Hex(p1) + "\""}, {2, Md5Hex(p2)}, {3, Md5Hex(p3)}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  const std::string expected_etag =
      Md5Hex(Md5Bin(Md5Hex(p1)) + Md5Bin(Md5Hex(p2)) + Md5Bin(Md5Hex(p3))) + "-3";
  EXPECT_EQ(done->etag, expected_etag);
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-status"), "queued");
  EXPECT_EQ(ObjectFiles(), objects_before + 1);
  EXPECT_TRUE(UploadDirs().empty());
  EXPECT_TRUE(backend_->ListMultipartUploads(shop_, "shop", {""})->empty());

  auto got = backend_->GetObject(shop_, "shop", "orders/big.bin", true);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(ReadAll(*got), p1 + p2 + p3);
  EXPECT_EQ(got->info.size, p1.size() + p2.size() + p3.size());
  EXPECT_EQ(got->info.etag, expected_etag);
  EXPECT_EQ(got->info.content_type, "application/x-parquet");
  EXPECT_EQ(got->info.last_modified, clock_.NowMicros());
  EXPECT_EQ(got->info.user_metadata, (std::vector<std::pair<std::string, std::string>>{
                                         {"x-amz-meta-n", "3"}, {"x-amz-meta-origin", "nightly"}}));
  EXPECT_EQ(Header(got->info.status_headers, "x-amz-meta-sluice-seq"),
            Header(done->headers, "x-amz-meta-sluice-seq"));
  auto file = catalog_->VisibleFile("shop", "orders/big.bin");
  ASSERT_TRUE(file.ok() && file->has_value());
  EXPECT_EQ((*file)->table, "orders");
  EXPECT_EQ((*file)->status, catalog::FileStatus::kQueued);
}

TEST_F(BackendTest, MultipartErrors) {
  const std::string key = "orders/e.bin";
  auto upload = Create(shop_, "shop", key);
  ASSERT_TRUE(upload.ok());
  const std::string big = Body('b', 5 * kMiB);
  auto e1 = Part(shop_, "shop", key, *upload, 1, Body('s', 100));  // too small unless last
  auto e2 = Part(shop_, "shop", key, *upload, 2, big);
  auto e3 = Part(shop_, "shop", key, *upload, 3, "tail");
  ASSERT_TRUE(e1.ok() && e2.ok() && e3.ok());

  auto complete = [&](std::vector<s3::CompletedPart> parts) {
    return backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, parts).status().code();
  };
  EXPECT_EQ(complete({{1, *e1}, {2, *e2}}), ErrorCode::kEntityTooSmall);
  EXPECT_EQ(complete({{2, *e2}, {1, *e1}}), ErrorCode::kInvalidPartOrder);
  EXPECT_EQ(complete({{2, *e2}, {2, *e2}}), ErrorCode::kInvalidPartOrder);
  EXPECT_EQ(complete({{2, *e2}, {4, *e3}}), ErrorCode::kInvalidPart);  // never uploaded
  EXPECT_EQ(complete({{2, *e2}, {3, *e1}}), ErrorCode::kInvalidPart);  // wrong ETag
  EXPECT_EQ(complete({{2, *e2}, {3, "not-an-etag"}}), ErrorCode::kInvalidPart);
  EXPECT_EQ(complete({}), ErrorCode::kMalformedXml);
  EXPECT_EQ(
      backend_->CompleteMultipartUpload(shop_, "shop", "orders/other.bin", *upload, {{2, *e2}})
          .status()
          .code(),
      ErrorCode::kNoSuchUpload);  // the upload belongs to another key
  EXPECT_EQ(
      backend_->CompleteMultipartUpload(shop_, "shop", key, "0123", {{2, *e2}}).status().code(),
      ErrorCode::kNoSuchUpload);
  EXPECT_EQ(
      backend_->CompleteMultipartUpload(other_, "shop", key, *upload, {{2, *e2}}).status().code(),
      ErrorCode::kAccessDenied);
  EXPECT_EQ(backend_->BeginUploadPart(shop_, "shop", key, *upload, 0, 0).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->BeginUploadPart(shop_, "shop", key, *upload, 10001, 0).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->BeginUploadPart(shop_, "shop", key, "../../etc", 1, 0).status().code(),
            ErrorCode::kNoSuchUpload);
  EXPECT_EQ(backend_->BeginUploadPart(shop_, "shop", "orders/x", *upload, 1, 0).status().code(),
            ErrorCode::kNoSuchUpload);
  EXPECT_EQ(backend_->ListParts(shop_, "shop", key, "nope", {}).status().code(),
            ErrorCode::kNoSuchUpload);
  // Nothing was recorded by the failed attempts; the upload still completes.
  EXPECT_EQ(catalog_->ListFiles("shop")->size(), 0u);
  auto ok = backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, {{2, *e2}, {3, *e3}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(GetBody(shop_, "shop", key), big + "tail");
}

TEST_F(BackendTest, ConcurrentResendsOfAPartKeepFileAndRecordTogether) {
  const std::string key = "orders/race.bin";
  auto upload = Create(shop_, "shop", key);
  ASSERT_TRUE(upload.ok());
  constexpr int kSenders = 8;
  std::vector<std::thread> senders;
  std::vector<Status> results(kSenders);
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      results[i] =
          Part(shop_, "shop", key, *upload, 1, Body(static_cast<char>('A' + i), 300'000)).status();
    });
  }
  for (auto& t : senders) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  auto parts = backend_->ListParts(shop_, "shop", key, *upload, {});
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 1u);
  // Whichever send won, the bytes on disk are the ones whose MD5 was recorded.
  auto done =
      backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, {{1, (*parts)[0].etag}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(Md5Hex(GetBody(shop_, "shop", key)), (*parts)[0].etag);
  EXPECT_TRUE(fs::is_empty(dir_ + "/landing/tmp"));
}

TEST_F(BackendTest, CompleteIsIdempotentForAWhile) {
  const std::string key = "orders/i.bin";
  auto upload = Create(shop_, "shop", key);
  ASSERT_TRUE(upload.ok());
  auto e1 = Part(shop_, "shop", key, *upload, 1, "only part");
  ASSERT_TRUE(e1.ok());
  auto first = backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, {{1, *e1}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  clock_.Advance(kHour);
  auto again = backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, {{1, *e1}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->etag, first->etag);
  EXPECT_EQ(Header(again->headers, "x-amz-meta-sluice-seq"),
            Header(first->headers, "x-amz-meta-sluice-seq"));
  EXPECT_EQ(catalog_->ListFiles("shop")->size(), 1u);  // one ledger entry
  // A different part list, or another key, is not a repeat.
  EXPECT_EQ(
      backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, {{1, "00"}}).status().code(),
      ErrorCode::kNoSuchUpload);
  EXPECT_EQ(backend_->CompleteMultipartUpload(shop_, "shop", "orders/j.bin", *upload, {{1, *e1}})
                .status()
                .code(),
            ErrorCode::kNoSuchUpload);
  EXPECT_EQ(Part(shop_, "shop", key, *upload, 2, "late").status().code(), ErrorCode::kNoSuchUpload);
  // Past the expiry the record is forgotten.
  clock_.Advance(24 * kHour);
  ASSERT_TRUE(backend_->ReapExpiredUploads().ok());
  EXPECT_EQ(
      backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, {{1, *e1}}).status().code(),
      ErrorCode::kNoSuchUpload);
  EXPECT_EQ(catalog_->ListFiles("shop")->size(), 1u);
}

TEST_F(BackendTest, AbortRemovesThePartsAndTheUpload) {
  const std::string key = "orders/a.bin";
  auto upload = Create(shop_, "shop", key);
  ASSERT_TRUE(upload.ok());
  ASSERT_TRUE(Part(shop_, "shop", key, *upload, 1, "part").ok());
  EXPECT_EQ(UploadDirs(), std::vector<std::string>{*upload});
  EXPECT_EQ(backend_->AbortMultipartUpload(shop_, "shop", "orders/b.bin", *upload).code(),
            ErrorCode::kNoSuchUpload);
  ASSERT_TRUE(backend_->AbortMultipartUpload(shop_, "shop", key, *upload).ok());
  EXPECT_TRUE(UploadDirs().empty());
  EXPECT_EQ(backend_->AbortMultipartUpload(shop_, "shop", key, *upload).code(),
            ErrorCode::kNoSuchUpload);
  EXPECT_EQ(Part(shop_, "shop", key, *upload, 2, "x").status().code(), ErrorCode::kNoSuchUpload);
  EXPECT_EQ(backend_->CompleteMultipartUpload(shop_, "shop", key, *upload, {{1, Md5Hex("part")}})
                .status()
                .code(),
            ErrorCode::kNoSuchUpload);
  EXPECT_TRUE(catalog_->ListFiles("shop")->empty());
}

TEST_F(BackendTest, UntouchedUploadsExpire) {
  auto stale = Create(shop_, "shop", "orders/stale.bin");
  auto busy = Create(shop_, "shop", "orders/busy.bin");
  ASSERT_TRUE(stale.ok() && busy.ok());
  ASSERT_TRUE(Part(shop_, "shop", "orders/stale.bin", *stale, 1, "s").ok());
  // A directory the catalog does not know (a removal that failed): the reaper takes it.
  auto orphan = landing::Store::NewId();
  ASSERT_TRUE(orphan.ok());
  ASSERT_TRUE(store_->CreateUpload(*orphan).ok());

  clock_.Advance(23 * kHour);
  ASSERT_TRUE(Part(shop_, "shop", "orders/busy.bin", *busy, 1, "b").ok());  // touches it
  auto reaped = backend_->ReapExpiredUploads();
  ASSERT_TRUE(reaped.ok()) << reaped.status().ToString();
  EXPECT_EQ(*reaped, 0);
  auto dirs = UploadDirs();
  std::sort(dirs.begin(), dirs.end());
  std::vector<std::string> live = {*stale, *busy};
  std::sort(live.begin(), live.end());
  EXPECT_EQ(dirs, live);  // the orphan is gone, both uploads stay

  clock_.Advance(2 * kHour);  // stale: 25 h untouched; busy: 2 h
  reaped = backend_->ReapExpiredUploads();
  ASSERT_TRUE(reaped.ok());
  EXPECT_EQ(*reaped, 1);
  EXPECT_EQ(UploadDirs(), std::vector<std::string>{*busy});
  EXPECT_EQ(backend_->ListParts(shop_, "shop", "orders/stale.bin", *stale, {}).status().code(),
            ErrorCode::kNoSuchUpload);
  EXPECT_TRUE(backend_->ListParts(shop_, "shop", "orders/busy.bin", *busy, {}).ok());

  // The expiry is configurable.
  StoreBackend quick(*catalog_, *store_, *loader_, clock_, {.upload_expiry_micros = kHour});
  reaped = quick.ReapExpiredUploads();
  ASSERT_TRUE(reaped.ok());
  EXPECT_EQ(*reaped, 1);
  EXPECT_TRUE(UploadDirs().empty());
}

TEST_F(BackendTest, TheReaperThreadExpiresUploads) {
  auto upload = Create(shop_, "shop", "orders/abandoned.bin");
  ASSERT_TRUE(upload.ok());
  clock_.Advance(25 * kHour);
  testing::FakeMonotonicClock ticks;
  UploadReaper reaper(*backend_, kUploadReapInterval, 0, ticks);
  reaper.Start();
  ASSERT_TRUE(ticks.AwaitSleepers(1));  // the first pass is done; the thread sleeps
  EXPECT_TRUE(UploadDirs().empty());
  EXPECT_EQ(backend_->ListParts(shop_, "shop", "orders/abandoned.bin", *upload, {}).status().code(),
            ErrorCode::kNoSuchUpload);
  // Later passes come at the interval.
  auto later = Create(shop_, "shop", "orders/later.bin");
  ASSERT_TRUE(later.ok());
  clock_.Advance(25 * kHour);
  ticks.Advance(kUploadReapInterval - std::chrono::seconds(1));
  ASSERT_TRUE(ticks.AwaitSleepers(1));
  EXPECT_FALSE(UploadDirs().empty());
  ticks.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(ticks.AwaitSleepers(1));
  EXPECT_TRUE(UploadDirs().empty());
  reaper.Stop();
  reaper.Stop();  // idempotent
}

TEST_F(BackendTest, ListingsPaginateInByteOrderWithNewestVersions) {
  std::vector<std::string> keys;
  for (int i = 0; i < 23; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "orders/%02d.bin", 22 - i);
    keys.push_back(key);
    ASSERT_TRUE(Put(shop_, "shop", key, "v1 of " + std::string(key)).ok());
  }
  ASSERT_TRUE(Put(shop_, "shop", "orders/05.bin", "version two").ok());
  ASSERT_TRUE(Put(other_, "other", "orders/99.bin", "elsewhere").ok());
  std::sort(keys.begin(), keys.end());

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  while (true) {
    auto page = backend_->ListObjects(shop_, "shop", {"orders/", after, 10});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& o : page->objects) seen.push_back(o.key);
    if (!page->truncated) break;
    ASSERT_EQ(page->objects.size(), 10u);
    after = page->objects.back().key;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, keys);
  auto one = backend_->ListObjects(shop_, "shop", {"orders/05", "", 10});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->objects.size(), 1u);
  EXPECT_EQ(one->objects[0].size, std::string("version two").size());
  EXPECT_EQ(one->objects[0].etag, Md5Hex("version two"));
  EXPECT_FALSE(one->truncated);
  // Exactly max-keys left: not truncated.
  auto exact = backend_->ListObjects(shop_, "shop", {"orders/", "orders/12.bin", 10});
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->objects.size(), 10u);
  EXPECT_FALSE(exact->truncated);
  auto none = backend_->ListObjects(shop_, "shop", {"", "", 0});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->objects.empty());
  EXPECT_EQ(backend_->ListObjects(shop_, "other", {}).status().code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(backend_->ListObjects(shop_, "missing", {}).status().code(), ErrorCode::kNoSuchBucket);
}

TEST_F(BackendTest, DeleteHidesTheKeyAndAPutBringsItBack) {
  const std::string parquet =
      std::string(SLUICE_SHARED_DIR) + "/parquet/generated/seed_order_flat_v1.parquet";
  std::ifstream in(parquet, std::ios::binary);
  ASSERT_TRUE(in) << parquet;
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_TRUE(Put(shop_, "shop", "orders/v1.parquet", bytes).ok());
  auto loaded = loader_->LoadNext({"shop", "orders"});
  ASSERT_TRUE(loaded.ok() && *loaded) << loaded.status().ToString();
  auto head = backend_->GetObject(shop_, "shop", "orders/v1.parquet", false);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(Header(head->info.status_headers, "x-amz-meta-sluice-status"), "loaded");
  EXPECT_EQ(Header(head->info.status_headers, "x-amz-meta-sluice-rows-inserted"), "1");
  EXPECT_FALSE(head->file);
  const std::string landed = (*catalog_->VisibleFile("shop", "orders/v1.parquet"))->landed_id;

  ASSERT_TRUE(backend_->DeleteObject(shop_, "shop", "orders/v1.parquet").ok());
  EXPECT_EQ(GetCode(shop_, "shop", "orders/v1.parquet"), ErrorCode::kNoSuchKey);
  EXPECT_TRUE(backend_->ListObjects(shop_, "shop", {})->objects.empty());
  // A loaded file's landed bytes go; its rows stay in the pool, its entry in the ledger.
  EXPECT_EQ(store_->Open(landed).status().code(), ErrorCode::kNotFound);
  auto rows = pool_->Query("SELECT count(*) FROM shop.orders", "");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows.at(0).at(0), std::optional<std::string>("1"));
  EXPECT_EQ(catalog_->ListFiles("shop")->at(0).status, catalog::FileStatus::kLoaded);
  // Deleting what does not exist is fine (S3 answers 204 either way).
  EXPECT_TRUE(backend_->DeleteObject(shop_, "shop", "orders/v1.parquet").ok());
  EXPECT_TRUE(backend_->DeleteObject(shop_, "shop", "never/was").ok());

  ASSERT_TRUE(Put(shop_, "shop", "orders/v1.parquet", "new bytes").ok());
  EXPECT_EQ(GetBody(shop_, "shop", "orders/v1.parquet"), "new bytes");
  EXPECT_EQ(backend_->ListObjects(shop_, "shop", {})->objects.size(), 1u);

  // A queued file deleted before its load keeps its bytes for the loader.
  ASSERT_TRUE(Put(shop_, "shop", "orders/v2.parquet", bytes).ok());
  const std::string queued = (*catalog_->VisibleFile("shop", "orders/v2.parquet"))->landed_id;
  ASSERT_TRUE(backend_->DeleteObject(shop_, "shop", "orders/v2.parquet").ok());
  EXPECT_TRUE(store_->Open(queued).ok());
  EXPECT_EQ(GetCode(shop_, "shop", "orders/v2.parquet"), ErrorCode::kNoSuchKey);
}

TEST_F(BackendTest, AccountKeysAndBuckets) {
  auto looked = backend_->LookupKey(account_.access_key);
  ASSERT_TRUE(looked.ok());
  EXPECT_EQ(looked->second, "");  // an account key: no connection
  EXPECT_EQ(backend_->LookupKey(shop_.access_key)->second, "shop");
  EXPECT_EQ(backend_->LookupKey(AccessKeyId("SKNOPENOPENOPENOPENO")).status().code(),
            ErrorCode::kInvalidAccessKeyId);

  ASSERT_TRUE(backend_->CreateBucket(account_, "fresh").ok());
  EXPECT_EQ(backend_->CreateBucket(account_, "fresh").code(), ErrorCode::kBucketAlreadyOwnedByYou);
  EXPECT_EQ(backend_->CreateBucket(account_, "shop").code(), ErrorCode::kBucketAlreadyOwnedByYou);
  EXPECT_EQ(backend_->CreateBucket(account_, "Bad_Name").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->CreateBucket(shop_, "shop").code(), ErrorCode::kBucketAlreadyOwnedByYou);
  EXPECT_EQ(backend_->CreateBucket(shop_, "another").code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(backend_->CreateBucket(shop_, "fresh").code(), ErrorCode::kAccessDenied);

  auto mine = backend_->ListBuckets(shop_);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].name, "shop");
  auto all = backend_->ListBuckets(account_);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const auto& b : *all) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"fresh", "other", "shop"}));

  // The account key reaches every bucket.
  EXPECT_TRUE(backend_->CheckBucket(account_, "other").ok());
  ASSERT_TRUE(Put(account_, "shop", "orders/by-account.bin", "acct").ok());
  EXPECT_EQ(GetBody(account_, "shop", "orders/by-account.bin"), "acct");
  EXPECT_EQ(GetBody(shop_, "shop", "orders/by-account.bin"), "acct");
  EXPECT_EQ(backend_->CheckBucket(shop_, "other").code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(GetCode(shop_, "other", "x"), ErrorCode::kAccessDenied);

  // DeleteBucket: account keys only, empty buckets only.
  EXPECT_EQ(backend_->DeleteBucket(shop_, "shop").code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(backend_->DeleteBucket(account_, "missing").code(), ErrorCode::kNoSuchBucket);
  EXPECT_EQ(backend_->DeleteBucket(account_, "shop").code(), ErrorCode::kBucketNotEmpty);
  ASSERT_TRUE(Put(account_, "fresh", "file.txt", "held").ok());  // hold: recorded failed
  EXPECT_EQ(backend_->DeleteBucket(account_, "fresh").code(), ErrorCode::kBucketNotEmpty);
  auto up = Create(account_, "fresh", "big.bin");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE(backend_->DeleteObject(account_, "fresh", "file.txt").ok());
  EXPECT_EQ(backend_->DeleteBucket(account_, "fresh").code(), ErrorCode::kBucketNotEmpty);
  ASSERT_TRUE(backend_->AbortMultipartUpload(account_, "fresh", "big.bin", *up).ok());
  const size_t objects = ObjectFiles();
  ASSERT_TRUE(backend_->DeleteBucket(account_, "fresh").ok());
  EXPECT_EQ(ObjectFiles(), objects - 1);  // the held file's bytes went with the bucket
  EXPECT_EQ(backend_->CheckBucket(account_, "fresh").code(), ErrorCode::kNoSuchBucket);
  ASSERT_TRUE(backend_->CreateBucket(account_, "fresh").ok());  // the name is free again
}

TEST_F(BackendTest, StorePolicyKeepsPlainObjects) {
  ASSERT_TRUE(catalog_->SetUnconfiguredPolicy("shop", catalog::UnconfiguredPolicy::kStore).ok());
  auto put = Put(shop_, "shop", "docs/readme.txt", "hello", {{"x-amz-meta-k", "v"}});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Header(*put, "x-amz-meta-sluice-status"), "skipped");
  ASSERT_TRUE(Put(shop_, "shop", "top-level", "no prefix").ok());
  auto upload = Create(shop_, "shop", "docs/big.txt");
  ASSERT_TRUE(upload.ok());
  auto e = Part(shop_, "shop", "docs/big.txt", *upload, 1, "multi");
  ASSERT_TRUE(e.ok());
  auto done = backend_->CompleteMultipartUpload(shop_, "shop", "docs/big.txt", *upload, {{1, *e}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(Header(done->headers, "x-amz-meta-sluice-status"), "skipped");

  std::vector<std::string> keys;
  auto listed = backend_->ListObjects(shop_, "shop", {});
  ASSERT_TRUE(listed.ok());
  for (const auto& o : listed->objects) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"docs/big.txt", "docs/readme.txt", "top-level"}));
  auto got = backend_->GetObject(shop_, "shop", "docs/readme.txt", true);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(ReadAll(*got), "hello");
  EXPECT_EQ(got->info.user_metadata,
            (std::vector<std::pair<std::string, std::string>>{{"x-amz-meta-k", "v"}}));
  EXPECT_EQ(Header(got->info.status_headers, "x-amz-meta-sluice-status"), "skipped");
  EXPECT_EQ(Header(got->info.status_headers, "x-amz-meta-sluice-error-code"),
            "TABLE_NOT_CONFIGURED");
  EXPECT_EQ(GetBody(shop_, "shop", "docs/big.txt"), "multi");
  // Never ingested: no table has work.
  EXPECT_TRUE(catalog_->TablesWithWork()->empty());

  // refuse: turned away at CreateMultipartUpload, like a PUT; hold: recorded failed.
  ASSERT_TRUE(catalog_->SetUnconfiguredPolicy("shop", catalog::UnconfiguredPolicy::kRefuse).ok());
  auto refused = Create(shop_, "shop", "docs/no.txt");
  EXPECT_EQ(refused.status().code(), ErrorCode::kAccessDenied);
  EXPECT_NE(refused.status().message().find("docs"), std::string::npos);
  EXPECT_EQ(Put(shop_, "shop", "docs/no.txt", "x").status().code(), ErrorCode::kAccessDenied);
  ASSERT_TRUE(catalog_->SetUnconfiguredPolicy("shop", catalog::UnconfiguredPolicy::kHold).ok());
  auto held = Create(shop_, "shop", "docs/held.txt");
  ASSERT_TRUE(held.ok());
  // The policy was fixed at creation: a later change does not alter this upload.
  ASSERT_TRUE(catalog_->SetUnconfiguredPolicy("shop", catalog::UnconfiguredPolicy::kStore).ok());
  auto eh = Part(shop_, "shop", "docs/held.txt", *held, 1, "h");
  ASSERT_TRUE(eh.ok());
  auto held_done =
      backend_->CompleteMultipartUpload(shop_, "shop", "docs/held.txt", *held, {{1, *eh}});
  ASSERT_TRUE(held_done.ok());
  EXPECT_EQ(Header(held_done->headers, "x-amz-meta-sluice-status"), "failed");
}

TEST_F(BackendTest, MultipartParquetLoads) {
  const std::string parquet =
      std::string(SLUICE_SHARED_DIR) + "/parquet/generated/seed_order_flat_v1.parquet";
  std::ifstream in(parquet, std::ios::binary);
  ASSERT_TRUE(in) << parquet;
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto upload = Create(shop_, "shop", "orders/mp.parquet");
  ASSERT_TRUE(upload.ok());
  auto e = Part(shop_, "shop", "orders/mp.parquet", *upload, 1, bytes);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(
      backend_->CompleteMultipartUpload(shop_, "shop", "orders/mp.parquet", *upload, {{1, *e}})
          .ok());
  auto loaded = loader_->LoadNext({"shop", "orders"});
  ASSERT_TRUE(loaded.ok() && *loaded) << loaded.status().ToString();
  auto head = backend_->GetObject(shop_, "shop", "orders/mp.parquet", true);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(Header(head->info.status_headers, "x-amz-meta-sluice-status"), "loaded");
  EXPECT_EQ(ReadAll(*head), bytes);  // byte-identical
}

TEST_F(BackendTest, StatusHeadersAreHeaderSafe) {
  const std::string long_message =
      "column 'a'\r\nX-Injected: 1\n" + std::string(2000, 'z') + "\xc3\xa9";
  // Through the backend: a failed file's headers.
  auto sink = backend_->BeginPut(shop_, {"shop", "orders/bad.bin", "", {}});
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Commit({0, Md5Hex(""), ""}).ok());
  auto seq = catalog_->VisibleFile("shop", "orders/bad.bin");
  ASSERT_TRUE(
      catalog_->MarkFailed((*seq)->seq, Err(ErrorCode::kSchemaMismatch, long_message)).ok());
  auto head = backend_->GetObject(shop_, "shop", "orders/bad.bin", false);
  ASSERT_TRUE(head.ok());
  const std::string message = Header(head->info.status_headers, "x-amz-meta-sluice-error-message");
  EXPECT_EQ(message.find_first_of("\r\n"), std::string::npos);
  EXPECT_LE(message.size(), 512u);
  EXPECT_EQ(message.substr(0, 26), "column 'a'%0D%0AX-Injected");
  EXPECT_EQ(message.substr(message.size() - 3), "...");
  for (char c : message) EXPECT_TRUE(c >= 0x20 && c < 0x7F);
  EXPECT_EQ(Header(head->info.status_headers, "x-amz-meta-sluice-error-code"), "SCHEMA_MISMATCH");
}

}  // namespace
}  // namespace sluice::store
