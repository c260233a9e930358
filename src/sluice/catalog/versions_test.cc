// The versions of keys (Ledger::ListVersions, GetVersion, DeleteVersion, RemoveDeleteMarker) on
// both catalogs: what a listing holds and in which order, paging by the resume position, the
// bounded window over a long purged history, and the plans of the statements.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <tuple>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/catalog_testing.h"
#include "sluice/catalog/versions_internal.h"
#include "sluice/core/testing/temp_dir.h"
#include "sluice/postgres/postgres.h"

namespace sluice::catalog {
namespace {

using testing_util::CatalogKind;

// (key, seq, newest, marked, removed, purged) of a listed file.
using Row = std::tuple<std::string, int64_t, bool, bool, bool, bool>;

std::vector<Row> Rows(const std::vector<FileVersion>& files) {
  std::vector<Row> out;
  out.reserve(files.size());
  for (const FileVersion& v : files) {
    out.emplace_back(v.file.key, v.file.seq, v.newest, v.marked, v.removed, v.file.purged_at != 0);
  }
  return out;
}

class VersionsTest : public ::testing::TestWithParam<CatalogKind> {
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

  int64_t Append(const std::string& key, const std::string& conn = "shop") {
    FileRecord r;
    r.connection_id = conn;
    r.table = "t";
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.size = 10;
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    auto seq = cat_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  // Loaded, then its bytes removed (retention, or a delete of a loaded file).
  void Purge(int64_t seq) {
    ASSERT_TRUE(cat_->MarkLoading(seq).ok());
    ASSERT_TRUE(cat_->MarkLoaded(seq, {}, clock_.NowMicros()).ok());
    ASSERT_TRUE(cat_->MarkPurged(seq, clock_.NowMicros()).ok());
  }

  // Every page of ListVersions with `limit`, concatenated; `pages` receives how many calls.
  std::vector<Row> Walk(const std::string& prefix, size_t limit, int* pages = nullptr) {
    std::vector<Row> out;
    std::string after;
    int64_t before = 0;
    int calls = 0;
    while (true) {
      auto page = cat_->ListVersions("shop", prefix, after, before, limit);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || ++calls > 1000) break;
      EXPECT_LE(page->files.size(), limit);
      for (const Row& r : Rows(page->files)) out.push_back(r);
      if (!page->more) break;
      // Each call gets further.
      EXPECT_TRUE(
          page->resume_key > after ||
          (page->resume_key == after && (before == 0 ? false : page->resume_before < before)))
          << page->resume_key << " " << page->resume_before;
      after = page->resume_key;
      before = page->resume_before;
    }
    if (pages != nullptr) *pages = calls;
    return out;
  }

  // Runs `sql` straight on the catalog's database (bulk history a test would take minutes to
  // append durably one file at a time).
  void Exec(const std::string& sql) {
    if (pg()) {
      auto db = store_->Connect();
      ASSERT_NE(db, nullptr);
      ASSERT_TRUE(db->Exec("SET search_path = _sluice_catalog").ok());
      const Status st = db->Exec(sql);
      ASSERT_TRUE(st.ok()) << st.ToString();
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root_ + "/data/catalog.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  // `n` loaded, purged files of `key` (a history retention emptied), or with `distinct`, one
  // each of n keys `key` + i.
  void InsertPurgedHistory(const std::string& key, int n, bool distinct = false) {
    const std::string values = "'shop', 't', '" + key + (distinct ? "' || i" : "'") +
                               ", 'x', 1, '', '', '', '{}', 0, 0, 0, 'loaded', 0, 0, 0, '', '', 1";
    const std::string into =
        "INSERT INTO files (connection_id, table_name, key, landed_id, size, md5_hex, "
        "sha256_hex, content_type, metadata_json, received_at, started_at, finished_at, status, "
        "rows_inserted, rows_updated, rows_refused, error_code, error_message, purged_at) ";
    if (pg()) {
      std::string sql =
          into + "SELECT " + values + " FROM generate_series(1, " + std::to_string(n) + ") i";
      sql.replace(sql.find("(connection_id"), 1, "(seq, ");
      sql.replace(sql.find("SELECT ") + 7, 0, "nextval('files_seq'), ");
      Exec(sql);
      Exec("ANALYZE files");
      return;
    }
    Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
         std::to_string(n) + ") " + into + "SELECT " + values + " FROM n");
  }

  // SQLite's EXPLAIN QUERY PLAN of `sql`, one step per line.
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

  testing::TempDir tmp_{"versions_test"};  // first: removed after everything using it
  FakeClock clock_{1'700'000'000'000'000};
  std::string root_;
  std::unique_ptr<testing_util::CatalogStore> store_;
  std::unique_ptr<Catalog> cat_;
};

INSTANTIATE_TEST_SUITE_P(Catalogs, VersionsTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(VersionsTest, EachKeysVersionsNewestFirstWithTheirState) {
  const int64_t a1 = Append("a");
  const int64_t a2 = Append("a");
  const int64_t a3 = Append("a");
  Purge(a1);  // no bytes: no longer a version
  const int64_t b1 = Append("b");
  ASSERT_EQ(cat_->DeleteKey("shop", "b")->size(), 1u);  // b reads as deleted: a delete marker
  const int64_t c1 = Append("c");
  const int64_t c2 = Append("c");
  ASSERT_TRUE(cat_->DeleteVersion("shop", "c", c2)->has_value());  // c's newest, as a version
  const int64_t d1 = Append("d");
  Purge(d1);  // d's newest has no bytes: no version, no object
  Append("a", "other");

  const std::vector<Row> all = {
      {"a", a3, true, false, false, false},  {"a", a2, false, false, false, false},
      {"b", b1, true, true, false, false},   {"c", c2, true, false, true, false},
      {"c", c1, false, false, false, false}, {"d", d1, true, false, false, true}};
  auto page = cat_->ListVersions("shop", "", "", 0, 100);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Rows(page->files), all);
  EXPECT_FALSE(page->more);
  EXPECT_TRUE(page->files[0].IsVersion());
  EXPECT_TRUE(page->files[2].HasDeleteMarker());
  EXPECT_FALSE(page->files[3].IsVersion());
  EXPECT_FALSE(page->files[5].IsVersion());

  // After a key, inside a key, a prefix.
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "", "a", 0, 100)->files),
            std::vector<Row>(all.begin() + 2, all.end()));
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "", "a", a3, 100)->files),
            std::vector<Row>(all.begin() + 1, all.end()));
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "", "c", c2 + 1, 100)->files),
            std::vector<Row>(all.begin() + 3, all.end()));
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "c", "", 0, 100)->files),
            std::vector<Row>(all.begin() + 3, all.begin() + 5));
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "c", "c", c2, 100)->files),
            std::vector<Row>(all.begin() + 4, all.begin() + 5));
  EXPECT_TRUE(cat_->ListVersions("shop", "zz", "", 0, 100)->files.empty());
  EXPECT_TRUE(cat_->ListVersions("shop", "", "", 0, 0)->files.empty());
  // A cursor past a common prefix (the S3 layer's `<prefix>\xff`) and a key no file has.
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "", "b\xff", 0, 100)->files),
            std::vector<Row>(all.begin() + 3, all.end()));
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "", "b\xff", 5, 100)->files),
            std::vector<Row>(all.begin() + 3, all.end()));

  // Every page size walks the same listing.
  for (size_t limit : {1, 2, 3, 5}) {
    EXPECT_EQ(Walk("", limit), all) << limit;
  }
}

TEST_P(VersionsTest, GetDeleteAndRestoreVersions) {
  const int64_t a1 = Append("a");
  const int64_t a2 = Append("a");
  Append("a", "other");

  auto v = cat_->GetVersion("shop", "a", a1);
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->file.seq, a1);
  EXPECT_FALSE((*v)->newest);
  EXPECT_TRUE((*cat_->GetVersion("shop", "a", a2))->newest);
  EXPECT_EQ((*cat_->GetVersion("shop", "a", 0))->file.seq, a2);  // 0: the newest
  EXPECT_FALSE(cat_->GetVersion("shop", "b", a1)->has_value());  // another key's
  EXPECT_FALSE(cat_->GetVersion("other", "a", a1)->has_value());
  EXPECT_FALSE(cat_->GetVersion("shop", "nope", 0)->has_value());
  EXPECT_FALSE(cat_->GetVersion("shop", "\xff", 0)->has_value());

  // Deleting the newest version: the key reads as deleted, with no marker.
  auto gone = cat_->DeleteVersion("shop", "a", a2);
  ASSERT_TRUE(gone.ok() && gone->has_value()) << gone.status().ToString();
  EXPECT_TRUE((*gone)->removed);
  EXPECT_FALSE((*gone)->marked);
  EXPECT_TRUE((*gone)->file.deleted);
  EXPECT_FALSE(cat_->VisibleFile("shop", "a")->has_value());
  EXPECT_TRUE(cat_->DeleteVersion("shop", "a", a2)->has_value());  // idempotent
  EXPECT_FALSE(cat_->DeleteVersion("shop", "b", a1)->has_value());
  EXPECT_FALSE(cat_->DeleteVersion("shop", "\xff", a1)->has_value());
  EXPECT_FALSE(*cat_->RemoveDeleteMarker("shop", "a", a2));  // no marker on it
  // The key's own delete leaves the removed file as it was, and marks the other.
  ASSERT_EQ(cat_->DeleteKey("shop", "a")->size(), 1u);
  EXPECT_TRUE((*cat_->GetVersion("shop", "a", a1))->marked);
  EXPECT_FALSE((*cat_->GetVersion("shop", "a", a2))->marked);

  // A delete marker is taken back on the newest file only.
  const int64_t b1 = Append("b");
  const int64_t b2 = Append("b");
  ASSERT_EQ(cat_->DeleteKey("shop", "b")->size(), 2u);
  EXPECT_FALSE(cat_->VisibleFile("shop", "b")->has_value());
  EXPECT_FALSE(*cat_->RemoveDeleteMarker("shop", "b", b1));  // not the newest
  EXPECT_FALSE(*cat_->RemoveDeleteMarker("other", "b", b2));
  EXPECT_TRUE(*cat_->RemoveDeleteMarker("shop", "b", b2));
  auto back = cat_->VisibleFile("shop", "b");
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->seq, b2);
  EXPECT_FALSE(*cat_->RemoveDeleteMarker("shop", "b", b2));  // gone already
  // Marked and then removed as a version: the marker goes, the version stays removed.
  ASSERT_EQ(cat_->DeleteKey("shop", "b")->size(), 1u);
  ASSERT_TRUE(cat_->DeleteVersion("shop", "b", b2)->has_value());
  EXPECT_TRUE(*cat_->RemoveDeleteMarker("shop", "b", b2));
  auto after = cat_->GetVersion("shop", "b", b2);
  EXPECT_FALSE((*after)->marked);
  EXPECT_TRUE((*after)->removed);
  EXPECT_FALSE(cat_->VisibleFile("shop", "b")->has_value());
}

TEST_P(VersionsTest, PagesThroughManyKeysAndVersions) {
  std::vector<Row> want;
  size_t files = 0;
  for (int i = 0; i < 40; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k/%03d", i);
    std::vector<int64_t> seqs;
    for (int n = 0; n <= i % 4; ++n) seqs.push_back(Append(key));
    files += seqs.size();
    if (i % 5 == 0) Purge(seqs.front());
    for (size_t n = seqs.size(); n-- > 0;) {
      const bool purged = i % 5 == 0 && n == 0;
      if (purged && n + 1 != seqs.size()) continue;  // neither a version nor the newest
      want.emplace_back(key, seqs[n], n + 1 == seqs.size(), false, false, purged);
    }
  }
  EXPECT_EQ(Rows(cat_->ListVersions("shop", "k/", "", 0, 1000)->files), want);
  for (size_t limit : {1, 4, 7}) {
    int pages = 0;
    EXPECT_EQ(Walk("k/", limit, &pages), want) << limit;
    // A page holds `limit` files, or ends after `limit` entries read (purged ones between).
    EXPECT_LE(pages, static_cast<int>(files / limit) + 2) << limit;
  }
}

TEST_P(VersionsTest, ALongPurgedHistoryIsReadAWindowAtATime) {
  // Between two keys, one whose many files retention purged: each call reads a window of its
  // index entries and says where it stopped, however many there are.
  const int64_t a = Append("a");
  const int kHistory = static_cast<int>(ListScanWindow(10)) * 3 + 17;
  InsertPurgedHistory("big", kHistory);
  const int64_t big = Append("big");
  const int64_t z = Append("z");
  const std::vector<Row> want = {{"a", a, true, false, false, false},
                                 {"big", big, true, false, false, false},
                                 {"z", z, true, false, false, false}};
  int pages = 0;
  EXPECT_EQ(Walk("", 10, &pages), want);
  EXPECT_GE(pages, 3);  // the history takes several windows
  EXPECT_LE(pages, 8);
  // The newest files first: listing the big key alone starts with its newest.
  auto page = cat_->ListVersions("shop", "big", "", 0, 1);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Rows(page->files), (std::vector<Row>{want[1]}));
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->resume_key, "big");
  EXPECT_EQ(page->resume_before, big);
}

TEST_P(VersionsTest, StatementsSeekTheKeyIndex) {
  if (!pg()) {
    const VersionSql& q = kSqliteVersionSql;
    for (const char* sql : {q.key_versions, q.forward, q.next_key, q.get, q.newest}) {
      const std::string plan = QueryPlan(sql);
      EXPECT_NE(plan.find("files_by_key (connection_id=? AND key"), std::string::npos) << plan;
      EXPECT_EQ(plan.find("SCAN files"), std::string::npos) << plan;
      // The walks of one key seek its seq range (a row comparison would bound the key only).
      EXPECT_EQ(plan.find("(connection_id,key)"), std::string::npos) << plan;
    }
    // The newest file's seq: a seek down to it, not a walk of the key.
    EXPECT_NE(QueryPlan(q.get).find("files_by_key (connection_id=? AND key=? AND seq<?)"),
              std::string::npos);
    return;
  }
  // A ledger of many keys, one of them with a long history: the key is frequent, and its
  // files are older than the others'.
  InsertPurgedHistory("big", 20'000);
  InsertPurgedHistory("k/", 20'000, /*distinct=*/true);
  auto db = store_->Connect();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("SET search_path = _sluice_catalog").ok());
  const auto explain = [&](const char* sql, const postgres::Params& params) {
    auto rows = db->Query(std::string("EXPLAIN ") + sql, params);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
    std::string plan;
    for (int i = 0; rows.ok() && i < rows->size(); ++i)
      plan += std::string(rows->Text(i, 0)) + "\n";
    return plan;
  };
  const auto range = [] {
    return postgres::Params().Text("shop").Text("a").Text("").Int(0).Text("");
  };
  const std::vector<std::string> plans = {
      explain(kPgVersionSql.key_versions,
              postgres::Params().Text("shop").Text("big").Int(1'000'000).Int(256).Int(10)),
      explain(kPgVersionSql.forward, range().Int(256).Int(10)),
      explain(kPgVersionSql.next_key, range()),
      explain(kPgVersionSql.get, postgres::Params().Text("shop").Text("big").Int(7)),
      explain(kPgVersionSql.newest, postgres::Params().Text("shop").Text("big")),
  };
  for (const std::string& plan : plans) {
    EXPECT_NE(plan.find("files_by_key"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
    // The primary key only to fetch the rows a window chose (or file $3 itself).
    EXPECT_EQ(plan.find("Backward using files_pkey"), std::string::npos) << plan;
  }
}

}  // namespace
}  // namespace sluice::catalog
