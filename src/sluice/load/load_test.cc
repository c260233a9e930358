#include "sluice/load/load.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "sluice/parquet/parquet.h"

namespace sluice::load {
namespace {

const std::string kGenerated = std::string(SLUICE_SHARED_DIR) + "/parquet/generated/";

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-load-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto catalog = catalog::Catalog::Open(dir_.string(), fs_, clock_);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(*catalog);
    store_ = std::make_unique<landing::Store>(fs_, (dir_ / "landing").string());
    ASSERT_TRUE(store_->Init().ok());
    auto pool = pool::OpenSqlitePool((dir_ / "pool.db").string(), clock_);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(*pool);
    loader_ = std::make_unique<Loader>(*catalog_, *store_, *pool_, clock_,
                                       LoaderOptions{.workers = 2, .poll_interval_ms = 20});
    auto created = catalog_->CreateConnection("demo");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void TearDown() override {
    loader_.reset();
    pool_.reset();
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }

  void AddTable(const std::string& name, std::vector<std::string> pk, std::string age = "") {
    catalog::TableConfig t;
    t.connection_id = "demo";
    t.name = name;
    t.primary_key = std::move(pk);
    t.age_column = std::move(age);
    ASSERT_TRUE(catalog_->AddTable(t).ok());
  }

  // Lands a copy of a corpus file and records it, as a PUT does.
  int64_t Push(const std::string& table, const std::string& corpus_file) {
    auto source = fs_.ReadSmallFile(kGenerated + corpus_file);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    auto incoming = store_->Begin();
    EXPECT_TRUE(incoming.ok());
    EXPECT_TRUE((*incoming)->Append(AsBytes(*source)).ok());
    auto id = (*incoming)->Commit();
    EXPECT_TRUE(id.ok());
    catalog::FileRecord r;
    r.connection_id = "demo";
    r.table = table;
    r.key = table + "/" + corpus_file;
    r.landed_id = *id;
    r.size = source->size();
    r.received_at = clock_.NowMicros();
    auto seq = catalog_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return *seq;
  }

  catalog::FileRecord File(int64_t seq) {
    auto f = catalog_->GetFile(seq);
    EXPECT_TRUE(f.ok() && f->has_value());
    return **f;
  }

  std::string Scalar(const std::string& sql) {
    auto r = pool_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return "";
    return *r->rows[0][0];
  }

  std::filesystem::path dir_;
  FileSystem& fs_ = FileSystem::Default();
  FakeClock clock_{1'795'746'816'000'000};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<landing::Store> store_;
  std::unique_ptr<pool::Pool> pool_;
  std::unique_ptr<Loader> loader_;
};

TEST_F(LoaderTest, LoadsTheSeedDemoInOrder) {
  AddTable("flat", {"order_id"});
  const int64_t v1 = Push("flat", "seed_order_flat_v1.parquet");
  const int64_t v2 = Push("flat", "seed_order_flat_v2.parquet");
  const catalog::TableKey key{"demo", "flat"};
  ASSERT_TRUE(*loader_->LoadNext(key));
  ASSERT_TRUE(*loader_->LoadNext(key));
  EXPECT_FALSE(*loader_->LoadNext(key));
  EXPECT_EQ(File(v1).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(File(v1).rows_inserted, 1);
  EXPECT_EQ(File(v2).rows_updated, 1);
  EXPECT_EQ(Scalar("SELECT payment_method FROM flat"), "cash");
  EXPECT_EQ(Scalar("SELECT count(*) FROM flat"), "1");
}

TEST_F(LoaderTest, FailedFileBlocksItsTableUntilRetried) {
  AddTable("flat", {"orderid"});  // misspelt key: the file has no such column
  const int64_t v1 = Push("flat", "seed_order_flat_v1.parquet");
  const int64_t v2 = Push("flat", "seed_order_flat_v2.parquet");
  const catalog::TableKey key{"demo", "flat"};
  ASSERT_TRUE(*loader_->LoadNext(key));
  EXPECT_EQ(File(v1).status, catalog::FileStatus::kFailed);
  EXPECT_EQ(File(v1).error_code, "PK_NOT_FOUND");
  EXPECT_FALSE(*loader_->LoadNext(key));  // blocked: v2 waits behind v1
  EXPECT_EQ(File(v2).status, catalog::FileStatus::kQueued);

  catalog::TableConfig fixed;
  fixed.connection_id = "demo";
  fixed.name = "flat";
  fixed.primary_key = {"order_id"};
  ASSERT_TRUE(catalog_->UpdateTable(fixed).ok());
  ASSERT_TRUE(catalog_->Retry(v1).ok());
  ASSERT_TRUE(*loader_->LoadNext(key));
  ASSERT_TRUE(*loader_->LoadNext(key));
  EXPECT_EQ(File(v1).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(File(v2).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(Scalar("SELECT order_value FROM flat").substr(0, 3), "600");
}

TEST_F(LoaderTest, ReconcileRecordsAFileThePoolAppliedBeforeACrash) {
  AddTable("orders", {"order_id"});
  const int64_t seq = Push("orders", "orders_v1.parquet");
  {
    // The crash window: the pool transaction committed, the ledger was never updated.
    auto file = store_->Open(File(seq).landed_id);
    ASSERT_TRUE(file.ok());
    auto reader = parquet::OpenParquet(std::move(*file));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto tx = pool_->BeginLoad({"orders", {"order_id"}, ""}, seq);
    ASSERT_TRUE(tx.ok());
    batch::Batch b;
    while (*(*reader)->Next(&b)) ASSERT_TRUE((*tx)->Apply(b).ok());
    ASSERT_TRUE((*tx)->Commit(clock_.NowMicros()).ok());
  }
  EXPECT_EQ(File(seq).status, catalog::FileStatus::kQueued);
  ASSERT_TRUE(loader_->Reconcile().ok());
  EXPECT_EQ(File(seq).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(File(seq).rows_inserted, 1000);
  EXPECT_FALSE(*loader_->LoadNext({"demo", "orders"}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM orders"), "1000");
  EXPECT_EQ(Scalar("SELECT count(*) FROM _sluice_applied"), "1");
}

TEST_F(LoaderTest, WorkersLoadSeveralTablesAndFailuresStayLocal) {
  AddTable("a", {"order_id"});
  AddTable("b", {"order_id"}, "created_at");
  AddTable("c", {"no_such_column"});
  std::vector<int64_t> seqs = {Push("a", "orders_v1.parquet"), Push("b", "orders_v1.parquet"),
                               Push("c", "orders_v1.parquet"), Push("a", "orders_v2.parquet"),
                               Push("b", "orders_v2.parquet")};
  loader_->Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto done = [&] {
    for (int64_t s : seqs) {
      const auto st = File(s).status;
      if (st == catalog::FileStatus::kQueued || st == catalog::FileStatus::kLoading) return false;
    }
    return true;
  };
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  loader_->Stop();
  ASSERT_TRUE(done());
  EXPECT_EQ(File(seqs[2]).error_code, "PK_NOT_FOUND");
  EXPECT_EQ(File(seqs[3]).rows_updated, 100);
  EXPECT_EQ(File(seqs[4]).rows_refused, 20);
  EXPECT_EQ(Scalar("SELECT count(*) FROM a"), "1050");
  EXPECT_EQ(Scalar("SELECT count(*) FROM b"), "1050");
}

}  // namespace
}  // namespace sluice::load
