// Bounded listings and the metrics' counts: each page and each scrape reads what it returns
// (a seek and LIMIT rows, or a partial index of unfinished files) or a bounded window of the
// ledger (filtered file pages), never the whole ledger. The plans are checked on the very
// statements the catalog runs (queries_internal.h, pg_catalog_internal.h).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <tuple>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/catalog_testing.h"
#include "sluice/catalog/postgres/pg_catalog_internal.h"
#include "sluice/catalog/queries_internal.h"
#include "sluice/core/testing/temp_dir.h"
#include "sluice/postgres/postgres.h"

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

  if (pg()) return;  // the plans checked are SQLite's (FilesPagePlansAreBounded checks both)
  for (const char* sql : kSqliteFilesPage.table_seek) {
    const std::string plan = QueryPlan(sql);
    EXPECT_NE(plan.find("SEARCH files USING INDEX files_by_table"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    ExpectNoFullScanOfFiles(plan);
  }
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

  if (pg()) return;  // the plans checked are SQLite's (FilesPagePlansAreBounded checks both)
  for (const char* sql : {kSqliteFilesPage.window[0], kSqliteFilesPage.rows[0]}) {
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

// ---- Filtered pages (files_page_internal.h) ----

// What `filter` keeps, written out plainly: the reference the pages are checked against.
bool Passes(const FileFilter& f, const FileRecord& r) {
  if (!f.table.empty() && r.table != f.table) return false;
  if (!f.statuses.empty() &&
      std::find(f.statuses.begin(), f.statuses.end(), r.status) == f.statuses.end()) {
    return false;
  }
  if (!f.error_code.empty() && r.error_code != f.error_code) return false;
  if (f.since != 0 && r.received_at < f.since) return false;
  if (f.until != 0 && r.received_at >= f.until) return false;
  if (r.seq <= f.after_seq) return false;
  return f.before_seq == 0 || r.seq < f.before_seq;
}

std::string Describe(const FileFilter& f, size_t limit) {
  std::string out = "table=" + f.table + " statuses=";
  for (FileStatus s : f.statuses) out += std::string(FileStatusName(s)) + ",";
  return out + " error_code=" + f.error_code + " since=" + std::to_string(f.since) +
         " until=" + std::to_string(f.until) + " after=" + std::to_string(f.after_seq) +
         " before=" + std::to_string(f.before_seq) +
         (f.newest_first ? " newest first" : " oldest first") + " limit=" + std::to_string(limit);
}

class FilesPageTest : public ListingTest {
 protected:
  // The seqs of every page of `filter`, following each page's next bound until there is none;
  // `pages` (when given) receives how many pages that took. A page longer than `limit`, or a
  // bound that does not move on, fails the test.
  std::vector<int64_t> Walk(FileFilter filter, size_t limit, int* pages = nullptr) {
    std::vector<int64_t> seen;
    int n = 0;
    while (n < 10'000) {
      ++n;
      auto page = cat_->ListFilesPage("shop", filter, limit);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->files.size(), limit);
      for (const auto& f : page->files) seen.push_back(f.seq);
      const int64_t next = filter.newest_first ? page->next_before : page->next_after;
      EXPECT_EQ(filter.newest_first ? page->next_after : page->next_before, 0);
      if (next == 0) break;
      int64_t& bound = filter.newest_first ? filter.before_seq : filter.after_seq;
      EXPECT_TRUE(filter.newest_first ? next < bound || bound == 0 : next > bound) << next;
      bound = next;
    }
    if (pages != nullptr) *pages = n;
    return seen;
  }

  // The seqs `filter` keeps among shop's whole ledger, in its order.
  std::vector<int64_t> Expected(const FileFilter& filter) {
    auto all = cat_->ListFiles("shop");
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    std::vector<int64_t> out;
    for (const auto& f : *all) {
      if (Passes(filter, f)) out.push_back(f.seq);
    }
    if (filter.newest_first) std::reverse(out.begin(), out.end());
    return out;
  }

  int64_t AppendAt(const std::string& conn, const std::string& table, int64_t received_at) {
    FileRecord r;
    r.connection_id = conn;
    r.table = table;
    r.key = table + "/" + std::to_string(received_at);
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.size = 10;
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    r.received_at = received_at;
    auto seq = cat_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  void Fail(int64_t seq, ErrorCode code) {
    ASSERT_TRUE(cat_->MarkLoading(seq).ok());
    ASSERT_TRUE(cat_->MarkFailed(seq, Err(code, "bad")).ok());
  }

  // `n` files written straight into the ledger in one statement (as InsertHistory): a quarter
  // other's, the rest shop's; a fifth of each connection's in table events, the rest in orders;
  // a few failed (PK_NULL or CORRUPT_FILE), skipped (PK_NULL) or queued, the rest loaded; and
  // received_at out of seq order by a few milliseconds every seventh file.
  void InsertLedger(int n) {
    const std::string columns =
        "CASE WHEN i % 4 = 0 THEN 'other' ELSE 'shop' END, "
        "CASE WHEN i % 5 = 0 THEN 'events' ELSE 'orders' END, 'k/' || i, 'x', 1, '', '', '', "
        "'{}', " +
        std::to_string(kBase) +
        " + i * 1000 - (i % 7) * 3000, 0, 0, "
        "CASE WHEN i % 997 = 5 THEN 'failed' WHEN i % 499 = 3 THEN 'skipped' "
        "WHEN i % 101 = 1 THEN 'queued' ELSE 'loaded' END, 0, 0, 0, "
        "CASE WHEN i % 997 = 5 AND i % 2 = 0 THEN 'PK_NULL' WHEN i % 997 = 5 THEN "
        "'CORRUPT_FILE' WHEN i % 499 = 3 THEN 'PK_NULL' ELSE '' END, ''";
    const std::string into =
        "files (connection_id, table_name, key, landed_id, size, md5_hex, sha256_hex, "
        "content_type, metadata_json, received_at, started_at, finished_at, status, "
        "rows_inserted, rows_updated, rows_refused, error_code, error_message) ";
    if (pg()) {
      auto db = store_->Connect();
      ASSERT_NE(db, nullptr);
      ASSERT_TRUE(db->Exec("SET search_path = _sluice_catalog").ok());
      std::string sql = "INSERT INTO " + into + "SELECT " + columns + " FROM generate_series(1, " +
                        std::to_string(n) + ") i";
      sql.replace(sql.find("(connection_id"), 1, "(seq, ");
      sql.replace(sql.find("SELECT ") + 7, 0, "nextval('files_seq'), ");
      const Status st = db->Exec(sql);
      ASSERT_TRUE(st.ok()) << st.ToString();
      ASSERT_TRUE(db->Exec("ANALYZE files").ok());
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root_ + "/data/catalog.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < " +
        std::to_string(n) + ") INSERT INTO " + into + "SELECT " + columns + " FROM n";
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  static constexpr int64_t kBase = 1'800'000'000'000'000;
};

INSTANTIATE_TEST_SUITE_P(Catalogs, FilesPageTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(FilesPageTest, EachFilterAloneAndCombined) {
  // received_at deliberately out of seq order.
  const int64_t t = kBase;
  const int64_t loaded = AppendAt("shop", "orders", t + 100);
  const int64_t pk_null = AppendAt("shop", "orders", t + 300);
  const int64_t queued = AppendAt("shop", "events", t + 200);
  const int64_t skipped = AppendAt("shop", "events", t + 250);
  const int64_t loading = AppendAt("shop", "orders", t + 400);
  AppendAt("other", "orders", t + 150);  // another connection's: never listed
  const int64_t pk_null2 = AppendAt("shop", "orders", t + 350);
  ASSERT_TRUE(cat_->MarkLoading(loaded).ok());
  ASSERT_TRUE(cat_->MarkLoaded(loaded, {}, t + 500).ok());
  Fail(pk_null, ErrorCode::kPkNull);
  Fail(skipped, ErrorCode::kCorruptFile);
  ASSERT_TRUE(cat_->Skip(skipped).ok());  // skipped, its error kept
  ASSERT_TRUE(cat_->MarkLoading(loading).ok());
  Fail(pk_null2, ErrorCode::kPkNull);
  Fail(AppendAt("other", "orders", t + 360), ErrorCode::kPkNull);

  using S = FileStatus;
  const std::vector<std::pair<FileFilter, std::vector<int64_t>>> cases = {
      {{}, {loaded, pk_null, queued, skipped, loading, pk_null2}},
      {{.table = "orders"}, {loaded, pk_null, loading, pk_null2}},
      {{.statuses = {S::kFailed}}, {pk_null, pk_null2}},
      {{.statuses = {S::kQueued, S::kLoading, S::kSkipped}}, {queued, skipped, loading}},
      {{.statuses = {S::kLoaded}}, {loaded}},
      {{.error_code = "PK_NULL"}, {pk_null, pk_null2}},
      {{.error_code = "CORRUPT_FILE"}, {skipped}},  // a skip keeps the error
      {{.error_code = "NO_SUCH_CODE"}, {}},
      {{.since = t + 250}, {pk_null, skipped, loading, pk_null2}},
      {{.until = t + 250}, {loaded, queued}},
      {{.since = t + 200, .until = t + 301}, {pk_null, queued, skipped}},
      {{.since = t + 300, .until = t + 300}, {}},
      {{.after_seq = queued}, {skipped, loading, pk_null2}},
      {{.before_seq = skipped}, {loaded, pk_null, queued}},
      {{.after_seq = loaded, .before_seq = loading}, {pk_null, queued, skipped}},
      {{.table = "orders", .statuses = {S::kFailed, S::kLoading}}, {pk_null, loading, pk_null2}},
      {{.table = "events", .error_code = "PK_NULL"}, {}},
      {{.statuses = {S::kFailed, S::kSkipped}, .error_code = "PK_NULL", .since = t + 310},
       {pk_null2}},
      {{.table = "orders", .since = t + 150, .before_seq = pk_null2}, {pk_null, loading}},
  };
  for (const auto& [filter, want] : cases) {
    for (bool newest_first : {false, true}) {
      FileFilter f = filter;
      f.newest_first = newest_first;
      std::vector<int64_t> expected = want;
      if (newest_first) std::reverse(expected.begin(), expected.end());
      for (size_t limit : {size_t{1}, size_t{2}, kMaxListPage}) {
        EXPECT_EQ(Walk(f, limit), expected) << Describe(f, limit);
      }
      EXPECT_EQ(Expected(f), expected) << "the reference model disagrees: " << Describe(f, 1);
    }
  }

  EXPECT_EQ(cat_->ListFilesPage("nope", FileFilter{.statuses = {S::kFailed}}, 5).status().code(),
            ErrorCode::kNotFound);
  // The old form: one table (or every one) after a seq, oldest first.
  auto page = cat_->ListFilesPage("shop", "orders", loaded, 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->files.size(), 2u);
  EXPECT_EQ(page->files[1].seq, loading);
  EXPECT_EQ(page->next_after, loading);
  EXPECT_EQ(page->next_before, 0);
}

TEST_P(FilesPageTest, PagingThroughALongLedgerFindsEachMatchOnceInOrder) {
  // 30,000 entries: three windows of the whole ledger; shop's orders alone fill two of their
  // own (18,000 entries).
  InsertLedger(30'000);
  using S = FileStatus;
  const int64_t t = kBase + 10'000'000;  // received_at of the 10,000th entry, give or take
  const std::vector<FileFilter> filters = {
      {},
      {.table = "orders"},
      {.statuses = {S::kFailed}},
      {.statuses = {S::kFailed, S::kSkipped}, .error_code = "PK_NULL"},
      {.table = "orders", .statuses = {S::kQueued}},
      {.table = "events", .error_code = "CORRUPT_FILE"},
      {.since = t, .until = t + 5'000'000},
      {.table = "orders", .statuses = {S::kLoaded}, .since = t, .until = t + 12'000'000},
      {.statuses = {S::kQueued}, .after_seq = 7'000, .before_seq = 25'000},
      {.table = "orders", .after_seq = 12'345, .before_seq = 20'000},
  };
  for (FileFilter f : filters) {
    for (bool newest_first : {false, true}) {
      f.newest_first = newest_first;
      const std::vector<int64_t> expected = Expected(f);
      ASSERT_FALSE(expected.empty()) << Describe(f, 0);
      // Small pages only for the sparser filters: thousands of pages would take the test
      // minutes, and paging through windows is the same at any size.
      for (size_t limit : {size_t{7}, kMaxListPage}) {
        if (limit < kMaxListPage && expected.size() > 500) continue;
        int pages = 0;
        EXPECT_EQ(Walk(f, limit, &pages), expected) << Describe(f, limit);
        // Each page is full or ends a window: no more pages than that takes.
        const size_t windows = f.table.empty() ? 3 : 2;
        EXPECT_LE(static_cast<size_t>(pages), expected.size() / limit + windows + 1)
            << Describe(f, limit);
      }
    }
  }

  // A rare file: the page that reaches the end of its window comes back short, with the
  // window's end as the next bound, and the walk goes on past it.
  auto first = cat_->ListFilesPage("shop", FileFilter{.statuses = {S::kFailed}}, kMaxListPage);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_LT(first->files.size(), 30u);
  EXPECT_GE(first->next_after, static_cast<int64_t>(kFileScanWindow));
  auto last = cat_->ListFilesPage(
      "shop", FileFilter{.statuses = {S::kFailed}, .newest_first = true}, kMaxListPage);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_LT(last->files.size(), 30u);
  EXPECT_GT(last->next_before, 0);
}

// The statements of every page walk an index between bounds (files_page_internal.h): SQLite's
// plans by EXPLAIN QUERY PLAN; PostgreSQL's by EXPLAIN on a long, analysed ledger, with the
// parameters a page binds.
TEST_P(FilesPageTest, PlansWalkAnIndexBetweenBounds) {
  if (!pg()) {
    for (int order : {0, 1}) {
      for (const char* sql :
           {kSqliteFilesPage.table_seek[order], kSqliteFilesPage.table_window[order],
            kSqliteFilesPage.table_rows[order]}) {
        const std::string plan = QueryPlan(sql);
        EXPECT_NE(plan.find("SEARCH files USING "), std::string::npos) << plan;
        EXPECT_NE(plan.find("INDEX files_by_table (connection_id=? AND table_name=? AND seq>? "
                            "AND seq<?)"),
                  std::string::npos)
            << plan;
        EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
        ExpectNoFullScanOfFiles(plan);
      }
      for (const char* sql : {kSqliteFilesPage.window[order], kSqliteFilesPage.rows[order]}) {
        const std::string plan = QueryPlan(sql);
        EXPECT_NE(plan.find("SEARCH files USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
                  std::string::npos)
            << plan;
        EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
        ExpectNoFullScanOfFiles(plan);
      }
    }
    return;
  }
  // Long enough that a window is a small part of the ledger, as it is where plans matter.
  InsertLedger(200'000);
  auto db = store_->Connect();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("SET search_path = _sluice_catalog").ok());
  auto explain = [&](const char* sql, const postgres::Params& params) {
    auto rows = db->Query(std::string("EXPLAIN ") + sql, params);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
    std::string plan;
    for (int i = 0; rows.ok() && i < rows->size(); ++i)
      plan += std::string(rows->Text(i, 0)) + "\n";
    return plan;
  };
  auto window = [&](const char* sql, const postgres::Params& params) {
    auto rows = db->Query(sql, params);
    EXPECT_TRUE(rows.ok() && rows->size() == 1) << sql;
    return std::pair<int64_t, int64_t>(std::stoll(std::string(rows->Text(0, 0))),
                                       std::stoll(std::string(rows->Text(0, 1))));
  };
  // A status list the custom plan sees as only 'loaded' (files_by_content's WHERE).
  auto filtered = [] {
    postgres::Params p;
    for (int i = 0; i < 5; ++i) p.Text("loaded");
    p.Text("").Int(std::numeric_limits<int64_t>::min()).Int(std::numeric_limits<int64_t>::max());
    return p;
  };
  const int64_t open = std::numeric_limits<int64_t>::max();
  const auto W = static_cast<int64_t>(kFileScanWindow);
  for (int order : {0, 1}) {
    std::vector<std::string> table_plans = {
        explain(kPgFilesPage.table_seek[order],
                postgres::Params().Text("shop").Text("orders").Int(0).Int(open).Int(1001)),
        explain(kPgFilesPage.table_window[order],
                postgres::Params().Text("shop").Text("orders").Int(0).Int(open).Int(W))};
    for (const std::string& plan : table_plans) {
      EXPECT_NE(plan.find("using files_by_table on files"), std::string::npos) << plan;
    }
    // Statement 2 reads between the window's ends, on files_by_table or (where the table is
    // dense) the primary key: a dense table (orders) and a sparse one (events).
    auto between = [](int64_t low, int64_t high) {
      return "(seq >= '" + std::to_string(low) + "'::bigint) AND (seq <= '" + std::to_string(high) +
             "'::bigint))";
    };
    for (const char* table : {"orders", "events"}) {
      const auto [low, high] =
          window(kPgFilesPage.table_window[order],
                 postgres::Params().Text("shop").Text(table).Int(0).Int(open).Int(W));
      const std::string plan =
          explain(kPgFilesPage.table_rows[order],
                  filtered().Text("shop").Text(table).Int(low).Int(high).Int(1001));
      EXPECT_NE(plan.find(between(low, high)), std::string::npos) << between(low, high) << plan;
      table_plans.push_back(plan);
    }
    const auto [from, to] =
        window(kPgFilesPage.window[order], postgres::Params().Int(0).Int(open).Int(W));
    std::vector<std::string> plans = {
        explain(kPgFilesPage.window[order], postgres::Params().Int(0).Int(open).Int(W)),
        explain(kPgFilesPage.rows[order], filtered().Text("shop").Int(from).Int(to).Int(1001))};
    for (const std::string& plan : plans) {
      EXPECT_NE(plan.find("using files_pkey on files"), std::string::npos) << plan;
    }
    EXPECT_NE(plans[1].find(between(from, to)), std::string::npos) << plans[1];
    // The seek and the windows stop at their LIMIT on an index walked in order.
    for (const std::string& plan : {table_plans[0], table_plans[1], plans[0]}) {
      EXPECT_EQ(plan.find("Sort"), std::string::npos) << plan;
    }
    plans.insert(plans.end(), table_plans.begin(), table_plans.end());
    for (const std::string& plan : plans) {
      for (const char* bad :
           {"Seq Scan", "files_by_content", "files_by_key", "files_with_work", "files_pending"}) {
        EXPECT_EQ(plan.find(bad), std::string::npos) << bad << " in\n" << plan;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::catalog
