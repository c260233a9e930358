#include "sluice/load/load.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>

#include "sluice/core/testing/faulty_fs.h"
#include "sluice/core/testing/temp_dir.h"
#include "sluice/load/load_internal.h"
#include "sluice/parquet/parquet.h"
#include "sluice/shape/nested.h"

namespace sluice::load {
namespace {

const std::string kGenerated = std::string(SLUICE_SHARED_DIR) + "/parquet/generated/";
const std::string kBadData = std::string(SLUICE_SHARED_DIR) + "/parquet/testing/bad_data/";

// A file system whose reads of one file (its path) throw what `thrower` throws when they start
// in [from, to): a reader with a bug, or an allocation that fails. Records the thread that
// threw.
class ThrowingReadFs final : public testing::ForwardingFileSystem {
 public:
  ThrowingReadFs(FileSystem& base, std::string path, uint64_t from, uint64_t to, void (*thrower)())
      : ForwardingFileSystem(base),
        path_(std::move(path)),
        from_(from),
        to_(to),
        thrower_(thrower) {}
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(auto file, base().OpenRandomAccess(path));
    if (path != path_) return file;
    return std::unique_ptr<RandomAccessFile>(new Throwing(std::move(file), this));
  }
  std::thread::id thrown_on() const {
    std::lock_guard<std::mutex> lock(mu_);
    return thrown_on_;
  }

 private:
  class Throwing final : public RandomAccessFile {
   public:
    Throwing(std::unique_ptr<RandomAccessFile> base, ThrowingReadFs* fs)
        : base_(std::move(base)), fs_(fs) {}
    uint64_t size() const override { return base_->size(); }
    Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
      if (offset >= fs_->from_ && offset < fs_->to_) {
        {
          std::lock_guard<std::mutex> lock(fs_->mu_);
          fs_->thrown_on_ = std::this_thread::get_id();
        }
        fs_->thrower_();
      }
      return base_->ReadAt(offset, n, out);
    }
    const std::string& name() const override { return base_->name(); }

   private:
    std::unique_ptr<RandomAccessFile> base_;
    ThrowingReadFs* fs_;
  };
  std::string path_;
  uint64_t from_;
  uint64_t to_;
  void (*thrower_)();
  mutable std::mutex mu_;
  std::thread::id thrown_on_;
};

std::string ReadCorpus(const std::string& path) {
  auto bytes = FileSystem::Default().ReadSmallFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    auto catalog = catalog::Catalog::Open(dir_.string(), fs_, clock_);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(*catalog);
    store_ = std::make_unique<landing::DirectoryStore>(fs_, (dir_ / "landing").string());
    ASSERT_TRUE(store_->Init().ok());
    auto pool = pool::OpenSqlitePool((dir_ / "pool").string(), clock_);
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
  }

  void AddTable(const std::string& name, std::vector<std::string> pk, std::string age = "",
                catalog::OnError on_error = catalog::OnError::kBlock) {
    catalog::TableConfig t;
    t.connection_id = "demo";
    t.name = name;
    t.primary_key = std::move(pk);
    t.age_column = std::move(age);
    t.on_error = on_error;
    ASSERT_TRUE(catalog_->AddTable(t).ok());
  }

  void SetTable(const std::string& name, std::vector<std::string> pk, catalog::OnError on_error) {
    catalog::TableConfig t;
    t.connection_id = "demo";
    t.name = name;
    t.primary_key = std::move(pk);
    t.on_error = on_error;
    ASSERT_TRUE(catalog_->UpdateTable(t).ok());
  }

  // Lands a copy of a corpus file and records it, as a PUT does.
  int64_t Push(const std::string& table, const std::string& corpus_file) {
    return PushBytes(table, table + "/" + corpus_file, ReadCorpus(kGenerated + corpus_file));
  }

  // Lands `bytes` under `key` and records them as a PUT does (the "MD5" is a stand-in
  // content hash: the loader only compares it).
  int64_t PushBytes(const std::string& table, const std::string& key, const std::string& bytes,
                    const std::string& metadata_json = "{}") {
    auto incoming = store_->Begin();
    EXPECT_TRUE(incoming.ok());
    EXPECT_TRUE((*incoming)->Append(AsBytes(bytes)).ok());
    auto id = (*incoming)->Commit();
    EXPECT_TRUE(id.ok());
    catalog::FileRecord r;
    r.connection_id = "demo";
    r.table = table;
    r.key = key;
    r.landed_id = *id;
    r.size = bytes.size();
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016zx%016zx", std::hash<std::string>()(bytes), bytes.size());
    r.md5_hex = hex;
    r.etag = hex;
    r.metadata_json = metadata_json;
    r.received_at = clock_.NowMicros();
    auto seq = catalog_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return *seq;
  }

  // Loads the head of `table` and returns the file `seq` afterwards.
  catalog::FileRecord LoadOne(const std::string& table, int64_t seq) {
    auto r = loader_->LoadNext({"demo", table});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r.ok() && *r);
    return File(seq);
  }

  // A failed load of `seq`: its code and message.
  void ExpectFailed(const catalog::FileRecord& f, const std::string& code,
                    std::initializer_list<std::string> mentions) {
    EXPECT_EQ(f.status, catalog::FileStatus::kFailed);
    EXPECT_EQ(f.error_code, code) << f.error_message;
    for (const auto& m : mentions) EXPECT_TRUE(Contains(f.error_message, m)) << f.error_message;
  }

  catalog::FileRecord File(int64_t seq) {
    auto f = catalog_->GetFile(seq);
    EXPECT_TRUE(f.ok() && f->has_value());
    return **f;
  }

  std::string Scalar(const std::string& sql) {
    auto r = pool_->Query(sql, "demo");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return "";
    return *r->rows[0][0];
  }

  testing::TempDir tmp_{"load_test"};  // first: removed after everything using it
  std::filesystem::path dir_;
  FileSystem& fs_ = FileSystem::Default();
  FakeClock clock_{1'795'746'816'000'000};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<landing::DirectoryStore> store_;
  std::unique_ptr<pool::Pool> pool_;
  std::unique_ptr<Loader> loader_;
};

TEST(LoadLogTest, AFileIsNamedWithItsKeyEscaped) {
  // A key may hold any byte; a log line must stay one line and say which file it was.
  EXPECT_EQ(FileForLog(7, "demo", "orders/a.parquet"), "file 7 demo/orders/a.parquet");
  EXPECT_EQ(FileForLog(8, "demo", "orders/x\n2026 error forged"),
            "file 8 demo/orders/x\\x0a2026 error forged");
}

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

TEST_F(LoaderTest, LoadsJsonByContentWhateverTheKey) {
  AddTable("j", {"id"}, "", catalog::OnError::kSkip);
  const int64_t lines = PushBytes(
      "j", "j/a.jsonl", "{\"id\":1,\"amount\":12.5,\"day\":\"2024-05-01\"}\n{\"id\":2}\n");
  // A JSON array under a misleading name, then one object that updates id 2.
  const int64_t array = PushBytes("j", "j/b.parquet", "[{\"id\":2,\"amount\":3}]");
  const int64_t bad = PushBytes("j", "j/c.ndjson", "{\"id\":3}\n{\"id\":4,\"amount\":{\"x\":1}}\n");
  const int64_t broken = PushBytes("j", "j/d.json", "{\"id\":5}\n{\"id\":6,}\n");
  for (int i = 0; i < 6; ++i) (void)loader_->LoadNext({"demo", "j"});
  EXPECT_EQ(File(lines).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(File(lines).rows_inserted, 2);
  EXPECT_EQ(File(array).rows_updated, 1);
  EXPECT_EQ(Scalar("SELECT amount FROM j WHERE id = 2"), "3");
  EXPECT_EQ(Scalar("SELECT day FROM j WHERE id = 1"), "2024-05-01");
  // An object where the table holds numbers: read against the stored DOUBLE column.
  ExpectFailed(File(bad), "SCHEMA_MISMATCH",
               {"j/c.ndjson: line 2", "field 'amount'", "an object", "DOUBLE"});
  ExpectFailed(File(broken), "CORRUPT_FILE", {"j/d.json: line 2"});
  EXPECT_EQ(Scalar("SELECT count(*) FROM j"), "2");
}

TEST_F(LoaderTest, JsonIsReadAsTheTypesTheTableAlreadyHas) {
  AddTable("flat", {"order_id"}, "", catalog::OnError::kSkip);
  const int64_t v1 = Push("flat", "seed_order_flat_v1.parquet");  // order_value DECIMAL(10,2)
  // A JSON number into the decimal column stays exact at its scale; a new field is inferred.
  const int64_t v2 = PushBytes("flat", "flat/v2.json",
                               "{\"order_id\":\"ORD-1001\",\"order_value\":600,"
                               "\"created_at\":\"2024-05-02T09:00:00Z\",\"note\":\"x\"}");
  const int64_t v3 =
      PushBytes("flat", "flat/v3.json", "{\"order_id\":\"ORD-1001\",\"order_value\":600.005}");
  for (int i = 0; i < 4; ++i) (void)loader_->LoadNext({"demo", "flat"});
  EXPECT_EQ(File(v1).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(File(v2).status, catalog::FileStatus::kLoaded) << File(v2).error_message;
  EXPECT_EQ(Scalar("SELECT order_value FROM flat"), "600.00");
  EXPECT_EQ(Scalar("SELECT created_at FROM flat"), "2024-05-02T09:00:00.000000");
  EXPECT_EQ(Scalar("SELECT note FROM flat"), "x");
  ExpectFailed(File(v3), "SCHEMA_MISMATCH",
               {"flat/v3.json: line 1", "field 'order_value'", "600.005", "DECIMAL(10,2)"});
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
    auto tx = pool_->BeginLoad({"demo", "orders", {"order_id"}, ""}, seq);
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

// --- one test per error code -------------------------------------------------------------

TEST_F(LoaderTest, TableNotConfigured) {
  const int64_t seq = Push("nowhere", "orders_v1.parquet");
  ExpectFailed(LoadOne("nowhere", seq), "TABLE_NOT_CONFIGURED", {"'nowhere'", "'demo'"});
  EXPECT_FALSE(*loader_->LoadNext({"demo", "nowhere"}));  // it blocks until retried
}

TEST_F(LoaderTest, PkNotFoundNamesTheColumnsTheFileHas) {
  AddTable("orders", {"id"});
  const int64_t seq = Push("orders", "orders_v1.parquet");
  ExpectFailed(LoadOne("orders", seq), "PK_NOT_FOUND", {"'id'", "order_id, customer_id"});
}

TEST_F(LoaderTest, PkNullNamesColumnAndRow) {
  AddTable("orders", {"customer_id"});  // null in rows 3, 14, 25, ...
  const int64_t seq = Push("orders", "orders_flat_snappy.parquet");
  ExpectFailed(LoadOne("orders", seq), "PK_NULL", {"'customer_id'", "row 3"});
  EXPECT_EQ(Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'orders'"), "0");
}

TEST_F(LoaderTest, AgeColumnNotFound) {
  AddTable("orders", {"order_id"}, "updated_at");
  const int64_t seq = Push("orders", "orders_v1.parquet");
  ExpectFailed(LoadOne("orders", seq), "AGE_COLUMN_NOT_FOUND", {"'updated_at'", "created_at"});
}

TEST_F(LoaderTest, SchemaMismatchNamesColumnAndTypes) {
  AddTable("orders", {"order_id"});
  const int64_t ints = Push("orders", "orders_v1.parquet");           // order_id BIGINT
  const int64_t text = Push("orders", "seed_order_flat_v1.parquet");  // order_id VARCHAR
  EXPECT_EQ(LoadOne("orders", ints).status, catalog::FileStatus::kLoaded);
  ExpectFailed(LoadOne("orders", text), "SCHEMA_MISMATCH", {"order_id", "BIGINT", "VARCHAR"});
  EXPECT_EQ(Scalar("SELECT count(*) FROM orders"), "1000");
}

TEST_F(LoaderTest, CorruptPageNamesKeyRowGroupColumnAndPage) {
  AddTable("orders", {"order_id"});
  // Bytes of the first column's first page flipped: the footer is intact, the data is not.
  std::string bytes = ReadCorpus(kGenerated + "orders_v1.parquet");
  for (size_t i = 40; i < 200; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  const int64_t seq = PushBytes("orders", "orders/damaged.parquet", bytes);
  const auto f = LoadOne("orders", seq);
  ExpectFailed(f, "CORRUPT_FILE",
               {"orders/damaged.parquet: row group 0, column 'order_id': page 0 (file offset 4): "
                "SNAPPY page: snappy data is damaged (in the rows from file row 0)"});
  EXPECT_FALSE(Contains(f.error_message, "landing")) << f.error_message;  // the key, not a path
  EXPECT_EQ(Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'orders'"), "0");
}

TEST_F(LoaderTest, CorruptFilesFromTheCorpus) {
  AddTable("t", {"int64"}, "", catalog::OnError::kSkip);
  // Levels fewer than the page's value count; a schema with an invalid physical type; a file
  // cut short (the tail magic is gone).
  const int64_t levels =
      PushBytes("t", "t/levels.parquet", ReadCorpus(kBadData + "ARROW-GH-41321.parquet"));
  const int64_t schema =
      PushBytes("t", "t/schema.parquet", ReadCorpus(kBadData + "PARQUET-1481.parquet"));
  const std::string whole = ReadCorpus(kGenerated + "orders_v1.parquet");
  const int64_t cut = PushBytes("t", "t/cut.parquet", whole.substr(0, whole.size() / 2));
  for (int i = 0; i < 6; ++i) (void)loader_->LoadNext({"demo", "t"});
  ExpectFailed(File(levels), "CORRUPT_FILE",
               {"t/levels.parquet: row group 0, column 'int64': page 1 (file offset 1313): "
                "definition levels"});
  ExpectFailed(File(schema), "CORRUPT_FILE", {"t/schema.parquet: ", "unknown physical type -7"});
  ExpectFailed(File(cut), "CORRUPT_FILE", {"t/cut.parquet: ", "PAR1"});
}

TEST_F(LoaderTest, UnsupportedFormatSaysWhatTheFileLooksLike) {
  AddTable("t", {"id"}, "", catalog::OnError::kSkip);
  const int64_t xml = PushBytes("t", "t/a.parquet", "<orders><id>1</id></orders>\n");
  const int64_t csv = PushBytes("t", "t/b.parquet", "id,note\n1,x\n");
  const int64_t gzip = PushBytes("t", "t/c.parquet.gz", std::string("\x1f\x8b\x08\x00\x00", 5));
  const int64_t empty = PushBytes("t", "t/d.parquet", "");
  for (int i = 0; i < 8; ++i) (void)loader_->LoadNext({"demo", "t"});
  ExpectFailed(File(xml), "UNSUPPORTED_FORMAT",
               {"t/a.parquet: not a parquet or JSON file", "XML", "Apache Parquet", "JSON Lines"});
  ExpectFailed(File(csv), "UNSUPPORTED_FORMAT", {"CSV", "id,note"});
  // gzip goes to the JSON reader, which finds the stream cut short.
  ExpectFailed(File(gzip), "CORRUPT_FILE", {"t/c.parquet.gz: ", "gzip"});
  ExpectFailed(File(empty), "UNSUPPORTED_FORMAT", {"empty"});
}

TEST_F(LoaderTest, InternalWhenTheLandedFileIsGone) {
  AddTable("orders", {"order_id"}, "", catalog::OnError::kSkip);
  const int64_t seq = Push("orders", "orders_v1.parquet");
  ASSERT_TRUE(store_->Remove(File(seq).landed_id).ok());
  ExpectFailed(LoadOne("orders", seq), "INTERNAL", {"orders/orders_v1.parquet", "landed file"});
  // INTERNAL is not the file's fault: even under on_error: skip it blocks, nothing is dropped.
  const int64_t next = Push("orders", "orders_v2.parquet");
  EXPECT_FALSE(*loader_->LoadNext({"demo", "orders"}));
  EXPECT_EQ(File(seq).passed, false);
  EXPECT_EQ(File(next).status, catalog::FileStatus::kQueued);
}

TEST_F(LoaderTest, InternalNotCorruptWhenTheDiskFailsMidRead) {
  AddTable("orders", {"order_id"});
  const int64_t seq = Push("orders", "orders_v1.parquet");
  // The same landing directory seen through a disk that fails after the first 100 bytes: the
  // format check passes, the footer read fails with an I/O error.
  testing::FaultyFileSystem failing(fs_);
  failing.FailReadsPast(100);
  landing::DirectoryStore bad_store(failing, (dir_ / "landing").string());
  Loader loader(*catalog_, bad_store, *pool_, clock_);
  ASSERT_TRUE(*loader.LoadNext({"demo", "orders"}));
  ExpectFailed(File(seq), "INTERNAL", {"IO_ERROR", "EIO", "orders/orders_v1.parquet"});

  // After the disk is replaced, a retry loads it.
  ASSERT_TRUE(catalog_->Retry(seq).ok());
  EXPECT_EQ(LoadOne("orders", seq).status, catalog::FileStatus::kLoaded);
}

// --- exception barriers --------------------------------------------------------------------

// Column data starts after the magic "PAR1": reads there come from the decoding thread of
// batch/prefetch, while the format check reads offset 0 on the worker's.
constexpr uint64_t kColumnDataFrom = 4;
constexpr uint64_t kColumnDataTo = 64;

TEST_F(LoaderTest, BadAllocOnTheDecodingThreadFailsTheFileAndTheTableMovesOn) {
  AddTable("orders", {"order_id"}, "", catalog::OnError::kSkip);
  const int64_t bad = Push("orders", "orders_v1.parquet");
  const int64_t next = Push("orders", "orders_v2.parquet");
  ThrowingReadFs throwing(fs_, store_->PathOf(File(bad).landed_id), kColumnDataFrom, kColumnDataTo,
                          [] { throw std::bad_alloc(); });
  landing::DirectoryStore store(throwing, (dir_ / "landing").string());
  Loader loader(*catalog_, store, *pool_, clock_);
  ASSERT_TRUE(*loader.LoadNext({"demo", "orders"}));
  ExpectFailed(File(bad), "LIMIT_EXCEEDED", {"orders/orders_v1.parquet", "more memory"});
  EXPECT_NE(throwing.thrown_on(), std::thread::id());
  EXPECT_NE(throwing.thrown_on(), std::this_thread::get_id()) << "not the decoding thread";
  // Nothing of it reached the pool, and under on_error: skip the next file loads.
  EXPECT_EQ(Scalar("SELECT count(*) FROM _sluice_applied"), "0");
  EXPECT_TRUE(File(bad).passed);
  ASSERT_TRUE(*loader.LoadNext({"demo", "orders"}));
  EXPECT_EQ(File(next).status, catalog::FileStatus::kLoaded) << File(next).error_message;
}

TEST_F(LoaderTest, AnExceptionOnTheWorkerThreadIsInternalAndOtherTablesLoad) {
  AddTable("orders", {"order_id"});
  AddTable("flat", {"order_id"});
  const int64_t bad = Push("orders", "orders_v1.parquet");
  const int64_t other = Push("flat", "seed_order_flat_v1.parquet");
  // Offset 0 is the format check's read, on the worker thread itself.
  ThrowingReadFs throwing(fs_, store_->PathOf(File(bad).landed_id), 0, 1,
                          [] { throw std::out_of_range("vector::_M_range_check"); });
  landing::DirectoryStore store(throwing, (dir_ / "landing").string());
  // Through the worker threads, as the server runs them.
  Loader loader(*catalog_, store, *pool_, clock_, {.workers = 2, .poll_interval_ms = 20});
  loader.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         (File(bad).status != catalog::FileStatus::kFailed ||
          File(other).status != catalog::FileStatus::kLoaded)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  loader.Stop();
  ExpectFailed(File(bad), "INTERNAL",
               {"orders/orders_v1.parquet", "unexpected exception", "vector::_M_range_check"});
  EXPECT_EQ(File(other).status, catalog::FileStatus::kLoaded) << File(other).error_message;
}

// --- the poison-file guard -----------------------------------------------------------------

TEST_F(LoaderTest, AFileLeftLoadingByEnoughCrashesFailsAtStart) {
  AddTable("orders", {"order_id"});
  AddTable("flat", {"order_id"});
  const int64_t poison = Push("orders", "orders_v1.parquet");
  const int64_t next = Push("orders", "orders_v2.parquet");
  const int64_t young = Push("flat", "seed_order_flat_v1.parquet");
  // Three starts each began the load of `poison` and died in it; `young` only twice.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(catalog_->MarkLoading(poison).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(catalog_->MarkLoading(young).ok());
  ASSERT_TRUE(loader_->Reconcile().ok());
  ExpectFailed(File(poison), "INTERNAL",
               {"the loader crashed 3 times on this file", "orders/orders_v1.parquet",
                "sluice files retry " + std::to_string(poison)});
  EXPECT_EQ(File(young).status, catalog::FileStatus::kLoading);
  EXPECT_EQ(LoadOne("flat", young).status, catalog::FileStatus::kLoaded);
  // INTERNAL blocks its table until an operator acts; a skip lets the next file load.
  EXPECT_FALSE(*loader_->LoadNext({"demo", "orders"}));
  ASSERT_TRUE(catalog_->Skip(poison).ok());
  EXPECT_EQ(LoadOne("orders", next).status, catalog::FileStatus::kLoaded);
}

TEST_F(LoaderTest, ThePoisonFileGuardCanBeTurnedOff) {
  AddTable("orders", {"order_id"});
  const int64_t seq = Push("orders", "orders_v1.parquet");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(catalog_->MarkLoading(seq).ok());
  Loader loader(*catalog_, *store_, *pool_, clock_, {.max_load_attempts = 0});
  ASSERT_TRUE(loader.Reconcile().ok());
  EXPECT_EQ(File(seq).status, catalog::FileStatus::kLoading);
  ASSERT_TRUE(*loader.LoadNext({"demo", "orders"}));
  EXPECT_EQ(File(seq).status, catalog::FileStatus::kLoaded);
}

TEST_F(LoaderTest, EveryLoadCountsOneAttempt) {
  AddTable("orders", {"order_id"});
  const int64_t seq = Push("orders", "orders_v1.parquet");
  const catalog::FileRecord f = LoadOne("orders", seq);
  EXPECT_EQ(f.status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(f.load_attempts, 1);
}

// --- errors the pool reports about the file ---------------------------------------------------

TEST_F(LoaderTest, MoreColumnsThanThePoolHoldsIsLimitExceeded) {
  AddTable("wide", {"id"}, "", catalog::OnError::kSkip);
  std::string json = "{\"id\":1";
  for (int i = 0; i < 2100; ++i) json += ",\"c" + std::to_string(i) + "\":" + std::to_string(i);
  json += "}\n";
  const int64_t wide = PushBytes("wide", "wide/a.json", json);
  const int64_t next = PushBytes("wide", "wide/b.json", "{\"id\":2,\"c0\":5}\n");
  ExpectFailed(LoadOne("wide", wide), "LIMIT_EXCEEDED", {"too many columns"});
  EXPECT_TRUE(File(wide).passed);  // on_error: skip moves past it
  EXPECT_EQ(LoadOne("wide", next).status, catalog::FileStatus::kLoaded);
}

// --- policies ------------------------------------------------------------------------------

TEST_F(LoaderTest, SkipPolicyMovesPastAFailedFileAndRetryLoadsItNext) {
  AddTable("orders", {"id"}, "", catalog::OnError::kSkip);  // wrong key: v1 fails
  const int64_t bad = Push("orders", "seed_order_flat_v1.parquet");
  const int64_t next = Push("orders", "seed_order_flat_v2.parquet");
  ExpectFailed(LoadOne("orders", bad), "PK_NOT_FOUND", {"'id'"});
  EXPECT_TRUE(File(bad).passed);  // the table moved past it at once
  EXPECT_EQ(File(bad).status, catalog::FileStatus::kFailed);
  EXPECT_EQ(LoadOne("orders", next).status, catalog::FileStatus::kFailed);  // same key problem
  EXPECT_TRUE(File(next).passed);
  EXPECT_FALSE(*loader_->LoadNext({"demo", "orders"}));

  // Fixed and set back to block: the files the table moved past do not block it again.
  SetTable("orders", {"order_id"}, catalog::OnError::kBlock);
  const int64_t later = Push("orders", "seed_order_flat_v1.parquet");
  EXPECT_EQ(LoadOne("orders", later).status, catalog::FileStatus::kLoaded);

  // A retried file is queued again and, being the oldest queued file, loads next.
  ASSERT_TRUE(catalog_->Retry(next).ok());
  EXPECT_FALSE(File(next).passed);
  EXPECT_EQ(LoadOne("orders", next).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(Scalar("SELECT payment_method FROM orders"), "cash");  // v2's value
}

TEST_F(LoaderTest, SwitchingABlockedTableToSkipUnblocksIt) {
  AddTable("orders", {"id"});
  const int64_t bad = Push("orders", "orders_v1.parquet");
  ExpectFailed(LoadOne("orders", bad), "PK_NOT_FOUND", {});
  EXPECT_FALSE(*loader_->LoadNext({"demo", "orders"}));  // blocked
  SetTable("orders", {"id"}, catalog::OnError::kSkip);
  EXPECT_TRUE(*loader_->LoadNext({"demo", "orders"}));
  EXPECT_TRUE(File(bad).passed);
}

TEST_F(LoaderTest, OperatorSkipMovesPastABlockedFile) {
  AddTable("orders", {"order_id"});
  const int64_t bad = PushBytes("orders", "orders/bad.parquet", "order_id\n1\n");
  const int64_t good = Push("orders", "orders_v1.parquet");
  ExpectFailed(LoadOne("orders", bad), "UNSUPPORTED_FORMAT", {});
  EXPECT_FALSE(*loader_->LoadNext({"demo", "orders"}));
  ASSERT_TRUE(catalog_->Skip(bad).ok());
  EXPECT_EQ(LoadOne("orders", good).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(File(bad).status, catalog::FileStatus::kSkipped);
  EXPECT_EQ(File(bad).error_code, "UNSUPPORTED_FORMAT");  // why it was skipped stays
}

// --- duplicates ------------------------------------------------------------------------------

TEST_F(LoaderTest, ByteIdenticalRePushIsSkippedAsADuplicate) {
  AddTable("orders", {"order_id"});
  const int64_t first = Push("orders", "orders_v1.parquet");
  const int64_t other = Push("orders", "orders_v2.parquet");
  const int64_t again =
      PushBytes("orders", "orders/copy.parquet", ReadCorpus(kGenerated + "orders_v1.parquet"));
  EXPECT_EQ(LoadOne("orders", first).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(LoadOne("orders", other).status, catalog::FileStatus::kLoaded);
  const auto dup = LoadOne("orders", again);
  EXPECT_EQ(dup.status, catalog::FileStatus::kSkipped);
  EXPECT_EQ(dup.duplicate_of, first);
  EXPECT_EQ(dup.error_code, "");
  EXPECT_EQ(
      dup.error_message.rfind(
          "duplicate of sequence " + std::to_string(first) + " (key orders/orders_v1.parquet)", 0),
      0u)
      << dup.error_message;
  EXPECT_EQ(Scalar("SELECT count(*) FROM _sluice_applied"), "2");

  // Forced from the CLI: queued again, loaded even though it repeats file `first`.
  ASSERT_TRUE(catalog_->RetryForced(again).ok());
  const auto forced = LoadOne("orders", again);
  EXPECT_EQ(forced.status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(forced.duplicate_of, 0);
  EXPECT_EQ(forced.rows_updated, 1000);
}

TEST_F(LoaderTest, ClientForcedDuplicateLoadsAndOtherTablesAreNotDuplicates) {
  AddTable("a", {"order_id"});
  AddTable("b", {"order_id"});
  const std::string bytes = ReadCorpus(kGenerated + "orders_v1.parquet");
  const int64_t first = PushBytes("a", "a/1.parquet", bytes);
  const int64_t forced =
      PushBytes("a", "a/2.parquet", bytes, R"({"x-amz-meta-sluice-force":"TRUE"})");
  const int64_t elsewhere = PushBytes("b", "b/1.parquet", bytes);
  const int64_t not_forced =
      PushBytes("a", "a/3.parquet", bytes, R"({"x-amz-meta-sluice-force":"no"})");
  EXPECT_EQ(LoadOne("a", first).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(LoadOne("a", forced).status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(LoadOne("b", elsewhere).status, catalog::FileStatus::kLoaded);
  const auto dup = LoadOne("a", not_forced);
  EXPECT_EQ(dup.status, catalog::FileStatus::kSkipped);
  EXPECT_EQ(dup.duplicate_of, forced);  // the newest loaded copy
}

TEST_F(LoaderTest, DifferentBytesUnderTheSameKeyAreANewFile) {
  AddTable("orders", {"order_id"});
  const int64_t v1 =
      PushBytes("orders", "orders/o.parquet", ReadCorpus(kGenerated + "orders_v1.parquet"));
  const int64_t v2 =
      PushBytes("orders", "orders/o.parquet", ReadCorpus(kGenerated + "orders_v2.parquet"));
  EXPECT_EQ(LoadOne("orders", v1).status, catalog::FileStatus::kLoaded);
  const auto second = LoadOne("orders", v2);
  EXPECT_EQ(second.status, catalog::FileStatus::kLoaded);
  EXPECT_EQ(second.rows_inserted, 50);
  EXPECT_EQ(second.rows_updated, 100);
}

TEST_F(LoaderTest, AFailedCopyIsNotWhatADuplicateRepeats) {
  AddTable("orders", {"id"});
  const std::string bytes = ReadCorpus(kGenerated + "orders_v1.parquet");
  const int64_t failed = PushBytes("orders", "orders/1.parquet", bytes);
  ExpectFailed(LoadOne("orders", failed), "PK_NOT_FOUND", {});
  SetTable("orders", {"order_id"}, catalog::OnError::kBlock);
  ASSERT_TRUE(catalog_->Skip(failed).ok());
  const int64_t again = PushBytes("orders", "orders/1.parquet", bytes);
  EXPECT_EQ(LoadOne("orders", again).status, catalog::FileStatus::kLoaded);
}

class NestedLoaderTest : public LoaderTest {
 protected:
  // A nested table configured as `table add --nested` stores it (shape's JSON form).
  void AddNested(const std::string& name, const std::string& child_key) {
    auto config = shape::NestedConfigFromJson(
        R"({"table": ")" + name + R"(", "primary_key": ["order_id"], "example": {"order_id":
        "ORD-1", "customer": {"name": "n", "address": {"city": "c"}}, "tags": ["t"],
        "line_items": [{"order_line_id": 1, "product": "p", "quantity": 1, "price": 1.5}]},
        "children": {"line_items": {"primary_key": [")" +
        child_key + R"("]}}})");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    catalog::TableConfig t;
    t.connection_id = "demo";
    t.name = name;
    t.primary_key = {"order_id"};
    t.nested_json = shape::NestedConfigToJson(*config);
    ASSERT_TRUE(catalog_->AddTable(t).ok());
  }
};

TEST_F(NestedLoaderTest, LoadsTheSeedsNestedOrderIntoItsDerivedTables) {
  AddNested("nested", "order_line_id");
  const int64_t seq = Push("nested", "seed_order_nested.parquet");
  const catalog::FileRecord f = LoadOne("nested", seq);
  ASSERT_EQ(f.status, catalog::FileStatus::kLoaded) << f.error_message;
  EXPECT_EQ(f.rows_inserted, 1);  // the root's counts are the ledger's
  EXPECT_EQ(Scalar("SELECT group_concat(nested_order_id || ':' || order_line_id || ':' || "
                   "product, ',') FROM (SELECT * FROM nested_line_items ORDER BY 2)"),
            "ORD-2001:1:espresso machine,ORD-2001:2:coffee beans 1kg");
  EXPECT_EQ(Scalar("SELECT customer_address_city FROM nested"), "Porto");
  EXPECT_EQ(Scalar("SELECT count(*) FROM nested_tags"), "2");
  auto applied = pool_->FindApplied("demo", seq);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  ASSERT_EQ((*applied)->tables.size(), 3u);
  EXPECT_EQ((*applied)->tables[2].table, "nested_line_items");
  EXPECT_EQ((*applied)->tables[2].counts.inserted, 2);
}

TEST_F(NestedLoaderTest, AChildKeyTheFileLacksIsPkNotFound) {
  AddNested("nested", "line_no");
  const int64_t seq = Push("nested", "seed_order_nested.parquet");
  ExpectFailed(LoadOne("nested", seq), "PK_NOT_FOUND", {"line_no"});
  EXPECT_EQ(Scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE 'nested%'"), "0");
}

}  // namespace
}  // namespace sluice::load
