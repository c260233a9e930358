// The PostgreSQL catalog as several nodes see it: two catalogs on one database stand for two
// `sluice serve` processes. The contract shared with the SQLite catalog is tested on both in
// catalog_test.cc, listing_test.cc and credentials_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/postgres/pg_catalog_internal.h"
#include "sluice/core/mutex.h"
#include "sluice/core/testing/temp_dir.h"
#include "sluice/postgres/postgres.h"
#include "sluice/postgres/postgres_testing.h"

namespace sluice::catalog {
namespace {

using namespace std::chrono_literals;
using postgres::Conn;

class PgCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.conninfo().empty());
    dir_ = tmp_.path();
    a_ = Open();
    b_ = Open();
    ASSERT_TRUE(a_ && b_);
    ASSERT_TRUE(a_->CreateConnection("shop").ok());
  }

  std::unique_ptr<Catalog> Open(const std::string& key_file = "secret.key") {
    auto c =
        OpenPostgresCatalog(db_.conninfo(), dir_ + "/" + key_file, FileSystem::Default(), clock_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static FileRecord File(const std::string& table, const std::string& key) {
    FileRecord r;
    r.connection_id = "shop";
    r.table = table;
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.size = 10;
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    return r;
  }

  // A file of `table` marked loading; its seq.
  int64_t Loading(Catalog& cat, const std::string& table, const std::string& key) {
    auto seq = cat.AppendFile(File(table, key));
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_TRUE(cat.MarkLoading(*seq).ok());
    return *seq;
  }

  // Runs `write` in a transaction of a connection of its own, as the pool runs it before its
  // COMMIT; commits when it succeeds, rolls back otherwise.
  // Runs `write` as the PostgreSQL pool does: with the load's counts as a query, then COMMIT.
  Status RunInPool(const Ledger::InPoolWrite& write, const LoadCounts& counts = {}) {
    auto conn = db_.Connect("pool");
    if (conn == nullptr) return Err(ErrorCode::kInternal, "no connection");
    // A wait on a lock would hang the test: fail it instead.
    SLUICE_RETURN_IF_ERROR(conn->Exec("SET statement_timeout = '5s'"));
    postgres::Transaction txn(*conn);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    const std::string query = "(SELECT " + std::to_string(counts.inserted) + " AS inserted, " +
                              std::to_string(counts.updated) + " AS updated, " +
                              std::to_string(counts.refused) + " AS refused, " +
                              std::to_string(counts.deleted) + " AS deleted)";
    return txn.Commit(write(query));
  }

  // Waits up to 10 s for `done`.
  template <class Pred>
  static bool Eventually(Pred done) {
    for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);
    return done();
  }

  postgres::testing::TestDatabase db_;
  testing::TempDir tmp_{"pg_catalog_test"};
  std::string dir_;
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<Catalog> a_;
  std::unique_ptr<Catalog> b_;
};

TEST_F(PgCatalogTest, IsShared) {
  EXPECT_TRUE(a_->Shared());
  EXPECT_EQ(b_->GetConnection("shop")->value().name, "shop");
}

TEST_F(PgCatalogTest, SeveralNodesOpenAtOnce) {
  postgres::testing::TestDatabase fresh;
  ASSERT_FALSE(fresh.conninfo().empty());
  // The first open creates the key file; the others must find it: open one first.
  ASSERT_TRUE(
      OpenPostgresCatalog(fresh.conninfo(), dir_ + "/fresh.key", FileSystem::Default(), clock_)
          .ok());
  std::atomic<int> opened{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto c =
          OpenPostgresCatalog(fresh.conninfo(), dir_ + "/fresh.key", FileSystem::Default(), clock_);
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      if (c.ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 4);
}

TEST_F(PgCatalogTest, ANodeWithAnotherSecretKeyIsRefusedAtOpen) {
  auto created = a_->CreateConnection("alpha");
  ASSERT_TRUE(created.ok());
  std::filesystem::copy_file(dir_ + "/secret.key", dir_ + "/other.key");
  {
    std::fstream key(dir_ + "/other.key", std::ios::in | std::ios::out | std::ios::binary);
    key.seekp(0);
    key.put('\x5a');
  }
  auto other =
      OpenPostgresCatalog(db_.conninfo(), dir_ + "/other.key", FileSystem::Default(), clock_);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("same key file"), std::string::npos)
      << other.status().ToString();
  EXPECT_EQ(other.status().ToString().find(created->secret.reveal()), std::string::npos);
  // A node with the right key decrypts the first node's secret.
  auto found = b_->LookupAccessKey(created->access_key);
  ASSERT_TRUE(found.ok() && found->has_value()) << found.status().ToString();
  EXPECT_EQ((*found)->secret.reveal(), created->secret.reveal());
}

TEST_F(PgCatalogTest, AnUploadWaitsForAnEarlierUploadOfItsTableOnly) {
  // A slow upload of `orders` on another session: it has drawn its seq and not committed.
  auto slow = db_.Connect("slow upload");
  ASSERT_NE(slow, nullptr);
  ASSERT_TRUE(slow->Exec("SET search_path = _sluice_catalog; BEGIN").ok());
  auto drawn = slow->QueryInt(
      "INSERT INTO table_counters AS t VALUES ('shop', 'orders', nextval('files_seq')) "
      "ON CONFLICT (connection_id, table_name) DO UPDATE SET last_seq = nextval('files_seq') "
      "RETURNING t.last_seq");
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString();

  // Another table's upload does not wait.
  auto other = b_->AppendFile(File("events", "events/1"));
  ASSERT_TRUE(other.ok()) << other.status().ToString();

  // One of the same table waits, and then draws the larger number.
  std::atomic<int64_t> later{0};
  std::thread t([&] {
    auto seq = b_->AppendFile(File("orders", "orders/2"));
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    later = seq.ok() ? *seq : -1;
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(later.load(), 0) << "the second upload of the table did not wait";
  ASSERT_TRUE(slow->Exec("COMMIT").ok());
  t.join();
  EXPECT_GT(later.load(), *drawn);
}

TEST_F(PgCatalogTest, ARemovalWaitsForAnUploadOfItsTableUnderWay) {
  ASSERT_TRUE(a_->AddTable({"shop", "orders", {"id"}}).ok());
  ASSERT_TRUE(a_->AddTable({"shop", "events", {"id"}}).ok());
  // An upload of `orders` on another session, as InsertFile runs it: it holds the table's
  // counter row and has inserted its queued file, not committed.
  auto slow = db_.Connect("slow upload");
  ASSERT_NE(slow, nullptr);
  ASSERT_TRUE(slow->Exec("SET search_path = _sluice_catalog; BEGIN").ok());
  auto drawn = slow->QueryInt(
      "INSERT INTO table_counters AS t VALUES ('shop', 'orders', nextval('files_seq')) "
      "ON CONFLICT (connection_id, table_name) DO UPDATE SET last_seq = nextval('files_seq') "
      "RETURNING t.last_seq");
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString();
  Status inserted = slow->Exec(
      "INSERT INTO files (seq, connection_id, table_name, key, landed_id, size, md5_hex, "
      "sha256_hex, content_type, metadata_json, received_at, started_at, finished_at, status, "
      "rows_inserted, rows_updated, rows_refused, error_code, error_message) VALUES (" +
      std::to_string(*drawn) +
      ", 'shop', 'orders', 'orders/1', 'l1', 1, '', '', '', '{}', 1, 0, 0, 'queued', 0, 0, 0, "
      "'', '')");
  ASSERT_TRUE(inserted.ok()) << inserted.ToString();

  // Another table's removal does not wait.
  ASSERT_TRUE(b_->RemoveTable("shop", "events").ok());

  // The table's own waits, and then counts the upload's file.
  std::atomic<bool> done{false};
  Status removal;
  std::thread t([&] {
    removal = b_->RemoveTable("shop", "orders");
    done = true;
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(done.load()) << "the removal did not wait for the upload of its table";
  ASSERT_TRUE(slow->Exec("COMMIT").ok());
  t.join();
  EXPECT_EQ(removal.code(), ErrorCode::kInvalidArgument) << removal.ToString();
  EXPECT_NE(removal.message().find("1 file(s) queued or loading"), std::string::npos)
      << removal.ToString();
  EXPECT_TRUE(a_->GetTable("shop", "orders")->has_value());
}

TEST_F(PgCatalogTest, AnUploadAndARetryOfATableWaitForItsRemoval) {
  ASSERT_TRUE(a_->AddTable({"shop", "orders", {"id"}}).ok());
  auto first = a_->AppendFile(File("orders", "orders/1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(a_->MarkFailed(*first, Err(ErrorCode::kPkNull, "null key")).ok());

  // A removal of `orders` on another session, as RemoveTable runs it, not committed.
  auto removing = db_.Connect("removal");
  ASSERT_NE(removing, nullptr);
  ASSERT_TRUE(removing->Exec("SET search_path = _sluice_catalog; BEGIN").ok());
  const auto table = postgres::Params().Text("shop").Text("orders");
  ASSERT_TRUE(removing->Query(kPgLockQueueSql, table).ok());
  auto busy = removing->QueryInt(kTableBusySql, table);
  ASSERT_TRUE(busy.ok()) << busy.status().ToString();
  EXPECT_EQ(*busy, 0);
  ASSERT_TRUE(
      removing->Query("DELETE FROM tables WHERE connection_id = $1 AND name = $2", table).ok());

  // Another table's upload does not wait.
  ASSERT_TRUE(b_->AppendFile(File("events", "events/1")).ok());

  // An upload and a retry of the table wait, and commit after the removal.
  std::atomic<int> done{0};
  Status appended;
  Status retried;
  std::thread upload([&] {
    appended = b_->AppendFile(File("orders", "orders/2")).status();
    ++done;
  });
  std::thread retry([&] {
    retried = b_->Retry(*first);
    ++done;
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(done.load(), 0) << "an upload or a retry did not wait for the removal";
  ASSERT_TRUE(removing->Exec("COMMIT").ok());
  upload.join();
  retry.join();
  EXPECT_TRUE(appended.ok()) << appended.ToString();
  EXPECT_TRUE(retried.ok()) << retried.ToString();
  EXPECT_FALSE(a_->GetTable("shop", "orders")->has_value());
  EXPECT_EQ(a_->GetFile(*first)->value().status, FileStatus::kQueued);
}

TEST_F(PgCatalogTest, EachTablesSequenceOrderIsItsCommitOrder) {
  // Two nodes, three writers each, two tables; an observer lists each table meanwhile. A
  // table's visible files must always be a prefix (by seq) of its final list: a file never
  // becomes visible after a file of its table with a higher seq.
  constexpr int kWriters = 3;
  constexpr int kPerWriter = 30;
  std::atomic<bool> writing{true};
  std::vector<std::vector<int64_t>> snapshots;  // seqs of `orders` seen, in seq order
  std::thread observer([&] {
    while (writing.load()) {
      auto files = a_->ListFiles("shop", "orders");
      ASSERT_TRUE(files.ok()) << files.status().ToString();
      std::vector<int64_t> seqs;
      for (const auto& f : *files) seqs.push_back(f.seq);
      snapshots.push_back(std::move(seqs));
    }
  });
  std::vector<std::thread> writers;
  std::map<std::string, std::set<int64_t>> appended;
  Mutex mu;
  for (int w = 0; w < 2 * kWriters; ++w) {
    Catalog* cat = w % 2 == 0 ? a_.get() : b_.get();
    writers.emplace_back([&, cat, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string table = (i + w) % 3 == 0 ? "events" : "orders";
        auto seq = cat->AppendFile(File(table, table + "/" + std::to_string(w * 1000 + i)));
        ASSERT_TRUE(seq.ok()) << seq.status().ToString();
        MutexLock lock(&mu);
        EXPECT_TRUE(appended[table].insert(*seq).second) << "seq " << *seq << " drawn twice";
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  observer.join();

  size_t total = 0;
  for (const auto& [table, seqs] : appended) {
    auto files = b_->ListFiles("shop", table);
    ASSERT_TRUE(files.ok());
    std::vector<int64_t> listed;
    for (const auto& f : *files) listed.push_back(f.seq);
    EXPECT_EQ(listed, std::vector<int64_t>(seqs.begin(), seqs.end())) << table;
    total += listed.size();
    if (table != "orders") continue;
    for (const auto& seen : snapshots) {
      ASSERT_LE(seen.size(), listed.size());
      EXPECT_TRUE(std::equal(seen.begin(), seen.end(), listed.begin()))
          << "a file of orders committed before an earlier-numbered one";
    }
  }
  EXPECT_EQ(total, 2u * kWriters * kPerWriter);
  EXPECT_GT(snapshots.size(), 1u);
}

TEST_F(PgCatalogTest, AClaimIsExclusiveBetweenNodesAndReleasedWithItsHolder) {
  const TableKey orders{"shop", "orders"};
  auto held = a_->ClaimTable(orders);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_NE(*held, nullptr);
  auto refused = b_->ClaimTable(orders);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(*refused, nullptr);
  // Other tables are free, to both.
  auto events = b_->ClaimTable({"shop", "events"});
  ASSERT_TRUE(events.ok() && *events != nullptr);
  held->reset();
  auto now_b = b_->ClaimTable(orders);
  ASSERT_TRUE(now_b.ok());
  EXPECT_NE(*now_b, nullptr);
  EXPECT_EQ(*a_->ClaimTable(orders), nullptr);
}

TEST_F(PgCatalogTest, AClaimDiesWithItsConnection) {
  const TableKey orders{"shop", "orders"};
  auto held = a_->ClaimTable(orders);
  ASSERT_TRUE(held.ok() && *held != nullptr);
  ASSERT_EQ(*b_->ClaimTable(orders), nullptr);
  // The node's connection goes (a crash, a network cut): its claim goes with it.
  auto admin = db_.Connect("admin");
  ASSERT_NE(admin, nullptr);
  auto killed = admin->QueryInt(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
      "current_database() AND state = 'idle in transaction'");
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  EXPECT_EQ(*killed, 1);
  EXPECT_TRUE(Eventually([&] {
    auto claim = b_->ClaimTable(orders);
    return claim.ok() && *claim != nullptr;
  }));
  held->reset();  // over a dead connection: harmless
  // The dead connection is not reused: a claims again.
  auto again = a_->ClaimTable({"shop", "events"});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(*again, nullptr);
}

TEST_F(PgCatalogTest, LoadedInPoolCommitsWithTheLoadAndOnlyOnce) {
  const int64_t seq = Loading(*a_, "orders", "orders/1");
  // The loader holds the table's claim meanwhile: the write must not wait on it.
  auto claim = a_->ClaimTable({"shop", "orders"});
  ASSERT_TRUE(claim.ok() && *claim != nullptr);
  const LoadCounts counts{5, 4, 3, 2};
  Ledger::InPoolWrite write = a_->LoadedInPool(seq, 777);
  ASSERT_TRUE(write);
  ASSERT_TRUE(RunInPool(write, counts).ok());
  auto f = b_->GetFile(seq)->value();
  EXPECT_EQ(f.status, FileStatus::kLoaded);
  EXPECT_EQ(f.rows_inserted, 5);
  EXPECT_EQ(f.rows_updated, 4);
  EXPECT_EQ(f.rows_refused, 3);
  EXPECT_EQ(f.rows_deleted, 2);
  EXPECT_EQ(f.finished_at, 777);
  EXPECT_EQ(f.error_code, "");

  // A second applier (another node that loaded it too) fails and rolls back.
  Status again = RunInPool(b_->LoadedInPool(seq, 888), {9, 9, 9, 9});
  EXPECT_EQ(again.code(), ErrorCode::kAlreadyExists) << again.ToString();
  EXPECT_NE(again.message().find("no longer loading"), std::string::npos) << again.ToString();
  EXPECT_EQ(b_->GetFile(seq)->value().rows_inserted, 5);
  EXPECT_EQ(b_->GetFile(seq)->value().finished_at, 777);
}

TEST_F(PgCatalogTest, LoadedInPoolRefusesAFileBehindItsTablesPosition) {
  const int64_t first = Loading(*a_, "orders", "orders/1");
  const int64_t second = Loading(*a_, "orders", "orders/2");
  ASSERT_TRUE(RunInPool(a_->LoadedInPool(second, 1)).ok());
  Status behind = RunInPool(a_->LoadedInPool(first, 2));
  EXPECT_EQ(behind.code(), ErrorCode::kAlreadyExists) << behind.ToString();
  // Rolled back whole: the file is still loading.
  EXPECT_EQ(a_->GetFile(first)->value().status, FileStatus::kLoading);
}

TEST_F(PgCatalogTest, AnotherNodesWriteWakesTheWatcher) {
  std::atomic<int> calls{0};
  b_->WatchChanges([&] { ++calls; });
  const int64_t before = *b_->ChangeCounter();
  ASSERT_TRUE(a_->AppendFile(File("orders", "orders/1")).ok());
  EXPECT_TRUE(Eventually([&] { return calls.load() > 0; }));
  EXPECT_TRUE(Eventually([&] { return *b_->ChangeCounter() != before; }));
  // So does the in-pool write, which commits on the pool's connection.
  const int64_t seq = Loading(*a_, "orders", "orders/2");
  const int seen = calls.load();
  ASSERT_TRUE(RunInPool(a_->LoadedInPool(seq, 1)).ok());
  EXPECT_TRUE(Eventually([&] { return calls.load() > seen; }));
}

TEST_F(PgCatalogTest, AStoppedLoaderIsBelievedOnlyWhenNoNodeClaimsTheTable) {
  const int64_t seq = Loading(*a_, "orders", "orders/1");
  {
    // Another node's loader works on the table: its `loading` file is not left over.
    auto claim = a_->ClaimTable({"shop", "orders"});
    ASSERT_TRUE(claim.ok() && *claim != nullptr);
    Status st = b_->Retry(seq, LoaderState::kStopped);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << st.ToString();
    EXPECT_EQ(b_->Skip(seq, LoaderState::kStopped).code(), ErrorCode::kInvalidArgument);
  }
  ASSERT_TRUE(b_->Retry(seq, LoaderState::kStopped).ok());
  EXPECT_EQ(a_->GetFile(seq)->value().status, FileStatus::kQueued);
}

TEST_F(PgCatalogTest, KeysKeepByteOrderAndAnyUtf8) {
  for (const std::string key : {"t/\xc3\xa9", "t/Z", "t/a", "t/\xe2\x82\xac", "t/_", "t/\x7f"}) {
    ASSERT_TRUE(a_->AppendFile(File("t", key)).ok()) << key;
  }
  auto page = b_->ListVisible("shop", "t/", "", 100);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> keys;
  for (const auto& f : page->files) keys.push_back(f.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"t/Z", "t/_", "t/a", "t/\x7f", "t/\xc3\xa9",
                                            "t/\xe2\x82\xac"}));
  auto nul = a_->AppendFile(File("t", std::string("t/a\0b", 5)));
  EXPECT_EQ(nul.status().code(), ErrorCode::kInvalidArgument);
}

// Bounds PostgreSQL text cannot hold: the S3 layer's cursor past a common prefix
// (`<prefix>\xff`) skips exactly that prefix's keys, and a prefix ending inside a multi-byte
// character still bounds its range.
TEST_F(PgCatalogTest, ListingBoundsWithBytesNoKeyHas) {
  for (const std::string key : {"logs/a/1", "logs/a/2", "logs/a\xc3\xa9", "logs/b/1",
                                "logs/\xc3\xbf/1", "logs/\xc4\x80", "logt"}) {
    ASSERT_TRUE(a_->AppendFile(File("logs", key)).ok()) << key;
  }
  auto keys = [&](const std::string& prefix, const std::string& after) {
    auto page = b_->ListVisible("shop", prefix, after, 100);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& f : page->files) out.push_back(f.key);
    }
    return out;
  };
  using Keys = std::vector<std::string>;
  EXPECT_EQ(keys("logs/", "logs/a/\xff"),
            (Keys{"logs/a\xc3\xa9", "logs/b/1", "logs/\xc3\xbf/1", "logs/\xc4\x80"}));
  EXPECT_EQ(keys("logs/", "logs/\xc3\xbf/\xff"), (Keys{"logs/\xc4\x80"}));
  EXPECT_EQ(keys("logs/\xc3\xbf", ""), (Keys{"logs/\xc3\xbf/1"}));  // PrefixEnd would be \xc3\xc0
  EXPECT_EQ(keys("logs/", "logs/\xc4\x80\xff"), Keys{});
  EXPECT_EQ(keys("logs/", "logs/a\x80"),
            (Keys{"logs/a\xc3\xa9", "logs/b/1", "logs/\xc3\xbf/1", "logs/\xc4\x80"}));
  EXPECT_EQ(keys("logs/\xc3", ""), Keys{});  // no key starts with a malformed prefix
  auto uploads = b_->ListUploads("shop", "logs/", "logs/a/\xff", "", 10);
  EXPECT_TRUE(uploads.ok()) << uploads.status().ToString();
}

TEST(PgKeyRangeTest, BoundsAreValidTextThatSplitTheKeysAlike) {
  PgKeyRange r = MakePgKeyRange("p/", "p/x\xff\xff");
  EXPECT_EQ(r.after, "");
  EXPECT_EQ(r.from, "p/y");
  EXPECT_EQ(r.before, "p0");
  r = MakePgKeyRange("", "\xf4\x8f\xbf\xbf\xff");  // past U+10FFFF: nothing is left
  EXPECT_TRUE(r.empty);
  r = MakePgKeyRange("\xed\x9f\xbf", "");  // U+D7FF: the successor skips the surrogates
  EXPECT_EQ(r.before, "\xee\x80\x80");
  r = MakePgKeyRange("", "");
  EXPECT_FALSE(r.before.has_value());
  EXPECT_FALSE(r.empty);
}

TEST_F(PgCatalogTest, ABrokenConnectionIsReplaced) {
  ASSERT_TRUE(a_->AppendFile(File("orders", "orders/1")).ok());
  auto admin = db_.Connect("admin");
  ASSERT_NE(admin, nullptr);
  // Every idle connection of the catalogs goes (a server restart, say).
  ASSERT_TRUE(admin
                  ->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                         "datname = current_database() AND pid != pg_backend_pid()")
                  .ok());
  auto files = a_->ListFiles("shop", "orders");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), 1u);
  EXPECT_TRUE(a_->AppendFile(File("orders", "orders/2")).ok());
}

}  // namespace
}  // namespace sluice::catalog
