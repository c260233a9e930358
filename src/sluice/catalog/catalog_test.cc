#include "sluice/catalog/catalog.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "sluice/catalog/catalog_testing.h"
#include "sluice/catalog/queries_internal.h"
#include "sluice/core/testing/faulty_fs.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::catalog {
namespace {

namespace fs = std::filesystem;
using testing_util::CatalogKind;

// Tests of the SQLite catalog (TEST_F); AnyCatalogTest below runs the contract's tests on both.
class CatalogTest : public ::testing::Test {
 protected:
  virtual CatalogKind kind() const { return CatalogKind::kSqlite; }
  bool pg() const { return kind() == CatalogKind::kPostgres; }

  void SetUp() override {
    std::string tmpl = tmp_.path();
    dir_ = tmpl + "/data";  // Open creates it
    root_ = tmpl;
    store_ = std::make_unique<testing_util::CatalogStore>(kind(), dir_);
  }

  std::unique_ptr<Catalog> OpenCatalog() {
    auto c = store_->Open(FileSystem::Default(), clock_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // SQLite's EXPLAIN QUERY PLAN of `sql` on the catalog file, one plan step per line.
  std::string QueryPlan(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/catalog.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr),
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

  static std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static FileRecord File(const std::string& conn, const std::string& table,
                         const std::string& key) {
    FileRecord r;
    r.connection_id = conn;
    r.table = table;
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.size = 1234;
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    r.content_type = "application/octet-stream";
    r.metadata_json = R"({"source":"test"})";
    return r;
  }

  // The seq at the head of a table's queue; 0 when it is empty, -1 on error.
  static int64_t HeadSeq(Catalog& cat, const TableKey& table) {
    auto head = cat.HeadOfQueue(table);
    if (!head.ok()) return -1;
    return head->has_value() ? (*head)->seq : 0;
  }

  testing::TempDir tmp_{"catalog_test"};  // first: removed after everything using it
  std::string root_;
  std::string dir_;
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<testing_util::CatalogStore> store_;
};

class AnyCatalogTest : public CatalogTest, public ::testing::WithParamInterface<CatalogKind> {
 protected:
  CatalogKind kind() const override { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Catalogs, AnyCatalogTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(AnyCatalogTest, CreateListGetConnections) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto created = cat->CreateConnection("Sales EU");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->connection.id, "sales-eu");
  EXPECT_EQ(created->connection.name, "Sales EU");
  EXPECT_EQ(created->connection.unconfigured, UnconfiguredPolicy::kHold);
  EXPECT_EQ(created->connection.created_at, clock_.NowMicros());
  ASSERT_TRUE(cat->CreateConnection("billing").ok());

  auto list = cat->ListConnections();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "billing");
  EXPECT_EQ((*list)[1].id, "sales-eu");

  auto got = cat->GetConnection("sales-eu");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->name, "Sales EU");
  auto missing = cat->GetConnection("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(cat->SetUnconfiguredPolicy("sales-eu", UnconfiguredPolicy::kRefuse).ok());
  EXPECT_EQ((*cat->GetConnection("sales-eu"))->unconfigured, UnconfiguredPolicy::kRefuse);
  EXPECT_EQ(cat->SetUnconfiguredPolicy("nope", UnconfiguredPolicy::kStore).code(),
            ErrorCode::kNotFound);
}

TEST_P(AnyCatalogTest, ConnectionIdErrors) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto bad = cat->CreateConnection("a!");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("3 to 63"), std::string::npos);

  ASSERT_TRUE(cat->CreateConnection("My Shop").ok());
  auto dup = cat->CreateConnection("my-shop");  // same id, different name
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("my-shop"), std::string::npos);
  EXPECT_EQ(cat->ListConnections()->size(), 1u);
}

TEST_P(AnyCatalogTest, CredentialFormatAndRoundTrip) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto a = cat->CreateConnection("alpha");
  auto b = cat->CreateConnection("beta");
  ASSERT_TRUE(a.ok() && b.ok());
  for (const auto* c : {&*a, &*b}) {
    const std::string& key = c->access_key.str();
    ASSERT_EQ(key.size(), 20u);
    EXPECT_EQ(key.substr(0, 2), "SK");
    for (char ch : key) EXPECT_TRUE((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'));
    ASSERT_EQ(c->secret.reveal().size(), 40u);
  }
  EXPECT_NE(a->access_key, b->access_key);
  EXPECT_NE(a->secret.reveal(), b->secret.reveal());

  auto found = cat->LookupAccessKey(a->access_key);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->connection_id, "alpha");
  EXPECT_EQ((*found)->secret.reveal(), a->secret.reveal());
  EXPECT_TRUE((*found)->active);

  auto unknown = cat->LookupAccessKey(AccessKeyId("SKAAAAAAAAAAAAAAAAAA"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(CatalogTest, SecretKeyFileIsPrivate) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  const std::string key_path = dir_ + "/secret.key";
  struct stat st;
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  EXPECT_FALSE(fs::exists(key_path + ".tmp"));
}

TEST_F(CatalogTest, FailedKeyCreationLeavesNoKeyFile) {
  for (testing::FsOp op : {testing::FsOp::kSync, testing::FsOp::kRename, testing::FsOp::kSyncDir}) {
    testing::FaultyFileSystem faulty(FileSystem::Default());
    faulty.FailNth(op, 1);
    auto cat = Catalog::Open(dir_, faulty, clock_);
    ASSERT_FALSE(cat.ok()) << testing::FsOpName(op);
    EXPECT_EQ(cat.status().code(), ErrorCode::kIoError);
    EXPECT_FALSE(fs::exists(dir_ + "/secret.key.tmp")) << testing::FsOpName(op);
    if (op != testing::FsOp::kSyncDir) {
      EXPECT_FALSE(fs::exists(dir_ + "/secret.key")) << testing::FsOpName(op);
    } else {
      fs::remove(dir_ + "/secret.key");  // renamed but not known durable: start over
    }
  }
  EXPECT_TRUE(OpenCatalog());
}

TEST_F(CatalogTest, RefusesReadableKeyFile) {
  { ASSERT_TRUE(OpenCatalog()); }
  const std::string key_path = dir_ + "/secret.key";
  ASSERT_EQ(::chmod(key_path.c_str(), 0644), 0);
  auto cat = Catalog::Open(dir_, FileSystem::Default(), clock_);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.status().message().find("0644"), std::string::npos) << cat.status().ToString();
  EXPECT_NE(cat.status().message().find("0600"), std::string::npos);
  ASSERT_EQ(::chmod(key_path.c_str(), 0600), 0);
  EXPECT_TRUE(OpenCatalog());
}

TEST_F(CatalogTest, RefusesShortKeyFile) {
  { ASSERT_TRUE(OpenCatalog()); }
  const std::string key_path = dir_ + "/secret.key";
  fs::resize_file(key_path, 16);
  auto cat = Catalog::Open(dir_, FileSystem::Default(), clock_);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.status().message().find("16 bytes"), std::string::npos) << cat.status().ToString();
}

TEST_P(AnyCatalogTest, MissingKeyWithCredentialsIsAnError) {
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
    ASSERT_TRUE(cat->CreateConnection("alpha").ok());
  }
  fs::remove(dir_ + "/secret.key");
  auto cat = store_->Open(FileSystem::Default(), clock_);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.status().message().find("secret.key is missing"), std::string::npos)
      << cat.status().ToString();
  EXPECT_FALSE(fs::exists(dir_ + "/secret.key"));
}

TEST_F(CatalogTest, WrongKeyFailsToDecryptWithoutLeaking) {
  CreatedConnection created;
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
    auto c = cat->CreateConnection("alpha");
    ASSERT_TRUE(c.ok());
    created = std::move(c).value();
  }
  // Another valid key: 32 bytes, 0600.
  const std::string key_path = dir_ + "/secret.key";
  std::string key = ReadBytes(key_path);
  key[0] = static_cast<char>(key[0] ^ 0x01);
  {
    std::ofstream out(key_path, std::ios::binary | std::ios::trunc);
    out << key;
  }
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto found = cat->LookupAccessKey(created.access_key);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(found.status().message(), "credential for " + created.access_key.str() +
                                          " cannot be decrypted: wrong secret.key?");
  EXPECT_EQ(found.status().ToString().find(created.secret.reveal()), std::string::npos);
}

TEST_F(CatalogTest, DatabaseHoldsNoPlaintextSecret) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto created = cat->CreateConnection("alpha");
  ASSERT_TRUE(created.ok());
  // Committed data may sit in the WAL until a checkpoint: scan both files.
  const std::string bytes = ReadBytes(dir_ + "/catalog.db") + ReadBytes(dir_ + "/catalog.db-wal");
  ASSERT_FALSE(bytes.empty());
  // The scan is meaningful: the access key (stored in clear) is found.
  EXPECT_NE(bytes.find(created->access_key.str()), std::string::npos);
  EXPECT_EQ(bytes.find(created->secret.reveal()), std::string::npos);
  EXPECT_EQ(bytes.find(created->secret.reveal().substr(0, 12)), std::string::npos);
}

TEST_P(AnyCatalogTest, Tables) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  TableConfig t{"shop", "orders", {"order_id", "region"}, "updated_at", OnError::kBlock};
  ASSERT_TRUE(cat->AddTable(t).ok());
  EXPECT_EQ(cat->AddTable(t).code(), ErrorCode::kAlreadyExists);

  auto got = cat->GetTable("shop", "orders");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->primary_key, (std::vector<std::string>{"order_id", "region"}));
  EXPECT_EQ((*got)->age_column, "updated_at");
  EXPECT_EQ((*got)->on_error, OnError::kBlock);
  EXPECT_FALSE(cat->GetTable("shop", "nope")->has_value());

  // Column names with commas and quotes survive (the key is stored as JSON).
  TableConfig odd{"shop", "odd", {"a,b", "c\"d"}, "", OnError::kSkip};
  ASSERT_TRUE(cat->AddTable(odd).ok());
  EXPECT_EQ((*cat->GetTable("shop", "odd"))->primary_key, odd.primary_key);

  t.primary_key = {"order_id"};
  t.age_column = "";
  t.on_error = OnError::kSkip;
  ASSERT_TRUE(cat->UpdateTable(t).ok());
  got = cat->GetTable("shop", "orders");
  EXPECT_EQ((*got)->primary_key, std::vector<std::string>{"order_id"});
  EXPECT_EQ((*got)->age_column, "");
  EXPECT_EQ((*got)->on_error, OnError::kSkip);

  auto list = cat->ListTables("shop");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "odd");
  EXPECT_EQ((*list)[1].name, "orders");
  EXPECT_EQ(cat->ListTables("nope").status().code(), ErrorCode::kNotFound);
}

TEST_P(AnyCatalogTest, TablesKeepWhetherTheyLoadHiddenKeys) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  TableConfig t{"shop", "orders", {"id"}};
  ASSERT_TRUE(cat->AddTable(t).ok());
  EXPECT_FALSE((*cat->GetTable("shop", "orders"))->load_hidden_keys);
  t.load_hidden_keys = true;
  ASSERT_TRUE(cat->UpdateTable(t).ok());
  EXPECT_TRUE((*cat->GetTable("shop", "orders"))->load_hidden_keys);
  EXPECT_TRUE((*cat->ListTables("shop"))[0].load_hidden_keys);
}

TEST(HiddenKeys, TheHiveAndSparkConvention) {
  for (const char* key :
       {"orders/_temporary/0/part-0.parquet", "orders/_SUCCESS", "orders/.spark-staging-1/x",
        "orders/2026/_tmp.parquet", "_SUCCESS", ".keep", "orders/a/./b"}) {
    EXPECT_TRUE(IsHiddenKey(key)) << key;
  }
  // The first segment names the table, which may start with '_'; other characters are plain.
  for (const char* key : {"_orders/a.parquet", "orders/a.parquet", "orders/a_b.parquet",
                          "orders/x.y/z", "orders/", "orders", "orders//a"}) {
    EXPECT_FALSE(IsHiddenKey(key)) << key;
  }
}

TEST_P(AnyCatalogTest, ConditionalAppendsSeeTheKeysVisibleObject) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  FileRecord f = File("shop", "a", "a/1");
  f.condition.if_match = "d41d8cd98f00b204e9800998ecf8427e";
  EXPECT_EQ(cat->AppendFile(f).status().code(), ErrorCode::kNoSuchKey);
  f.condition = {.if_none_match = true};
  auto first = cat->AppendFile(f);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Refused appends leave nothing behind.
  EXPECT_EQ(cat->ListFiles("shop")->size(), 1u);
  EXPECT_EQ(cat->AppendFile(f).status().code(), ErrorCode::kPreconditionFailed);
  f.condition = {.if_match = "00000000000000000000000000000000"};
  EXPECT_EQ(cat->AppendFile(f).status().code(), ErrorCode::kPreconditionFailed);
  f.condition = {.if_match = "d41d8cd98f00b204e9800998ecf8427e"};
  ASSERT_TRUE(cat->AppendFile(f).ok());
  f.condition = {.if_match = "*"};
  ASSERT_TRUE(cat->AppendFile(f).ok());
  EXPECT_EQ(cat->ListFiles("shop")->size(), 3u);
  // A deleted key has no object: a create succeeds again, If-Match finds nothing.
  ASSERT_EQ(cat->DeleteKey("shop", "a/1")->size(), 3u);
  f.condition = {.if_match = "*"};
  EXPECT_EQ(cat->AppendFile(f).status().code(), ErrorCode::kNoSuchKey);
  f.condition = {.if_none_match = true};
  EXPECT_TRUE(cat->AppendFile(f).ok());
  // The same through CompleteUpload.
  UploadRecord up;
  up.upload_id = "up1";
  up.connection_id = "shop";
  up.key = "a/1";
  up.table = "a";
  up.metadata_json = "{}";
  ASSERT_TRUE(cat->CreateUpload(up).ok());
  CompletedUpload done;
  done.upload_id = "up1";
  done.etag = "x-1";
  EXPECT_EQ(cat->CompleteUpload(f, done).status().code(), ErrorCode::kPreconditionFailed);
  EXPECT_TRUE((*cat->GetUpload("up1")).has_value());  // rolled back: the upload is still there
}

TEST_P(AnyCatalogTest, NestedTablesKeepTheirConfiguration) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  TableConfig t{"shop", "nested", {"order_id"}, "", OnError::kBlock};
  t.nested_json = R"({"table":"nested","primary_key":["order_id"]})";
  ASSERT_TRUE(cat->AddTable(t).ok());
  EXPECT_EQ((*cat->GetTable("shop", "nested"))->nested_json, t.nested_json);
  t.nested_json = R"({"table":"nested","primary_key":["order_id"],"children":{}})";
  ASSERT_TRUE(cat->UpdateTable(t).ok());
  EXPECT_EQ((*cat->ListTables("shop"))[0].nested_json, t.nested_json);
  // Back to a flat table.
  t.nested_json.clear();
  ASSERT_TRUE(cat->UpdateTable(t).ok());
  EXPECT_EQ((*cat->GetTable("shop", "nested"))->nested_json, "");
  // Not a JSON object: refused, the stored configuration untouched.
  for (const char* bad : {"[1]", "{", "\"x\""}) {
    t.nested_json = bad;
    Status st = cat->UpdateTable(t);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("nested configuration"), std::string::npos) << st.ToString();
  }
  EXPECT_EQ((*cat->GetTable("shop", "nested"))->nested_json, "");
}

TEST_P(AnyCatalogTest, TableValidation) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  auto check = [&](TableConfig t, ErrorCode code, const std::string& needle) {
    Status st = cat->AddTable(t);
    EXPECT_EQ(st.code(), code) << st.ToString();
    EXPECT_NE(st.message().find(needle), std::string::npos) << st.ToString();
  };
  check({"shop", "bad-name", {"id"}, "", OnError::kBlock}, ErrorCode::kInvalidArgument,
        "[A-Za-z_]");
  check({"shop", "1st", {"id"}, "", OnError::kBlock}, ErrorCode::kInvalidArgument, "1st");
  check({"shop", "t", {}, "", OnError::kBlock}, ErrorCode::kInvalidArgument, "primary-key");
  check({"shop", "t", {"id", ""}, "", OnError::kBlock}, ErrorCode::kInvalidArgument, "empty");
  check({"shop", "t", {"id", "x", "id"}, "", OnError::kBlock}, ErrorCode::kInvalidArgument,
        "'id' is listed twice");
  check({"nope", "t", {"id"}, "", OnError::kBlock}, ErrorCode::kNotFound, "nope");
  EXPECT_TRUE(cat->ListTables("shop")->empty());

  EXPECT_EQ(cat->UpdateTable({"shop", "t", {"id"}, "", OnError::kBlock}).code(),
            ErrorCode::kNotFound);
  ASSERT_TRUE(cat->AddTable({"shop", "t", {"id"}, "", OnError::kBlock}).ok());
  EXPECT_EQ(cat->UpdateTable({"shop", "t", {}, "", OnError::kBlock}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ((*cat->GetTable("shop", "t"))->primary_key, std::vector<std::string>{"id"});
}

TEST_P(AnyCatalogTest, RemoveTable) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  ASSERT_TRUE(cat->CreateConnection("depot").ok());
  const TableConfig orders{"shop", "orders", {"order_id"}, "updated_at", OnError::kSkip};
  ASSERT_TRUE(cat->AddTable(orders).ok());
  ASSERT_TRUE(cat->AddTable({"shop", "items", {"item_id"}}).ok());
  ASSERT_TRUE(cat->AddTable({"depot", "orders", {"id"}}).ok());
  // Files of the other tables, queued, do not hold the removal up.
  ASSERT_TRUE(cat->AppendFile(File("shop", "items", "items/1")).ok());
  ASSERT_TRUE(cat->AppendFile(File("depot", "orders", "orders/1")).ok());

  ASSERT_TRUE(cat->RemoveTable("shop", "orders").ok());
  EXPECT_FALSE(cat->GetTable("shop", "orders")->has_value());
  auto list = cat->ListTables("shop");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "items");
  // The other connection's table of the same name is untouched.
  auto theirs = cat->GetTable("depot", "orders");
  ASSERT_TRUE(theirs.ok() && theirs->has_value());
  EXPECT_EQ((*theirs)->primary_key, std::vector<std::string>{"id"});

  Status st = cat->RemoveTable("shop", "orders");
  EXPECT_EQ(st.code(), ErrorCode::kNotFound);
  EXPECT_NE(st.message().find("no table orders"), std::string::npos) << st.ToString();
  EXPECT_EQ(cat->RemoveTable("shop", "never").code(), ErrorCode::kNotFound);
  st = cat->RemoveTable("nope", "orders");
  EXPECT_EQ(st.code(), ErrorCode::kNotFound);
  EXPECT_NE(st.message().find("connection 'nope'"), std::string::npos) << st.ToString();

  // Added again, as new.
  ASSERT_TRUE(cat->AddTable(orders).ok());
  auto again = cat->GetTable("shop", "orders");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->age_column, "updated_at");
  EXPECT_EQ((*again)->on_error, OnError::kSkip);
  EXPECT_EQ(cat->ListTables("shop")->size(), 2u);

  // Without its tables (and objects) the connection can go.
  ASSERT_TRUE(cat->CreateConnection("empty").ok());
  ASSERT_TRUE(cat->AddTable({"empty", "t", {"id"}}).ok());
  EXPECT_EQ(cat->DeleteConnection("empty").status().code(), ErrorCode::kBucketNotEmpty);
  ASSERT_TRUE(cat->RemoveTable("empty", "t").ok());
  EXPECT_TRUE(cat->DeleteConnection("empty").ok());
}

TEST_P(AnyCatalogTest, ATableIsRemovedOnlyWhenNoFileIsQueuedOrLoading) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const TableConfig orders{"shop", "orders", {"order_id"}};
  const TableKey key{"shop", "orders"};
  ASSERT_TRUE(cat->AddTable(orders).ok());
  const int64_t a = *cat->AppendFile(File("shop", "orders", "orders/1"));
  const int64_t b = *cat->AppendFile(File("shop", "orders", "orders/2"));

  auto refused = [&](int files) {
    Status st = cat->RemoveTable("shop", "orders");
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find("table orders has " + std::to_string(files) +
                                " file(s) queued or loading"),
              std::string::npos)
        << st.ToString();
    EXPECT_TRUE(cat->GetTable("shop", "orders")->has_value()) << "removed anyway";
  };
  refused(2);  // both queued
  ASSERT_TRUE(cat->MarkLoading(a).ok());
  refused(2);  // one loading, one queued
  ASSERT_TRUE(cat->MarkLoaded(a, LoadCounts{1, 0, 0}, 1).ok());
  refused(1);
  ASSERT_TRUE(cat->MarkLoading(b).ok());
  refused(1);  // loading
  ASSERT_TRUE(cat->MarkFailed(b, Err(ErrorCode::kPkNull, "null key")).ok());

  // One loaded and one failed file: nothing to wait for.
  ASSERT_TRUE(cat->RemoveTable("shop", "orders").ok());
  EXPECT_FALSE(cat->GetTable("shop", "orders")->has_value());
  // The history stays, and the failed file still heads the table's queue.
  auto files = cat->ListFiles("shop", "orders");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].status, FileStatus::kLoaded);
  EXPECT_EQ((*files)[1].status, FileStatus::kFailed);
  EXPECT_EQ(HeadSeq(*cat, key), b);
  // A key of the removed table is now an unconfigured key: under `hold` its file is appended
  // failed (the S3 layer decides), which blocks nothing the removal cares about.
  FileRecord held = File("shop", "orders", "orders/3");
  held.status = FileStatus::kFailed;
  held.error_code = "TABLE_NOT_CONFIGURED";
  const int64_t h = *cat->AppendFile(held);

  // Added again under the same name, the table takes its history back: the failed file blocks
  // it until retried or skipped, and a retry puts it in the queue, which holds a removal up.
  ASSERT_TRUE(cat->AddTable(orders).ok());
  EXPECT_EQ(HeadSeq(*cat, key), b);
  ASSERT_TRUE(cat->Retry(b).ok());
  refused(1);
  ASSERT_TRUE(cat->Skip(h).ok());
  ASSERT_TRUE(cat->MarkLoading(b).ok());
  ASSERT_TRUE(cat->MarkLoaded(b, LoadCounts{1, 0, 0}, 2).ok());
  EXPECT_TRUE(cat->RemoveTable("shop", "orders").ok());
  EXPECT_FALSE(cat->HeadOfQueue(key)->has_value());
}

TEST_F(CatalogTest, RemoveTableCountsTheQueueOnItsIndex) {
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
  }
  const std::string plan = QueryPlan(kTableBusySql);
  EXPECT_NE(plan.find("files_with_work"), std::string::npos) << plan;
}

TEST_P(AnyCatalogTest, LedgerAppendAndLookups) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  FileRecord r = File("shop", "orders", "orders/a.parquet");
  r.sha256_hex = std::string(64, 'e');
  auto s1 = cat->AppendFile(r);
  clock_.Advance(10);
  auto s2 = cat->AppendFile(File("shop", "orders", "orders/b.parquet"));
  auto s3 = cat->AppendFile(File("shop", "items", "items/a.parquet"));
  auto s4 = cat->AppendFile(File("shop", "orders", "orders/a.parquet"));  // overwrite
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok() && s4.ok()) << s1.status().ToString();
  EXPECT_LT(*s1, *s2);
  EXPECT_LT(*s2, *s3);
  EXPECT_LT(*s3, *s4);

  auto f = cat->GetFile(*s1);
  ASSERT_TRUE(f.ok() && f->has_value()) << f.status().ToString();
  const FileRecord& g = **f;
  EXPECT_EQ(g.seq, *s1);
  EXPECT_EQ(g.connection_id, "shop");
  EXPECT_EQ(g.table, "orders");
  EXPECT_EQ(g.key, "orders/a.parquet");
  EXPECT_EQ(g.landed_id, r.landed_id);
  EXPECT_EQ(g.size, 1234u);
  EXPECT_EQ(g.md5_hex, r.md5_hex);
  EXPECT_EQ(g.sha256_hex, r.sha256_hex);
  EXPECT_EQ(g.content_type, r.content_type);
  EXPECT_EQ(g.metadata_json, r.metadata_json);
  EXPECT_EQ(g.received_at, 1'700'000'000'000'000);  // defaulted from the clock
  EXPECT_EQ(g.status, FileStatus::kQueued);
  EXPECT_EQ((*cat->GetFile(*s2))->received_at, 1'700'000'000'000'010);
  EXPECT_FALSE(cat->GetFile(9999)->has_value());

  auto latest = cat->LatestFileForKey("shop", "orders/a.parquet");
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->seq, *s4);
  EXPECT_FALSE(cat->LatestFileForKey("shop", "orders/zzz")->has_value());

  auto all = cat->ListFiles("shop");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[3].seq, *s4);
  auto orders = cat->ListFiles("shop", "orders");
  ASSERT_EQ(orders->size(), 3u);
  EXPECT_EQ((*orders)[0].seq, *s1);
  EXPECT_EQ((*orders)[1].seq, *s2);
  EXPECT_EQ((*orders)[2].seq, *s4);
  EXPECT_EQ(cat->ListFiles("nope").status().code(), ErrorCode::kNotFound);

  EXPECT_EQ(cat->AppendFile(File("nope", "t", "t/x")).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(cat->AppendFile(File("shop", "t", "")).status().code(), ErrorCode::kInvalidArgument);
  FileRecord huge = File("shop", "t", "t/x");
  huge.size = ~uint64_t{0};
  EXPECT_EQ(cat->AppendFile(huge).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(CatalogTest, SequencesAreNeverReused) {
  int64_t last = 0;
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
    ASSERT_TRUE(cat->CreateConnection("shop").ok());
    auto s = cat->AppendFile(File("shop", "t", "t/1"));
    ASSERT_TRUE(s.ok());
    last = *s;
  }
  // Even if the newest row disappears (by hand, say), AUTOINCREMENT does not hand it out again.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/catalog.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM files", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto cat = OpenCatalog();
  auto s = cat->AppendFile(File("shop", "t", "t/2"));
  ASSERT_TRUE(s.ok());
  EXPECT_GT(*s, last);
}

TEST_P(AnyCatalogTest, QueueAndStatusTransitions) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const int64_t a = *cat->AppendFile(File("shop", "orders", "orders/1"));
  const int64_t b = *cat->AppendFile(File("shop", "orders", "orders/2"));
  const int64_t c = *cat->AppendFile(File("shop", "items", "items/1"));
  const TableKey orders{"shop", "orders"};
  const TableKey items{"shop", "items"};

  auto work = cat->TablesWithWork();
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(*work, (std::vector<TableKey>{items, orders}));
  EXPECT_EQ(HeadSeq(*cat, orders), a);
  EXPECT_EQ(HeadSeq(*cat, items), c);
  EXPECT_FALSE(cat->HeadOfQueue({"shop", "none"})->has_value());

  clock_.Set(5'000);
  ASSERT_TRUE(cat->MarkLoading(a).ok());
  auto fa = *cat->GetFile(a);
  EXPECT_EQ(fa->status, FileStatus::kLoading);
  EXPECT_EQ(fa->started_at, 5'000);
  EXPECT_EQ(HeadSeq(*cat, orders), a);  // loading stays at the head
  ASSERT_TRUE(cat->MarkLoaded(a, LoadCounts{3, 2, 1}, 6'000).ok());
  fa = *cat->GetFile(a);
  EXPECT_EQ(fa->status, FileStatus::kLoaded);
  EXPECT_EQ(fa->rows_inserted, 3);
  EXPECT_EQ(fa->rows_updated, 2);
  EXPECT_EQ(fa->rows_refused, 1);
  EXPECT_EQ(fa->finished_at, 6'000);
  EXPECT_EQ(HeadSeq(*cat, orders), b);

  // A failed file blocks its table: it is the head, but the table has no queued work.
  ASSERT_TRUE(cat->MarkLoading(b).ok());
  clock_.Set(7'000);
  ASSERT_TRUE(cat->MarkFailed(b, Err(ErrorCode::kPkNotFound,
                                     "primary key column 'id' is not "
                                     "in the file"))
                  .ok());
  auto fb = *cat->GetFile(b);
  EXPECT_EQ(fb->status, FileStatus::kFailed);
  EXPECT_EQ(fb->error_code, "PK_NOT_FOUND");
  EXPECT_EQ(fb->error_message, "primary key column 'id' is not in the file");
  EXPECT_EQ(fb->finished_at, 7'000);
  EXPECT_EQ(HeadSeq(*cat, orders), b);
  EXPECT_EQ(*cat->TablesWithWork(), std::vector<TableKey>{items});
  auto unfinished = cat->UnfinishedFiles();
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].seq, c);

  // Status errors name the status.
  Status st = cat->Retry(a);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("is loaded"), std::string::npos) << st.ToString();
  EXPECT_EQ(cat->Skip(c).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat->Retry(9999).code(), ErrorCode::kNotFound);
  EXPECT_EQ(cat->Skip(9999).code(), ErrorCode::kNotFound);
  EXPECT_EQ(cat->MarkLoading(a).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat->MarkLoaded(b, {}, 1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat->MarkFailed(c, Status::Ok()).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat->MarkLoading(9999).code(), ErrorCode::kNotFound);

  // Retry puts it back in its original place, with the error cleared.
  ASSERT_TRUE(cat->Retry(b).ok());
  fb = *cat->GetFile(b);
  EXPECT_EQ(fb->status, FileStatus::kQueued);
  EXPECT_EQ(fb->error_code, "");
  EXPECT_EQ(fb->error_message, "");
  EXPECT_EQ(HeadSeq(*cat, orders), b);
  EXPECT_EQ(*cat->TablesWithWork(), (std::vector<TableKey>{items, orders}));

  // Fail again, then skip: the table moves past it and keeps the reason.
  ASSERT_TRUE(cat->MarkFailed(b, Err(ErrorCode::kCorruptFile, "bad footer")).ok());
  ASSERT_TRUE(cat->Skip(b).ok());
  fb = *cat->GetFile(b);
  EXPECT_EQ(fb->status, FileStatus::kSkipped);
  EXPECT_EQ(fb->error_code, "CORRUPT_FILE");
  EXPECT_FALSE(cat->HeadOfQueue(orders)->has_value());
  st = cat->Skip(b);
  EXPECT_NE(st.message().find("is skipped"), std::string::npos) << st.ToString();

  // A file can be appended already failed (hold policy) and then blocks its table.
  FileRecord held = File("shop", "later", "later/x");
  held.status = FileStatus::kFailed;
  held.error_code = "TABLE_NOT_CONFIGURED";
  const int64_t h = *cat->AppendFile(held);
  EXPECT_EQ(HeadSeq(*cat, {"shop", "later"}), h);
  EXPECT_EQ(*cat->TablesWithWork(), std::vector<TableKey>{items});
  ASSERT_TRUE(cat->Retry(h).ok());
  EXPECT_EQ(cat->TablesWithWork()->size(), 2u);
}

TEST_P(AnyCatalogTest, PassedFailedFilesNoLongerBlock) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const TableKey orders{"shop", "orders"};
  const int64_t a = *cat->AppendFile(File("shop", "orders", "orders/1"));
  const int64_t b = *cat->AppendFile(File("shop", "orders", "orders/2"));
  ASSERT_TRUE(cat->MarkFailed(a, Err(ErrorCode::kPkNull, "null key")).ok());
  EXPECT_EQ(HeadSeq(*cat, orders), a);
  EXPECT_EQ(cat->MovePast(b).code(), ErrorCode::kInvalidArgument);  // only a failed file
  ASSERT_TRUE(cat->MovePast(a).ok());
  auto fa = *cat->GetFile(a);
  EXPECT_TRUE(fa->passed);
  EXPECT_EQ(fa->status, FileStatus::kFailed);
  EXPECT_EQ(fa->error_code, "PK_NULL");
  EXPECT_EQ(HeadSeq(*cat, orders), b);
  // A retry clears it and puts the file back at the head (the oldest queued file).
  ASSERT_TRUE(cat->Retry(a).ok());
  EXPECT_FALSE((*cat->GetFile(a))->passed);
  EXPECT_EQ(HeadSeq(*cat, orders), a);
}

TEST_P(AnyCatalogTest, DuplicatesByContentAndForcedRetry) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  FileRecord first = File("shop", "orders", "orders/1");
  first.seq = *cat->AppendFile(first);
  FileRecord same = File("shop", "orders", "orders/2");
  same.seq = *cat->AppendFile(same);
  FileRecord bigger = File("shop", "orders", "orders/3");
  bigger.size = 1235;
  bigger.seq = *cat->AppendFile(bigger);
  FileRecord other_table = File("shop", "items", "items/1");
  other_table.seq = *cat->AppendFile(other_table);

  // Only loaded files count.
  EXPECT_FALSE(cat->FindLoadedDuplicate(same)->has_value());
  ASSERT_TRUE(cat->MarkLoaded(first.seq, {}, 1).ok());
  auto dup = cat->FindLoadedDuplicate(same);
  ASSERT_TRUE(dup.ok() && dup->has_value()) << dup.status().ToString();
  EXPECT_EQ((*dup)->seq, first.seq);
  EXPECT_EQ((*dup)->key, "orders/1");
  EXPECT_FALSE(cat->FindLoadedDuplicate(first)->has_value());   // never itself
  EXPECT_FALSE(cat->FindLoadedDuplicate(bigger)->has_value());  // size is part of the identity
  EXPECT_FALSE(cat->FindLoadedDuplicate(other_table)->has_value());

  ASSERT_TRUE(cat->MarkDuplicate(same.seq, first.seq, "duplicate of sequence 1").ok());
  auto f = *cat->GetFile(same.seq);
  EXPECT_EQ(f->status, FileStatus::kSkipped);
  EXPECT_EQ(f->duplicate_of, first.seq);
  EXPECT_EQ(f->error_code, "");
  EXPECT_EQ(f->error_message, "duplicate of sequence 1");
  EXPECT_EQ(cat->MarkDuplicate(same.seq, first.seq, "again").code(), ErrorCode::kInvalidArgument);

  EXPECT_EQ(cat->RetryForced(first.seq).code(), ErrorCode::kInvalidArgument);  // loaded
  EXPECT_EQ(cat->Retry(same.seq).code(), ErrorCode::kInvalidArgument);         // plain: failed only
  ASSERT_TRUE(cat->RetryForced(same.seq).ok());
  f = *cat->GetFile(same.seq);
  EXPECT_EQ(f->status, FileStatus::kQueued);
  EXPECT_TRUE(f->forced);
  EXPECT_EQ(f->duplicate_of, 0);
  EXPECT_EQ(f->error_message, "");
  EXPECT_EQ(HeadSeq(*cat, {"shop", "orders"}), same.seq);
}

TEST_P(AnyCatalogTest, MultipartObjectsMatchByEtagAndSize) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  auto multipart = [&](const std::string& key, const std::string& etag) {
    FileRecord r = File("shop", "orders", key);
    r.md5_hex.clear();
    r.etag = etag;
    r.seq = *cat->AppendFile(r);
    return r;
  };
  const FileRecord a = multipart("orders/a", "0123456789abcdef0123456789abcdef-2");
  const FileRecord b = multipart("orders/b", "0123456789abcdef0123456789abcdef-2");
  const FileRecord c = multipart("orders/c", "fedcba9876543210fedcba9876543210-3");
  ASSERT_TRUE(cat->MarkLoaded(a.seq, {}, 1).ok());
  auto dup = cat->FindLoadedDuplicate(b);
  ASSERT_TRUE(dup.ok() && dup->has_value());
  EXPECT_EQ((*dup)->seq, a.seq);
  EXPECT_FALSE(cat->FindLoadedDuplicate(c)->has_value());  // other parts: a new file
  // A single PUT of other bytes never matches a multipart object, nor one without an ETag.
  EXPECT_FALSE(cat->FindLoadedDuplicate(File("shop", "orders", "orders/d"))->has_value());
  FileRecord unknown = b;
  unknown.etag.clear();
  EXPECT_FALSE(cat->FindLoadedDuplicate(unknown)->has_value());
}

TEST_P(AnyCatalogTest, LoadingIsVisibleToOtherProcesses) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const int64_t a = *cat->AppendFile(File("shop", "orders", "orders/1"));
  ASSERT_TRUE(cat->MarkLoading(a).ok());
  // Another process (the CLI) sees the status.
  auto other = OpenCatalog();
  ASSERT_TRUE(other);
  EXPECT_EQ((*other->GetFile(a))->status, FileStatus::kLoading);
  ASSERT_TRUE(cat->MarkLoaded(a, {1, 0, 0, 0}, 2).ok());
  EXPECT_EQ((*other->GetFile(a))->status, FileStatus::kLoaded);
}

TEST_P(AnyCatalogTest, LoadAttemptsAreCountedAndStartAfreshOnRetry) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const int64_t a = *cat->AppendFile(File("shop", "orders", "orders/1"));
  EXPECT_EQ((*cat->GetFile(a))->load_attempts, 0);
  ASSERT_TRUE(cat->MarkLoading(a).ok());
  ASSERT_TRUE(cat->MarkLoading(a).ok());  // a restart takes it up again
  {
    // Durable and visible to a fresh open, as after a crash.
    auto reopened = OpenCatalog();
    ASSERT_TRUE(reopened);
    EXPECT_EQ((*reopened->GetFile(a))->load_attempts, 2);
  }
  // A transient error takes its attempt back.
  ASSERT_TRUE(cat->AbandonLoading(a).ok());
  EXPECT_EQ((*cat->GetFile(a))->load_attempts, 1);
  EXPECT_EQ((*cat->GetFile(a))->status, FileStatus::kLoading);
  ASSERT_TRUE(cat->MarkFailed(a, Err(ErrorCode::kInternal, "the loader crashed")).ok());
  EXPECT_EQ(cat->AbandonLoading(a).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(cat->Retry(a).ok());
  EXPECT_EQ((*cat->GetFile(a))->load_attempts, 0);
}

TEST_P(AnyCatalogTest, ALoadingFileIsRetriedOrSkippedOnlyWhenNoLoaderRuns) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const int64_t a = *cat->AppendFile(File("shop", "orders", "orders/1"));
  const int64_t b = *cat->AppendFile(File("shop", "orders", "orders/2"));
  ASSERT_TRUE(cat->MarkLoading(a).ok());
  ASSERT_TRUE(cat->MarkLoading(b).ok());
  Status st = cat->Retry(a);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("is loading"), std::string::npos) << st.message();
  EXPECT_EQ(cat->Skip(a).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat->RetryForced(a).code(), ErrorCode::kInvalidArgument);

  ASSERT_TRUE(cat->Retry(a, LoaderState::kStopped).ok());
  auto retried = *cat->GetFile(a);
  EXPECT_EQ(retried->status, FileStatus::kQueued);
  EXPECT_EQ(retried->load_attempts, 0);
  ASSERT_TRUE(cat->Skip(b, LoaderState::kStopped).ok());
  auto skipped = *cat->GetFile(b);
  EXPECT_EQ(skipped->status, FileStatus::kSkipped);
  EXPECT_NE(skipped->error_message.find("skipped by an operator while loading"), std::string::npos);
  // A queued file is neither failed nor stuck.
  EXPECT_EQ(cat->Skip(a, LoaderState::kStopped).code(), ErrorCode::kInvalidArgument);
}

TEST_P(AnyCatalogTest, ForcedRetryOfAPurgedFileIsRefused) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  const int64_t a = *cat->AppendFile(File("shop", "orders", "orders/1"));
  const int64_t b = *cat->AppendFile(File("shop", "orders", "orders/1"));
  ASSERT_TRUE(cat->MarkLoaded(a, {1, 0, 0, 0}, 10).ok());
  ASSERT_TRUE(cat->MarkDuplicate(b, a, "duplicate").ok());
  ASSERT_TRUE(cat->MarkPurged(b, 20).ok());
  Status st = cat->RetryForced(b);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("retention removed its bytes"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("orders/1"), std::string::npos) << st.message();
  EXPECT_EQ((*cat->GetFile(b))->status, FileStatus::kSkipped);
}

TEST_P(AnyCatalogTest, NotInLedgerNamesTheObjectsNoEntryNames) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  FileRecord r = File("shop", "orders", "orders/1");
  ASSERT_TRUE(cat->AppendFile(r).ok());
  auto unknown = cat->NotInLedger({r.landed_id, "00000000000000000000000000000abc"});
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_EQ(*unknown, std::vector<std::string>{"00000000000000000000000000000abc"});
  EXPECT_TRUE(cat->NotInLedger({})->empty());
}

TEST_F(CatalogTest, HeadOfQueueUsesThePendingIndex) {
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
  }
  const std::string plan = QueryPlan(
      "SELECT seq FROM files WHERE connection_id = ? AND table_name = ? AND (status IN "
      "('queued', 'loading') OR (status = 'failed' AND passed = 0)) ORDER BY seq LIMIT 1");
  EXPECT_NE(plan.find("files_pending"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST(FileStatusNameTest, Names) {
  EXPECT_EQ(FileStatusName(FileStatus::kQueued), "queued");
  EXPECT_EQ(FileStatusName(FileStatus::kLoading), "loading");
  EXPECT_EQ(FileStatusName(FileStatus::kLoaded), "loaded");
  EXPECT_EQ(FileStatusName(FileStatus::kFailed), "failed");
  EXPECT_EQ(FileStatusName(FileStatus::kSkipped), "skipped");
}

TEST_F(CatalogTest, TwoProcessesSeeEachOthersWrites) {
  auto server = OpenCatalog();
  auto cli = OpenCatalog();
  ASSERT_TRUE(server && cli);
  auto c0 = server->ChangeCounter();
  ASSERT_TRUE(c0.ok());
  EXPECT_EQ(*server->ChangeCounter(), *c0);  // stable without writes

  // The CLI creates a connection: the server sees it and its counter moves.
  auto created = cli->CreateConnection("shop");
  ASSERT_TRUE(created.ok());
  auto c1 = server->ChangeCounter();
  EXPECT_NE(*c1, *c0);
  ASSERT_TRUE(server->GetConnection("shop")->has_value());
  auto cred = server->LookupAccessKey(created->access_key);
  ASSERT_TRUE(cred.ok() && cred->has_value()) << cred.status().ToString();
  EXPECT_EQ((*cred)->secret.reveal(), created->secret.reveal());

  // The server appends and fails a file; the CLI retries it; the server notices.
  const int64_t seq = *server->AppendFile(File("shop", "t", "t/1"));
  ASSERT_TRUE(server->MarkFailed(seq, Err(ErrorCode::kSchemaMismatch, "x")).ok());
  auto c2 = server->ChangeCounter();
  EXPECT_NE(*c2, *c1);  // local writes count too
  EXPECT_EQ((*cli->GetFile(seq))->status, FileStatus::kFailed);
  ASSERT_TRUE(cli->Retry(seq).ok());
  auto c3 = server->ChangeCounter();
  EXPECT_NE(*c3, *c2);
  auto head = server->HeadOfQueue({"shop", "t"});
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->status, FileStatus::kQueued);
}

TEST_P(AnyCatalogTest, ConcurrentAppendsGetDistinctSequences) {
  auto a = OpenCatalog();
  auto b = OpenCatalog();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateConnection("shop").ok());
  constexpr int kPerWriter = 40;
  std::vector<int64_t> seqs_a, seqs_b;
  auto writer = [&](Catalog* cat, std::vector<int64_t>* out, const char* name) {
    for (int i = 0; i < kPerWriter; ++i) {
      auto s = cat->AppendFile(File("shop", "t", std::string(name) + std::to_string(i)));
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      out->push_back(*s);
    }
  };
  std::thread ta(writer, a.get(), &seqs_a, "a");
  std::thread tb(writer, b.get(), &seqs_b, "b");
  ta.join();
  tb.join();
  std::set<int64_t> all(seqs_a.begin(), seqs_a.end());
  all.insert(seqs_b.begin(), seqs_b.end());
  EXPECT_EQ(all.size(), 2u * kPerWriter);
  EXPECT_EQ(a->ListFiles("shop")->size(), 2u * kPerWriter);
}

TEST_P(AnyCatalogTest, ReopenKeepsEverything) {
  CreatedConnection created;
  int64_t seq = 0;
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
    auto c = cat->CreateConnection("shop");
    ASSERT_TRUE(c.ok());
    created = std::move(c).value();
    ASSERT_TRUE(cat->AddTable({"shop", "orders", {"id"}, "ts", OnError::kSkip}).ok());
    seq = *cat->AppendFile(File("shop", "orders", "orders/1"));
    ASSERT_TRUE(cat->MarkFailed(seq, Err(ErrorCode::kPkNull, "null key in row 7")).ok());
  }
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  EXPECT_EQ((*cat->GetConnection("shop"))->name, "shop");
  auto cred = cat->LookupAccessKey(created.access_key);
  ASSERT_TRUE(cred.ok() && cred->has_value()) << cred.status().ToString();
  EXPECT_EQ((*cred)->secret.reveal(), created.secret.reveal());
  auto t = cat->GetTable("shop", "orders");
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->age_column, "ts");
  EXPECT_EQ((*t)->on_error, OnError::kSkip);
  auto f = cat->GetFile(seq);
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ((*f)->status, FileStatus::kFailed);
  EXPECT_EQ((*f)->error_code, "PK_NULL");
  EXPECT_EQ((*f)->error_message, "null key in row 7");
}

TEST_F(CatalogTest, RefusesNewerSchema) {
  { ASSERT_TRUE(OpenCatalog()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/catalog.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto cat = Catalog::Open(dir_, FileSystem::Default(), clock_);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.status().message().find("schema version 99"), std::string::npos)
      << cat.status().ToString();
}

// --- the S3-compatibility cut: objects, buckets, account keys, multipart -----------------

TEST_F(CatalogTest, MigratesAVersionOneCatalog) {
  CreatedConnection created;
  int64_t seq = 0;
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
    auto c = cat->CreateConnection("shop");
    ASSERT_TRUE(c.ok());
    created = std::move(c).value();
    seq = *cat->AppendFile(File("shop", "orders", "orders/1"));
  }
  // Turn the database back into what the first cut wrote.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/catalog.db").c_str(), &db), SQLITE_OK);
  const char* downgrade =
      "DROP TABLE upload_parts; DROP TABLE uploads; DROP TABLE completed_uploads;"
      "DROP INDEX files_by_content; DROP INDEX files_retained; DROP INDEX files_stored;"
      "ALTER TABLE connections DROP COLUMN quota_bytes;"
      "ALTER TABLE tables DROP COLUMN nested_json; ALTER TABLE tables DROP COLUMN load_hidden_keys;"
      "ALTER TABLE tables DROP COLUMN delete_column; ALTER TABLE files DROP COLUMN rows_deleted;"
      "ALTER TABLE files DROP COLUMN checksums_json; ALTER TABLE files DROP COLUMN duplicate_of;"
      "ALTER TABLE files DROP COLUMN purged_at; ALTER TABLE files DROP COLUMN load_attempts;"
      "DROP INDEX files_pending; ALTER TABLE files DROP COLUMN passed;"
      "ALTER TABLE files DROP COLUMN forced;"
      "CREATE INDEX files_pending ON files(connection_id, table_name, seq) "
      "WHERE status IN ('queued', 'loading', 'failed');"
      "ALTER TABLE files DROP COLUMN etag; ALTER TABLE files DROP COLUMN deleted;"
      // Version 1 required a connection on every credential.
      "CREATE TABLE credentials_v1 (access_key TEXT PRIMARY KEY, connection_id TEXT NOT NULL "
      "REFERENCES connections(id), ciphertext BLOB NOT NULL, nonce BLOB NOT NULL, active "
      "INTEGER NOT NULL, created_at INTEGER NOT NULL);"
      "INSERT INTO credentials_v1 SELECT access_key, connection_id, ciphertext, nonce, active, "
      "created_at FROM credentials; DROP TABLE credentials;"
      "ALTER TABLE credentials_v1 RENAME TO credentials;"
      "CREATE INDEX credentials_by_connection ON credentials(connection_id);"
      "PRAGMA user_version = 1;";
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, downgrade, nullptr, nullptr, &err), SQLITE_OK) << err;
  sqlite3_close(db);

  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto cred = cat->LookupAccessKey(created.access_key);
  ASSERT_TRUE(cred.ok() && cred->has_value()) << cred.status().ToString();
  EXPECT_EQ((*cred)->connection_id, "shop");
  EXPECT_EQ((*cred)->secret.reveal(), created.secret.reveal());
  auto f = cat->VisibleFile("shop", "orders/1");
  ASSERT_TRUE(f.ok() && f->has_value()) << f.status().ToString();
  EXPECT_EQ((*f)->seq, seq);
  EXPECT_EQ((*f)->etag, "");
  EXPECT_FALSE((*f)->deleted);
  // The new tables work, and account keys fit the rebuilt credentials table.
  EXPECT_TRUE(cat->CreateAccountKey(0).ok());
  EXPECT_TRUE(cat->CreateUpload({"u1", "shop", "orders/2", "orders"}).ok());
}

TEST_P(AnyCatalogTest, AccountKeysHaveNoConnection) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto key = cat->CreateAccountKey(0);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->access_key.str().size(), 20u);
  EXPECT_EQ(key->secret.reveal().size(), 40u);
  auto found = cat->LookupAccessKey(key->access_key);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->connection_id, "");
  EXPECT_EQ((*found)->secret.reveal(), key->secret.reveal());
  auto other = cat->CreateAccountKey(0);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->access_key, key->access_key);
}

TEST_P(AnyCatalogTest, BucketConnections) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto made = cat->CreateBucketConnection("new-bucket");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->id, "new-bucket");
  EXPECT_EQ(made->name, "new-bucket");
  EXPECT_EQ(made->unconfigured, UnconfiguredPolicy::kHold);
  EXPECT_TRUE((*cat->GetConnection("new-bucket")).has_value());
  EXPECT_EQ(cat->CreateBucketConnection("new-bucket").status().code(), ErrorCode::kAlreadyExists);
  for (const char* bad : {"Upper", "under_score", "ab", "-lead", "a.b"}) {
    auto st = cat->CreateBucketConnection(bad).status();
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_P(AnyCatalogTest, VisibleFilesListAndDelete) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  ASSERT_TRUE(cat->CreateConnection("other").ok());
  const std::vector<std::string> keys = {"b/1", "a/2",    "a/1", "a/\xc3\xa9",
                                         "ab",  "a/\x7f", "c",   "a/2"};  // a/2 twice: two versions
  for (const auto& k : keys) {
    auto r = File("shop", "", k);
    r.size = k.size();
    ASSERT_TRUE(cat->AppendFile(r).ok());
  }
  ASSERT_TRUE(cat->AppendFile(File("other", "", "a/1")).ok());

  auto names = [](const std::vector<FileRecord>& files) {
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(f.key);
    return out;
  };
  auto all = cat->ListVisible("shop", "", "", 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  // UTF-8 byte order; one entry per key, its newest version.
  EXPECT_EQ(names(all->files),
            (std::vector<std::string>{"a/1", "a/2", "a/\x7f", "a/\xc3\xa9", "ab", "b/1", "c"}));
  EXPECT_EQ(all->files[1].seq, 8);
  EXPECT_EQ(names(cat->ListVisible("shop", "a/", "", 100)->files),
            (std::vector<std::string>{"a/1", "a/2", "a/\x7f", "a/\xc3\xa9"}));
  EXPECT_EQ(names(cat->ListVisible("shop", "a/", "a/1", 2)->files),
            (std::vector<std::string>{"a/2", "a/\x7f"}));
  EXPECT_EQ(names(cat->ListVisible("shop", "a", "a/\xc3\xa9", 10)->files),
            (std::vector<std::string>{"ab"}));
  EXPECT_EQ(names(cat->ListVisible("shop", "", "b/1", 10)->files), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(cat->ListVisible("shop", "zz", "", 10)->files.empty());
  EXPECT_TRUE(cat->ListVisible("shop", "", "", 0)->files.empty());
  EXPECT_TRUE(cat->ListVisible("shop", "\xff", "", 10)->files.empty());

  auto marked = cat->DeleteKey("shop", "a/2");
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  ASSERT_EQ(marked->size(), 2u);  // both versions
  EXPECT_TRUE((*marked)[0].deleted);
  EXPECT_FALSE((*cat->VisibleFile("shop", "a/2")).has_value());
  EXPECT_TRUE(cat->DeleteKey("shop", "a/2")->empty());  // already gone
  EXPECT_TRUE(cat->DeleteKey("shop", "nope")->empty());
  EXPECT_EQ(names(cat->ListVisible("shop", "a/", "", 100)->files),
            (std::vector<std::string>{"a/1", "a/\x7f", "a/\xc3\xa9"}));
  // The ledger keeps the files; only their visibility changed.
  EXPECT_EQ(cat->ListFiles("shop")->size(), keys.size());
  EXPECT_TRUE((*cat->GetFile(8))->deleted);
  // Another connection's key of the same name is untouched.
  EXPECT_TRUE((*cat->VisibleFile("other", "a/1")).has_value());

  // A new PUT brings the key back, with the new file only.
  auto again = cat->AppendFile(File("shop", "", "a/2"));
  ASSERT_TRUE(again.ok());
  auto visible = cat->VisibleFile("shop", "a/2");
  ASSERT_TRUE(visible->has_value());
  EXPECT_EQ((*visible)->seq, *again);
  EXPECT_EQ(names(cat->ListVisible("shop", "a/", "", 100)->files),
            (std::vector<std::string>{"a/1", "a/2", "a/\x7f", "a/\xc3\xa9"}));
}

TEST_P(AnyCatalogTest, ListingPagesThroughManyVersions) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  constexpr int kKeys = 300;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "t/%05d", i);
      ASSERT_TRUE(cat->AppendFile(File("shop", "t", key)).ok());
    }
  }
  std::string after;
  int seen = 0;
  int pages = 0;
  while (true) {
    auto page = cat->ListVisible("shop", "t/", after, 7);
    ASSERT_TRUE(page.ok());
    if (page->files.empty()) break;
    for (const auto& f : page->files) {
      EXPECT_GT(f.key, after);
      EXPECT_GT(f.seq, 2 * kKeys);  // the newest round
      after = f.key;
      ++seen;
    }
    ++pages;
  }
  EXPECT_EQ(seen, kKeys);
  EXPECT_EQ(pages, (kKeys + 6) / 7);
  if (pg()) return;
  // The query walks the (connection, key) index instead of scanning or sorting the ledger.
  const std::string plan = QueryPlan(kVisiblePageSql);
  EXPECT_NE(plan.find("SEARCH files USING INDEX files_by_key"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN files USING"), std::string::npos) << plan;
}

// Open errors: failed files not passed, grouped by table and error code, newest as the sample.
TEST_P(AnyCatalogTest, OpenErrorsAreGroupedByTableAndCode) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  ASSERT_TRUE(cat->CreateConnection("other").ok());
  auto fail = [&](const std::string& conn, const std::string& table, const std::string& key,
                  ErrorCode code) {
    FileRecord r;
    r.connection_id = conn;
    r.table = table;
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    auto seq = cat->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    EXPECT_TRUE(cat->MarkLoading(*seq).ok());
    EXPECT_TRUE(cat->MarkFailed(*seq, Err(code, "failed: " + key)).ok());
    return *seq;
  };
  fail("shop", "orders", "orders/1", ErrorCode::kCorruptFile);
  const int64_t newest = fail("shop", "orders", "orders/2", ErrorCode::kCorruptFile);
  const int64_t mismatch = fail("shop", "orders", "orders/3", ErrorCode::kSchemaMismatch);
  const int64_t items = fail("shop", "items", "items/1", ErrorCode::kPkNull);
  fail("other", "orders", "orders/1", ErrorCode::kCorruptFile);
  const int64_t passed = fail("shop", "items", "items/2", ErrorCode::kPkNull);
  ASSERT_TRUE(cat->MovePast(passed).ok());  // skipped past: no longer open

  auto groups = cat->OpenErrors("shop");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->size(), 3u);
  EXPECT_EQ((*groups)[0].newest.seq, items);
  EXPECT_EQ((*groups)[0].files, 1);
  EXPECT_EQ((*groups)[0].newest.error_code, "PK_NULL");
  EXPECT_EQ((*groups)[1].newest.seq, newest);
  EXPECT_EQ((*groups)[1].files, 2);
  EXPECT_EQ((*groups)[1].newest.error_message, "failed: orders/2");
  EXPECT_EQ((*groups)[2].newest.seq, mismatch);
  EXPECT_EQ((*groups)[2].newest.error_code, "SCHEMA_MISMATCH");
  EXPECT_EQ(cat->OpenErrors("nope").status().code(), ErrorCode::kNotFound);
  if (pg()) return;
  // Only the unfinished files are read.
  const std::string plan = QueryPlan(kOpenErrorsSql);
  EXPECT_NE(plan.find("files_pending"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN files\n"), std::string::npos) << plan;
}

TEST_P(AnyCatalogTest, DeleteConnectionOnlyWhenEmpty) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto created = cat->CreateConnection("shop");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(cat->DeleteConnection("nope").status().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(cat->AddTable({"shop", "orders", {"id"}}).ok());
  auto st = cat->DeleteConnection("shop").status();
  EXPECT_EQ(st.code(), ErrorCode::kBucketNotEmpty);
  EXPECT_NE(st.message().find("configured tables"), std::string::npos) << st.ToString();

  ASSERT_TRUE(cat->CreateConnection("bare").ok());
  auto r = File("bare", "", "x");
  r.landed_id = "11111111111111111111111111111111";
  const int64_t seq = *cat->AppendFile(r);
  st = cat->DeleteConnection("bare").status();
  EXPECT_NE(st.message().find("holds objects"), std::string::npos) << st.ToString();
  ASSERT_EQ(cat->DeleteKey("bare", "x")->size(), 1u);
  // Deleted but still queued: the loader will read it.
  st = cat->DeleteConnection("bare").status();
  EXPECT_NE(st.message().find("queued or loading"), std::string::npos) << st.ToString();
  ASSERT_TRUE(cat->MarkFailed(seq, Err(ErrorCode::kTableNotConfigured, "no table")).ok());
  ASSERT_TRUE(cat->CreateUpload({"u1", "bare", "y", ""}).ok());
  st = cat->DeleteConnection("bare").status();
  EXPECT_NE(st.message().find("multipart"), std::string::npos) << st.ToString();
  ASSERT_TRUE(cat->DeleteUpload("u1").ok());

  auto landed = cat->DeleteConnection("bare");
  ASSERT_TRUE(landed.ok()) << landed.status().ToString();
  EXPECT_EQ(*landed, std::vector<std::string>{r.landed_id});
  EXPECT_FALSE((*cat->GetConnection("bare")).has_value());
  EXPECT_FALSE((*cat->GetFile(seq)).has_value());
  // The name is free again.
  EXPECT_TRUE(cat->CreateBucketConnection("bare").ok());
}

TEST_P(AnyCatalogTest, DeletingAConnectionRevokesItsKeys) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  auto created = cat->CreateConnection("keyed");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(cat->DeleteConnection("keyed").ok());
  auto found = cat->LookupAccessKey(created->access_key);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TEST_P(AnyCatalogTest, UploadsPartsAndCompletion) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  UploadRecord u;
  u.upload_id = "up-1";
  u.connection_id = "shop";
  u.key = "orders/big.parquet";
  u.table = "orders";
  u.content_type = "application/x-parquet";
  u.metadata_json = R"({"x-amz-meta-a":"1"})";
  u.initiated_at = clock_.NowMicros();
  ASSERT_TRUE(cat->CreateUpload(u).ok());
  EXPECT_EQ(cat->CreateUpload(u).code(), ErrorCode::kAlreadyExists);
  UploadRecord nowhere = u;
  nowhere.upload_id = "up-x";
  nowhere.connection_id = "nope";
  EXPECT_EQ(cat->CreateUpload(nowhere).code(), ErrorCode::kNotFound);
  UploadRecord loading = u;
  loading.upload_id = "up-y";
  loading.status = FileStatus::kLoading;
  EXPECT_EQ(cat->CreateUpload(loading).code(), ErrorCode::kInvalidArgument);
  UploadRecord other = u;
  other.upload_id = "up-2";
  other.key = "misc/readme";
  other.status = FileStatus::kSkipped;
  other.error_code = "TABLE_NOT_CONFIGURED";
  ASSERT_TRUE(cat->CreateUpload(other).ok());

  auto got = cat->GetUpload("up-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->metadata_json, u.metadata_json);
  EXPECT_EQ((*got)->touched_at, u.initiated_at);
  EXPECT_EQ((*cat->GetUpload("up-2"))->status, FileStatus::kSkipped);
  EXPECT_FALSE((*cat->GetUpload("nope")).has_value());

  clock_.Advance(1'000'000);
  EXPECT_EQ(*cat->RecordPart("up-1", {2, 100, "bb", clock_.NowMicros()}), 0u);
  EXPECT_EQ(*cat->RecordPart("up-1", {1, 50, "aa", clock_.NowMicros()}), 0u);
  // Re-sent: returns the size of the part it replaced.
  EXPECT_EQ(*cat->RecordPart("up-1", {1, 60, "cc", clock_.NowMicros()}), 50u);
  EXPECT_EQ(cat->RecordPart("nope", {1, 1, "aa", 0}).status().code(), ErrorCode::kNoSuchUpload);
  auto parts = cat->ListParts("up-1");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].part_number, 1);
  EXPECT_EQ((*parts)[0].size, 60u);
  EXPECT_EQ((*parts)[0].md5_hex, "cc");
  EXPECT_EQ((*parts)[1].part_number, 2);
  EXPECT_EQ(cat->ListParts("nope").status().code(), ErrorCode::kNoSuchUpload);
  EXPECT_EQ((*cat->GetUpload("up-1"))->touched_at, clock_.NowMicros());

  auto listed = cat->ListUploads("shop", "", "", "", 100);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "misc/readme");  // by key
  EXPECT_EQ(cat->ListUploads("shop", "orders/", "", "", 100)->size(), 1u);
  EXPECT_TRUE(cat->ListUploads("shop", "zzz", "", "", 100)->empty());

  // Untouched since creation: up-2 only.
  auto stale = cat->UploadsTouchedBefore(clock_.NowMicros());
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->size(), 1u);
  EXPECT_EQ((*stale)[0].upload_id, "up-2");

  FileRecord file = File("shop", "orders", "orders/big.parquet");
  file.etag = "0123456789abcdef0123456789abcdef-2";
  file.md5_hex = "";
  CompletedUpload done{"up-1", "", "", 0, file.etag, "1:cc,2:bb", 0};
  uint64_t parts_bytes = 0;
  auto seq = cat->CompleteUpload(file, done, &parts_bytes);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(parts_bytes, 160u);
  auto visible = cat->VisibleFile("shop", "orders/big.parquet");
  ASSERT_TRUE(visible->has_value());
  EXPECT_EQ((*visible)->etag, file.etag);
  EXPECT_EQ((*visible)->seq, *seq);
  EXPECT_EQ((*visible)->status, FileStatus::kQueued);
  EXPECT_FALSE((*cat->GetUpload("up-1")).has_value());
  EXPECT_EQ(cat->ListParts("up-1").status().code(), ErrorCode::kNoSuchUpload);
  auto record = cat->GetCompletedUpload("up-1");
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->seq, *seq);
  EXPECT_EQ((*record)->connection_id, "shop");
  EXPECT_EQ((*record)->key, "orders/big.parquet");
  EXPECT_EQ((*record)->parts, "1:cc,2:bb");
  EXPECT_EQ((*record)->completed_at, clock_.NowMicros());
  // Completing again, or recording a late part, finds no upload; nothing is appended.
  EXPECT_EQ(cat->CompleteUpload(file, done).status().code(), ErrorCode::kNoSuchUpload);
  EXPECT_EQ(cat->RecordPart("up-1", {3, 1, "dd", 0}).status().code(), ErrorCode::kNoSuchUpload);
  EXPECT_EQ(cat->ListFiles("shop")->size(), 1u);

  ASSERT_TRUE(cat->RecordPart("up-2", {1, 7, "ee", 0}).ok());
  EXPECT_EQ(*cat->DeleteUpload("up-2"), 7u);  // the bytes of the parts it forgot
  EXPECT_EQ(cat->DeleteUpload("up-2").status().code(), ErrorCode::kNoSuchUpload);
  EXPECT_TRUE(cat->ListUploads("shop", "", "", "", 100)->empty());

  EXPECT_EQ(*cat->ForgetCompletedBefore(clock_.NowMicros()), 0);
  EXPECT_EQ(*cat->ForgetCompletedBefore(clock_.NowMicros() + 1), 1);
  EXPECT_FALSE((*cat->GetCompletedUpload("up-1")).has_value());
}

TEST_P(AnyCatalogTest, ConnectionQuotaDefaultsToTheServersAndCanBeSetAndCleared) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  EXPECT_FALSE((*cat->GetConnection("shop"))->quota_bytes.has_value());
  ASSERT_TRUE(cat->SetConnectionQuota("shop", uint64_t{10} << 30).ok());
  EXPECT_EQ((*cat->GetConnection("shop"))->quota_bytes,
            std::optional<uint64_t>(uint64_t{10} << 30));
  ASSERT_TRUE(cat->SetConnectionQuota("shop", 0).ok());  // none, not the default
  EXPECT_EQ((*cat->GetConnection("shop"))->quota_bytes, std::optional<uint64_t>(0));
  ASSERT_TRUE(cat->SetConnectionQuota("shop", std::nullopt).ok());
  EXPECT_FALSE((*cat->ListConnections())[0].quota_bytes.has_value());
  EXPECT_EQ(cat->SetConnectionQuota("nope", 1).code(), ErrorCode::kNotFound);
  EXPECT_EQ(cat->SetConnectionQuota("shop", ~uint64_t{0}).code(), ErrorCode::kInvalidArgument);
}

TEST_P(AnyCatalogTest, StoredBytesCountFilesWithTheirBytesAndPartsInProgress) {
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  ASSERT_TRUE(cat->CreateConnection("shop").ok());
  ASSERT_TRUE(cat->CreateConnection("other").ok());
  ASSERT_TRUE(cat->CreateConnection("empty").ok());
  auto sized = [](FileRecord f, uint64_t size) {
    f.size = size;
    return f;
  };
  const int64_t a = *cat->AppendFile(sized(File("shop", "orders", "orders/a"), 100));
  ASSERT_TRUE(cat->AppendFile(sized(File("shop", "orders", "orders/b"), 20)).ok());
  ASSERT_TRUE(cat->AppendFile(sized(File("other", "x", "x/c"), 5)).ok());
  ASSERT_TRUE(cat->CreateUpload({"up-1", "shop", "orders/big", "orders"}).ok());
  ASSERT_TRUE(cat->RecordPart("up-1", {1, 1000, "aa", 0}).ok());
  using Usage = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(*cat->StoredBytesByConnection(), (Usage{{"other", 5}, {"shop", 1120}}));
  // A purged file's bytes are gone.
  ASSERT_TRUE(cat->MarkLoading(a).ok());
  ASSERT_TRUE(cat->MarkLoaded(a, {}, clock_.NowMicros()).ok());
  ASSERT_TRUE(cat->MarkPurged(a, clock_.NowMicros()).ok());
  EXPECT_EQ(*cat->StoredBytesByConnection(), (Usage{{"other", 5}, {"shop", 1020}}));
  ASSERT_TRUE(cat->DeleteUpload("up-1").ok());
  EXPECT_EQ(*cat->StoredBytesByConnection(), (Usage{{"other", 5}, {"shop", 20}}));
}

TEST_F(CatalogTest, VersionSevenRecordsEarlierDeletesOfFinishedFilesAsPurged) {
  int64_t loaded = 0;
  int64_t queued = 0;
  {
    auto cat = OpenCatalog();
    ASSERT_TRUE(cat);
    ASSERT_TRUE(cat->CreateConnection("shop").ok());
    FileRecord f = File("shop", "orders", "orders/a");
    f.size = 100;
    loaded = *cat->AppendFile(f);
    f.key = "orders/b";
    queued = *cat->AppendFile(f);
    ASSERT_TRUE(cat->MarkLoading(loaded).ok());
    ASSERT_TRUE(cat->MarkLoaded(loaded, {}, clock_.NowMicros()).ok());
    ASSERT_EQ(cat->DeleteKey("shop", "orders/a")->size(), 1u);
    ASSERT_EQ(cat->DeleteKey("shop", "orders/b")->size(), 1u);
  }
  // What version 6 left: a delete removed the loaded file's bytes without a word in the ledger.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/catalog.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP INDEX files_stored; ALTER TABLE connections DROP COLUMN quota_bytes;"
                         "ALTER TABLE uploads DROP COLUMN checksum_algorithm;"
                         "ALTER TABLE uploads DROP COLUMN checksum_type;"
                         "ALTER TABLE upload_parts DROP COLUMN checksum_algorithm;"
                         "ALTER TABLE upload_parts DROP COLUMN checksum;"
                         "ALTER TABLE tables DROP COLUMN load_hidden_keys;"
                         "UPDATE files SET purged_at = 0; PRAGMA user_version = 6;",
                         nullptr, nullptr, &err),
            SQLITE_OK)
      << err;
  sqlite3_close(db);
  auto cat = OpenCatalog();
  ASSERT_TRUE(cat);
  EXPECT_NE((*cat->GetFile(loaded))->purged_at, 0);
  EXPECT_EQ((*cat->GetFile(queued))->purged_at, 0);  // still to load: its bytes are kept
  using Usage = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(*cat->StoredBytesByConnection(), (Usage{{"shop", 100}}));
  EXPECT_FALSE((*cat->GetConnection("shop"))->quota_bytes.has_value());
}

}  // namespace
}  // namespace sluice::catalog
