// StoreBackend's versions over a real catalog, landing store and loader: every file of a key is
// a version (its seq the id), a plain delete leaves a delete marker ("<seq>.del"), a version is
// deleted by id with its bytes when its load is over, and the marker's id takes the delete back.
#include <gtest/gtest.h>

#include <filesystem>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "sluice/store/s3_backend.h"
#include "sluice/store/store_testing.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

// (key, version id, latest, delete marker) of each entry.
using Entry = std::tuple<std::string, std::string, bool, bool>;

class VersionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(rig_.Open(clock_).ok());
    backend_ = std::make_unique<StoreBackend>(*rig_.catalog, *rig_.landing, *rig_.loader, clock_);
    auto shop = rig_.catalog->CreateConnection("shop");
    ASSERT_TRUE(shop.ok());
    shop_ = {shop->access_key, "shop", false};
    auto other = rig_.catalog->CreateConnection("other");
    ASSERT_TRUE(other.ok());
    other_ = {other->access_key, "other", false};
    ASSERT_TRUE(rig_.catalog->AddTable({"shop", "orders", {"order_id"}}).ok());
  }
  void TearDown() override {
    backend_.reset();
    rig_.Close();
  }

  // Pushes `body` to `key`; returns the version id the PUT answered with.
  std::string Put(const std::string& key, const std::string& body) {
    s3::PutRequest req;
    req.bucket = "shop";
    req.key = key;
    req.size = body.size();
    auto sink = backend_->BeginPut(shop_, req);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    if (!sink.ok()) return "";
    EXPECT_TRUE((*sink)->Append(AsBytes(body)).ok());
    auto headers = (*sink)->Commit({body.size(), Md5Hex(body), ""});
    EXPECT_TRUE(headers.ok()) << headers.status().ToString();
    if (!headers.ok()) return "";
    std::string version, seq;
    for (const auto& [name, value] : *headers) {
      if (name == "x-amz-version-id") version = value;
      if (name == "x-amz-meta-sluice-seq") seq = value;
    }
    EXPECT_EQ(version, seq);
    return version;
  }

  std::vector<Entry> List(const s3::VersionQuery& query = {}) {
    auto page = backend_->ListObjectVersions(shop_, "shop", query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<Entry> out;
    if (!page.ok()) return out;
    for (const s3::VersionEntry& e : page->entries) {
      out.emplace_back(e.info.key, e.info.version_id, e.is_latest, e.delete_marker);
    }
    return out;
  }

  // The body of a version, or the error code reading it.
  std::string Body(const std::string& key, const std::string& version) {
    auto got = backend_->GetObjectVersion(shop_, "shop", key, version, true);
    if (!got.ok()) return std::string(ErrorCodeName(got.status().code()));
    EXPECT_EQ(got->info.version_id, version);
    std::vector<uint8_t> bytes;
    EXPECT_TRUE(got->file->ReadAt(0, got->file->size(), &bytes).ok());
    return std::string(bytes.begin(), bytes.end());
  }

  size_t LandedObjects() {
    return static_cast<size_t>(std::distance(
        fs::directory_iterator(rig_.dir() + "/landing/objects"), fs::directory_iterator()));
  }

  void LoadAll() {
    while (true) {
      auto loaded = rig_.loader->LoadNext({"shop", "orders"});
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      if (!*loaded) return;
    }
  }

  FakeClock clock_{1'800'000'000'000'000};  // first: outlives the rig
  StoreRig rig_{"versions_test"};
  std::unique_ptr<StoreBackend> backend_;
  s3::Identity shop_, other_;
};

TEST_F(VersionsTest, EveryPushIsAVersionReadableByItsId) {
  const std::string v1 = Put("orders/a.bin", "first");
  const std::string v2 = Put("orders/a.bin", "second");
  const std::string v3 = Put("orders/a.bin", "third!");
  const std::string b1 = Put("orders/b.bin", "bee");
  EXPECT_EQ(List(), (std::vector<Entry>{{"orders/a.bin", v3, true, false},
                                        {"orders/a.bin", v2, false, false},
                                        {"orders/a.bin", v1, false, false},
                                        {"orders/b.bin", b1, true, false}}));
  EXPECT_EQ(Body("orders/a.bin", v1), "first");
  EXPECT_EQ(Body("orders/a.bin", v2), "second");
  EXPECT_EQ(Body("orders/a.bin", v3), "third!");
  auto current = backend_->GetObject(shop_, "shop", "orders/a.bin", false);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->info.version_id, v3);
  // A version's own record: its size and ETag, and its ingestion status headers.
  auto head = backend_->GetObjectVersion(shop_, "shop", "orders/a.bin", v1, false);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->info.size, 5u);
  EXPECT_EQ(head->info.etag, Md5Hex("first"));
  EXPECT_FALSE(head->file);
  bool seq_header = false;
  for (const auto& [name, value] : head->info.status_headers) {
    seq_header |= name == "x-amz-meta-sluice-seq" && value == v1;
  }
  EXPECT_TRUE(seq_header);

  // Ids that name nothing of the key, and ones that cannot be ids.
  EXPECT_EQ(Body("orders/a.bin", b1), "NO_SUCH_VERSION");  // another key's
  EXPECT_EQ(Body("orders/a.bin", "null"), "NO_SUCH_VERSION");
  EXPECT_EQ(Body("orders/a.bin", v3 + ".del"), "NO_SUCH_VERSION");  // no delete marker
  EXPECT_EQ(Body("orders/a.bin", "999999"), "NO_SUCH_VERSION");
  for (const std::string bad :
       {"", "0", "01", "-1", "x", "1.2", ".del", "12.DEL", "99999999999999999999"}) {
    EXPECT_EQ(Body("orders/a.bin", bad), "INVALID_ARGUMENT") << bad;
  }
  EXPECT_EQ(backend_->GetObjectVersion(other_, "shop", "orders/a.bin", v1, false).status().code(),
            ErrorCode::kAccessDenied);
}

TEST_F(VersionsTest, PagesResumeAfterAVersionOrADeleteMarker) {
  const std::string a1 = Put("orders/a.bin", "1");
  const std::string a2 = Put("orders/a.bin", "2");
  const std::string b1 = Put("orders/b.bin", "3");
  auto marker = backend_->DeleteObject(shop_, "shop", "orders/b.bin");
  ASSERT_TRUE(marker.ok());
  const std::string c1 = Put("orders/c.bin", "4");
  const std::vector<Entry> all = {{"orders/a.bin", a2, true, false},
                                  {"orders/a.bin", a1, false, false},
                                  {"orders/b.bin", b1 + ".del", true, true},
                                  {"orders/b.bin", b1, false, false},
                                  {"orders/c.bin", c1, true, false}};
  EXPECT_EQ(List(), all);
  std::vector<Entry> seen;
  s3::VersionQuery query;
  query.max_entries = 1;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = backend_->ListObjectVersions(shop_, "shop", query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& e : page->entries) {
      seen.emplace_back(e.info.key, e.info.version_id, e.is_latest, e.delete_marker);
    }
    if (!page->truncated) break;
    query.key_marker = page->next_key_marker;
    query.version_id_marker = page->next_version_id_marker;
  }
  EXPECT_EQ(seen, all);
  // key-marker alone, a prefix.
  EXPECT_EQ(List({"", "orders/a.bin", "", 10}), std::vector<Entry>(all.begin() + 2, all.end()));
  EXPECT_EQ(List({"orders/b", "", "", 10}), std::vector<Entry>(all.begin() + 2, all.begin() + 4));
  EXPECT_EQ(backend_->ListObjectVersions(shop_, "shop", {"", "orders/a.bin", "bogus", 10})
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(VersionsTest, DeletesMarkersAndUndelete) {
  // Queued files keep their bytes when deleted: their versions stay readable.
  const std::string v1 = Put("orders/a.bin", "one");
  const std::string v2 = Put("orders/a.bin", "two");
  const std::string v3 = Put("orders/a.bin", "three");
  auto deleted = backend_->DeleteObject(shop_, "shop", "orders/a.bin");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->version_id, v3 + ".del");
  EXPECT_TRUE(deleted->delete_marker);
  EXPECT_EQ(backend_->GetObject(shop_, "shop", "orders/a.bin", false).status().code(),
            ErrorCode::kNoSuchKey);
  EXPECT_EQ(List(), (std::vector<Entry>{{"orders/a.bin", v3 + ".del", true, true},
                                        {"orders/a.bin", v3, false, false},
                                        {"orders/a.bin", v2, false, false},
                                        {"orders/a.bin", v1, false, false}}));
  EXPECT_EQ(Body("orders/a.bin", v3 + ".del"), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(Body("orders/a.bin", v2), "two");
  // Deleting again names the same marker.
  EXPECT_EQ(backend_->DeleteObject(shop_, "shop", "orders/a.bin")->version_id, v3 + ".del");
  // A key that never was: no marker.
  auto none = backend_->DeleteObject(shop_, "shop", "orders/never.bin");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->version_id.empty());
  EXPECT_FALSE(none->delete_marker);

  // One version by id: gone from listings and reads; queued, so its bytes stay for its load.
  const size_t landed = LandedObjects();
  auto one = backend_->DeleteObjectVersion(shop_, "shop", "orders/a.bin", v2);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->version_id, v2);
  EXPECT_FALSE(one->delete_marker);
  EXPECT_EQ(Body("orders/a.bin", v2), "NO_SUCH_VERSION");
  EXPECT_EQ(LandedObjects(), landed);
  EXPECT_EQ(List().size(), 3u);
  // An id of nothing: no error (S3 answers 204).
  EXPECT_TRUE(backend_->DeleteObjectVersion(shop_, "shop", "orders/a.bin", "424242").ok());
  EXPECT_TRUE(backend_->DeleteObjectVersion(shop_, "shop", "orders/a.bin", "null").ok());
  EXPECT_EQ(backend_->DeleteObjectVersion(shop_, "shop", "orders/a.bin", "nope").status().code(),
            ErrorCode::kInvalidArgument);

  // The marker's id takes the delete back: the newest version is the object again.
  auto undelete = backend_->DeleteObjectVersion(shop_, "shop", "orders/a.bin", v3 + ".del");
  ASSERT_TRUE(undelete.ok());
  EXPECT_TRUE(undelete->delete_marker);
  auto back = backend_->GetObject(shop_, "shop", "orders/a.bin", true);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->info.version_id, v3);
  EXPECT_EQ(List(), (std::vector<Entry>{{"orders/a.bin", v3, true, false},
                                        {"orders/a.bin", v1, false, false}}));
  EXPECT_FALSE(
      backend_->DeleteObjectVersion(shop_, "shop", "orders/a.bin", v3 + ".del")->delete_marker);

  // The newest version by id: the key reads as deleted (no older file is its object), with
  // no marker.
  ASSERT_TRUE(backend_->DeleteObjectVersion(shop_, "shop", "orders/a.bin", v3).ok());
  EXPECT_EQ(backend_->GetObject(shop_, "shop", "orders/a.bin", false).status().code(),
            ErrorCode::kNoSuchKey);
  EXPECT_EQ(List(), (std::vector<Entry>{{"orders/a.bin", v1, false, false}}));
  // A new push is the object again.
  const std::string v4 = Put("orders/a.bin", "four");
  EXPECT_EQ(List(), (std::vector<Entry>{{"orders/a.bin", v4, true, false},
                                        {"orders/a.bin", v1, false, false}}));
}

TEST_F(VersionsTest, LoadedVersionsLoseTheirBytesWhenDeleted) {
  const std::string parquet = SeedOrdersParquet();
  ASSERT_FALSE(parquet.empty());
  const std::string v1 = Put("orders/a.parquet", parquet);
  const std::string v2 = Put("orders/a.parquet", parquet + "");  // a duplicate: skipped
  const std::string b1 = Put("orders/b.parquet", parquet);
  LoadAll();
  const size_t landed = LandedObjects();

  // A loaded version by id: its bytes go; rows stay in the pool.
  ASSERT_TRUE(backend_->DeleteObjectVersion(shop_, "shop", "orders/a.parquet", v1).ok());
  EXPECT_EQ(LandedObjects(), landed - 1);
  EXPECT_EQ(Body("orders/a.parquet", v1), "NO_SUCH_VERSION");
  EXPECT_EQ(List({"orders/a", "", "", 10}),
            (std::vector<Entry>{{"orders/a.parquet", v2, true, false}}));

  // A plain delete of a loaded key removes its bytes: only the marker is left, and taking it
  // back finds no bytes to show, so the key stays without an object.
  auto deleted = backend_->DeleteObject(shop_, "shop", "orders/b.parquet");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(LandedObjects(), landed - 2);
  EXPECT_EQ(List({"orders/b", "", "", 10}),
            (std::vector<Entry>{{"orders/b.parquet", b1 + ".del", true, true}}));
  auto undelete = backend_->DeleteObjectVersion(shop_, "shop", "orders/b.parquet", b1 + ".del");
  ASSERT_TRUE(undelete.ok());
  EXPECT_TRUE(undelete->delete_marker);
  EXPECT_TRUE(List({"orders/b", "", "", 10}).empty());
  EXPECT_EQ(backend_->GetObject(shop_, "shop", "orders/b.parquet", false).status().code(),
            ErrorCode::kNoSuchKey);
}

}  // namespace
}  // namespace sluice::store
