// Bounded listings and the metrics' counts: each page and each scrape reads what it returns
// (a seek and LIMIT rows, or a partial index of unfinished files), never the whole ledger. The
// plans are checked on the very statements the catalog runs (queries_internal.h).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/catalog_testing.h"
#include "sluice/catalog/queries_internal.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::catalog {
namespace {

namespace fs = std::filesystem;

using testing_util::CatalogKind;

// The listings run on both catalogs; the plans are checked on SQLite's.
class ListingTest : public ::testing::TestWithParam<CatalogKind> {
 protected:
  bool pg() const { return GetParam() == CatalogKind::kPostgres; }

  void SetUp() override {
    root_ = tmp_.path();
    store_ = std::make_unique<testing_util::CatalogStore>(GetParam(), root_ + "/data");
    auto c = store_->Open(FileSystem::Default(), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
    ASSERT_TRUE(cat_->CreateConnection("shop").ok());
    ASSERT_TRUE(cat_->CreateConnection("other").ok());
  }
  void TearDown() override { cat_.reset(); }

  // SQLite's EXPLAIN QUERY PLAN of `sql` on the catalog file, one step per line.
  std::string QueryPlan(const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((root_ + "/data/catalog.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, (std::string("EXPLAIN QUERY PLAN ") + sql).c_str(), -1, &stmt,
                                 nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    std::string plan;
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      plan += "\n";
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return plan;
  }

  // A plan that reads the files table only through a seek or a partial index: every step that
  // touches `files` is a SEARCH, or a SCAN of an index whose WHERE bounds it.
  static void ExpectNoFullScanOfFiles(const std::string& plan) {
    EXPECT_EQ(plan.find("SCAN files\n"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("SCAN files USING INDEX files_by"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("SCAN files USING COVERING INDEX files_by"), std::string::npos) << plan;
  }

  // `n` loaded files of `conn` written straight into catalog.db in one transaction (thousands
  // of durable AppendFile commits would take the test minutes).
  void InsertHistory(const std::string& conn, size_t n) {
    if (pg()) {
      auto db = store_->Connect();
      ASSERT_NE(db, nullptr);
      ASSERT_TRUE(db->Exec("INSERT INTO _sluice_catalog.files (seq, connection_id, table_name, "
                           "key, landed_id, size, md5_hex, sha256_hex, content_type, "
                           "metadata_json, received_at, started_at, finished_at, status, "
                           "rows_inserted, rows_updated, rows_refused, error_code, error_message) "
                           "SELECT nextval('_sluice_catalog.files_seq'), '" +
                           conn +
                           "', 'events', 'events/' || i, 'x', 1, '', '', '', '{}', 0, 0, "
                           "0, 'loaded', 0, 0, 0, '', '' FROM generate_series(1, " +
                           std::to_string(n) + ") i")
                      .ok());
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root_ + "/data/catalog.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
        std::to_string(n) +
        ") INSERT INTO files (connection_id, table_name, key, landed_id, size, md5_hex, "
        "sha256_hex, content_type, metadata_json, received_at, started_at, finished_at, status, "
        "rows_inserted, rows_updated, rows_refused, error_code, error_message) SELECT '" +
        conn +
        "', 'events', 'events/' || i, 'x', 1, '', '', '', '{}', 0, 0, 0, 'loaded', 0, 0, "
        "0, '', '' FROM n";
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  int64_t Append(const std::string& conn, const std::string& table, const std::string& key) {
    FileRecord r;
    r.connection_id = conn;
    r.table = table;
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.size = 10;
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    auto seq = cat_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  testing::TempDir tmp_{"listing_test"};  // first: removed after everything using it
  FakeClock clock_{1'700'000'000'000'000};
  std::string root_;
  std::unique_ptr<testing_util::CatalogStore> store_;
  std::unique_ptr<Catalog> cat_;
};

INSTANTIATE_TEST_SUITE_P(Catalogs, ListingTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(ListingTest, CountPendingReadsOnlyThePendingIndex) {
  const int64_t loaded = Append("shop", "orders", "orders/a");
  ASSERT_TRUE(cat_->MarkLoading(loaded).ok());
  ASSERT_TRUE(cat_->MarkLoaded(loaded, {}, clock_.NowMicros()).ok());
  const int64_t failed = Append("shop", "orders", "orders/b");
  ASSERT_TRUE(cat_->MarkLoading(failed).ok());
  ASSERT_TRUE(cat_->MarkFailed(failed, Err(ErrorCode::kCorruptFile, "bad")).ok());
  Append("shop", "orders", "orders/c");
  Append("other", "events", "events/a");

  auto counts = cat_->CountPending();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  std::vector<std::tuple<std::string, std::string, FileStatus, std::string, int64_t>> got;
  for (const auto& c : *counts) {
    got.emplace_back(c.table.connection_id, c.table.table, c.status, c.error_code, c.files);
  }
  // The loaded file is history: not counted here (the loader's events count it).
  EXPECT_EQ(got, (decltype(got){{"other", "events", FileStatus::kQueued, "", 1},
                                {"shop", "orders", FileStatus::kFailed, "CORRUPT_FILE", 1},
                                {"shop", "orders", FileStatus::kQueued, "", 1}}));

  if (pg()) return;  // the plans checked are SQLite's
  const std::string plan = QueryPlan(kCountPendingSql);
  EXPECT_NE(plan.find("USING INDEX files_pending"), std::string::npos) << plan;
  ExpectNoFullScanOfFiles(plan);
}

TEST_P(ListingTest, FilesPageOfATableSeeksItsIndex) {
  std::vector<int64_t> want;
  for (int i = 0; i < 23; ++i) {
    want.push_back(Append("shop", "orders", "orders/" + std::to_string(i)));
    Append("shop", "events", "events/" + std::to_string(i));
  }
  std::vector<int64_t> seen;
  int64_t after = 0;
  int pages = 0;
  do {
    auto page = cat_->ListFilesPage("shop", "orders", after, 5);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_LE(page->files.size(), 5u);
    for (const auto& f : page->files) seen.push_back(f.seq);
    after = page->next_after;
    ++pages;
  } while (after != 0);
  EXPECT_EQ(seen, want);
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(cat_->ListFilesPage("nope", "", 0, 5).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(cat_->ListFilesPage("shop", "orders", 0, 100000)->files.size(), 23u);  // capped

  if (pg()) return;  // the plans checked are SQLite's
  const std::string plan = QueryPlan(kTableFilesPageSql);
  EXPECT_NE(plan.find("SEARCH files USING INDEX files_by_table"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  ExpectNoFullScanOfFiles(plan);
}

TEST_P(ListingTest, FilesPageOfAConnectionReadsABoundedWindow) {
  // Another connection's history between two of shop's files: the page reads a window of the
  // ledger, comes back empty, and says where to go on.
  const int64_t first = Append("shop", "orders", "orders/first");
  InsertHistory("other", kFileScanWindow + 5);
  const int64_t last = Append("shop", "orders", "orders/last");
  std::vector<int64_t> seen;
  int64_t after = 0;
  int pages = 0;
  do {
    auto page = cat_->ListFilesPage("shop", "", after, 1000);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& f : page->files) {
      EXPECT_EQ(f.connection_id, "shop");
      seen.push_back(f.seq);
    }
    after = page->next_after;
    ++pages;
  } while (after != 0);
  EXPECT_EQ(seen, (std::vector<int64_t>{first, last}));
  EXPECT_EQ(pages, 2);  // the first window ends inside other's history

  if (pg()) return;  // the plans checked are SQLite's
  for (const char* sql : {kFilesWindowEndSql, kConnectionFilesPageSql}) {
    const std::string plan = QueryPlan(sql);
    EXPECT_NE(plan.find("USING INTEGER PRIMARY KEY"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("files_by_key"), std::string::npos) << plan;
    ExpectNoFullScanOfFiles(plan);
  }
}

TEST_P(ListingTest, UploadsPageInS3OrderAfterMarkers) {
  // Keys in byte order, the uploads of one key by initiation; 3 uploads of "b/x".
  std::vector<std::pair<std::string, std::string>> want;  // (key, upload id)
  int n = 0;
  for (const std::string key : {"c/z", "a/1", "b/x", "b/x", "a/2", "b/x", "d/q"}) {
    UploadRecord u;
    u.upload_id = "up-" + std::to_string(100 - n);  // ids sort against initiation order
    u.connection_id = "shop";
    u.key = key;
    u.table = key.substr(0, 1);
    u.initiated_at = clock_.NowMicros() + n;
    ASSERT_TRUE(cat_->CreateUpload(u).ok());
    want.emplace_back(key, u.upload_id);
    ++n;
  }
  std::stable_sort(want.begin(), want.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::vector<std::pair<std::string, std::string>> seen;
  std::string key_marker, id_marker;
  int pages = 0;
  while (true) {
    auto page = cat_->ListUploads("shop", "", key_marker, id_marker, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& u : *page) seen.emplace_back(u.key, u.upload_id);
    ++pages;
    if (page->size() < 2) break;
    key_marker = page->back().key;
    id_marker = page->back().upload_id;
  }
  EXPECT_EQ(seen, want);
  EXPECT_EQ(pages, 4);

  // key-marker alone: the uploads of later keys. A prefix bounds the range.
  auto later = cat_->ListUploads("shop", "", "b/x", "", 10);
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[0].key, "c/z");
  auto in_b = cat_->ListUploads("shop", "b/", "", "", 10);
  EXPECT_EQ(in_b->size(), 3u);
  // An upload-id-marker that names no upload of the key is ignored.
  EXPECT_EQ(cat_->ListUploads("shop", "", "b/x", "up-1", 10)->size(), 2u);
  EXPECT_TRUE(cat_->ListUploads("other", "", "", "", 10)->empty());

  if (pg()) return;  // the plans checked are SQLite's
  for (const char* sql : {kUploadsAfterKeySql, kUploadsOfKeyAfterSql}) {
    const std::string plan = QueryPlan(sql);
    EXPECT_NE(plan.find("SEARCH uploads USING INDEX uploads_by_key"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  }
}

TEST_P(ListingTest, PartsPageAfterAPartNumber) {
  UploadRecord u;
  u.upload_id = "up-1";
  u.connection_id = "shop";
  u.key = "orders/big";
  u.table = "orders";
  ASSERT_TRUE(cat_->CreateUpload(u).ok());
  for (int n : {7, 3, 1, 9, 5}) ASSERT_TRUE(cat_->RecordPart("up-1", {n, 1, "aa", 0}).ok());
  auto page = cat_->ListParts("up-1", 3, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].part_number, 5);
  EXPECT_EQ((*page)[1].part_number, 7);
  EXPECT_TRUE(cat_->ListParts("up-1", 9, 2)->empty());
  EXPECT_EQ(cat_->ListParts("nope", 0, 2).status().code(), ErrorCode::kNoSuchUpload);
  if (pg()) return;  // the plans checked are SQLite's
  const std::string plan = QueryPlan(kPartsAfterSql);
  EXPECT_NE(plan.find("SEARCH upload_parts"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

}  // namespace
}  // namespace sluice::catalog
