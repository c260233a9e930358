// Multipart checksums in the catalog (issue 14), on both catalogs: an upload keeps the checksum
// algorithm and type it was created with, each part its verified checksum (replaced with the
// part), the completed file its checksums_json; and a catalog of the schema before (SQLite 10,
// PostgreSQL 4) migrates with its uploads in progress.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sluice/catalog/catalog_testing.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::catalog {
namespace {

using testing_util::CatalogKind;

class UploadChecksumTest : public ::testing::TestWithParam<CatalogKind> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing_util::CatalogStore>(GetParam(), dir_);
    Open();
    ASSERT_TRUE(cat_->CreateConnection("shop").ok());
  }

  void Open() {
    cat_.reset();
    auto c = store_->Open(FileSystem::Default(), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
  }

  UploadRecord Upload(const std::string& id, const std::string& algorithm,
                      const std::string& type) {
    UploadRecord u;
    u.upload_id = id;
    u.connection_id = "shop";
    u.key = "orders/" + id + ".json";
    u.table = "orders";
    u.metadata_json = "{}";
    u.initiated_at = clock_.NowMicros();
    u.checksum_algorithm = algorithm;
    u.checksum_type = type;
    return u;
  }

  testing::TempDir tmp_{"uploads_test"};
  std::string dir_ = tmp_.path() + "/data";
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<testing_util::CatalogStore> store_;
  std::unique_ptr<Catalog> cat_;
};

INSTANTIATE_TEST_SUITE_P(Catalogs, UploadChecksumTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(UploadChecksumTest, UploadsKeepTheirAlgorithmAndType) {
  ASSERT_TRUE(cat_->CreateUpload(Upload("u-composite", "crc32c", "COMPOSITE")).ok());
  ASSERT_TRUE(cat_->CreateUpload(Upload("u-full", "crc64nvme", "FULL_OBJECT")).ok());
  ASSERT_TRUE(cat_->CreateUpload(Upload("u-none", "", "")).ok());
  auto got = cat_->GetUpload("u-composite");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->checksum_algorithm, "crc32c");
  EXPECT_EQ((*got)->checksum_type, "COMPOSITE");
  got = cat_->GetUpload("u-full");
  EXPECT_EQ((*got)->checksum_algorithm, "crc64nvme");
  EXPECT_EQ((*got)->checksum_type, "FULL_OBJECT");
  got = cat_->GetUpload("u-none");
  EXPECT_EQ((*got)->checksum_algorithm, "");
  EXPECT_EQ((*got)->checksum_type, "");
  // Every reader of uploads reads them (the listing, the reaper's).
  auto listed = cat_->ListUploads("shop", "", "", "", 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].upload_id, "u-composite");
  EXPECT_EQ((*listed)[0].checksum_type, "COMPOSITE");
  clock_.Advance(1);
  auto stale = cat_->UploadsTouchedBefore(clock_.NowMicros());
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->size(), 3u);
  for (const UploadRecord& u : *stale) {
    if (u.upload_id == "u-full") {
      EXPECT_EQ(u.checksum_algorithm, "crc64nvme");
    }
  }
  // The columns take only S3's algorithms and types.
  EXPECT_FALSE(cat_->CreateUpload(Upload("u-bad-type", "crc32", "PARTIAL")).ok());
  EXPECT_FALSE(cat_->CreateUpload(Upload("u-bad-algorithm", "md5", "COMPOSITE")).ok());
  EXPECT_FALSE((*cat_->GetUpload("u-bad-type")).has_value());
}

TEST_P(UploadChecksumTest, PartsKeepTheirChecksumAndTheFileItsJson) {
  ASSERT_TRUE(cat_->CreateUpload(Upload("u1", "crc32", "COMPOSITE")).ok());
  const int64_t now = clock_.NowMicros();
  ASSERT_TRUE(cat_->RecordPart("u1", {1, 5, "aa", now, "crc32", "AAAAAQ=="}).ok());
  ASSERT_TRUE(cat_->RecordPart("u1", {2, 6, "bb", now, "crc32", "AAAAAg=="}).ok());
  ASSERT_TRUE(cat_->RecordPart("u1", {3, 7, "cc", now}).ok());  // none
  // A re-sent part replaces its checksum with the rest of it.
  EXPECT_EQ(*cat_->RecordPart("u1", {2, 8, "dd", now, "crc32", "AAAAAw=="}), 6u);
  auto parts = cat_->ListParts("u1");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].checksum_algorithm, "crc32");
  EXPECT_EQ((*parts)[0].checksum, "AAAAAQ==");
  EXPECT_EQ((*parts)[1].md5_hex, "dd");
  EXPECT_EQ((*parts)[1].checksum, "AAAAAw==");
  EXPECT_EQ((*parts)[2].checksum_algorithm, "");
  EXPECT_EQ((*parts)[2].checksum, "");
  auto page = cat_->ListParts("u1", 1, 1);  // the paged seek reads them too
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].part_number, 2);
  EXPECT_EQ((*page)[0].checksum_algorithm, "crc32");
  EXPECT_EQ((*page)[0].checksum, "AAAAAw==");
  ASSERT_TRUE(cat_->RecordPart("u1", {2, 8, "dd", now}).ok());
  EXPECT_EQ((*cat_->ListParts("u1", 1, 1))[0].checksum, "");

  // Complete: the object's checksum and type in the ledger entry.
  FileRecord file;
  file.connection_id = "shop";
  file.table = "orders";
  file.key = "orders/u1.json";
  file.landed_id = "0123456789abcdef0123456789abcdef";
  file.size = 20;
  file.etag = "0123456789abcdef0123456789abcdef-3";
  file.metadata_json = "{}";
  file.checksums_json = R"({"crc32":"AAAABA==-3","type":"COMPOSITE"})";
  CompletedUpload done{"u1", "", "", 0, file.etag, "1:aa,2:dd,3:cc", 0};
  auto seq = cat_->CompleteUpload(file, done);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  auto stored = cat_->GetFile(*seq);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->checksums_json, file.checksums_json);
  EXPECT_EQ(cat_->ListParts("u1").status().code(), ErrorCode::kNoSuchUpload);
}

TEST_P(UploadChecksumTest, MigratesTheSchemaBeforeWithUploadsInProgress) {
  ASSERT_TRUE(cat_->CreateUpload(Upload("old", "", "")).ok());
  ASSERT_TRUE(cat_->RecordPart("old", {1, 5, "aa", clock_.NowMicros()}).ok());
  cat_.reset();
  // Back to the schema before this one: without the four columns.
  const char* drop =
      "ALTER TABLE uploads DROP COLUMN checksum_algorithm; "
      "ALTER TABLE uploads DROP COLUMN checksum_type; "
      "ALTER TABLE upload_parts DROP COLUMN checksum_algorithm; "
      "ALTER TABLE upload_parts DROP COLUMN checksum; ";
  if (store_->pg()) {
    auto conn = store_->Connect();
    ASSERT_TRUE(conn->Exec(std::string("SET search_path = _sluice_catalog; ") + drop +
                           "UPDATE meta SET value = 4 WHERE name = 'schema_version'")
                    .ok());
  } else {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/catalog.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, (std::string(drop) + "PRAGMA user_version = 10").c_str(), nullptr,
                           nullptr, &err),
              SQLITE_OK)
        << err;
    sqlite3_close(db);
  }
  Open();
  auto old = cat_->GetUpload("old");
  ASSERT_TRUE(old.ok() && old->has_value()) << old.status().ToString();
  EXPECT_EQ((*old)->checksum_algorithm, "");
  auto parts = cat_->ListParts("old");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].checksum, "");
  ASSERT_TRUE(cat_->CreateUpload(Upload("new", "sha256", "COMPOSITE")).ok());
  EXPECT_EQ((*cat_->GetUpload("new"))->checksum_algorithm, "sha256");
}

}  // namespace
}  // namespace sluice::catalog
