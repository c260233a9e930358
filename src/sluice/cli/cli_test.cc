#include "sluice/cli/cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sluice/app/app.h"
#include "sluice/catalog/catalog.h"
#include "sluice/core/testing/temp_dir.h"
#include "sluice/landing/landing.h"
#include "sluice/pool/pool.h"

namespace sluice::cli {
namespace {

// Runs the `sluice` command in-process against a temporary data directory.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    auto catalog = catalog::Catalog::Open(dir_.string(), fs_, SystemClock::Instance());
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(*catalog);
    ASSERT_TRUE(catalog_->CreateConnection("shop").ok());
  }
  void TearDown() override { catalog_.reset(); }

  struct Outcome {
    int rc;
    std::string out;
    std::string err;
  };
  Outcome Sluice(std::vector<std::string> args) {
    args.insert(args.begin(), {"sluice", "--data-dir", dir_.string()});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int rc = cli::Run(static_cast<int>(argv.size()), argv.data());
    std::fflush(stdout);
    std::fflush(stderr);
    Outcome o{rc, ::testing::internal::GetCapturedStdout(),
              ::testing::internal::GetCapturedStderr()};
    return o;
  }

  // A file landed and recorded as a PUT does.
  int64_t Push(const std::string& key, const std::string& bytes, catalog::FileRecord r = {}) {
    landing::DirectoryStore store(fs_, (dir_ / "landing").string());
    EXPECT_TRUE(store.Init().ok());
    auto incoming = store.Begin();
    EXPECT_TRUE(incoming.ok());
    EXPECT_TRUE((*incoming)->Append(AsBytes(bytes)).ok());
    auto id = (*incoming)->Commit();
    EXPECT_TRUE(id.ok());
    r.connection_id = "shop";
    r.table = key.substr(0, key.find('/'));
    r.key = key;
    r.landed_id = *id;
    r.size = bytes.size();
    auto seq = catalog_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return *seq;
  }

  testing::TempDir tmp_{"cli_test"};  // first: removed after everything using it
  std::filesystem::path dir_;
  FileSystem& fs_ = FileSystem::Default();
  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(CliTest, FilesShowPrintsTheWholeRecord) {
  catalog::FileRecord r;
  r.md5_hex = "0123456789abcdef0123456789abcdef";
  r.sha256_hex = std::string(64, 'a');
  r.checksums_json = R"({"crc32c":"yZRlqg=="})";
  r.metadata_json = R"({"x-amz-meta-sluice-force":"true"})";
  r.received_at = 1'795'746'816'000'000;  // 2026-11-28T00:33:36Z
  const int64_t seq = Push("orders/a.parquet", "not parquet", r);
  ASSERT_TRUE(catalog_->MarkLoading(seq).ok());
  ASSERT_TRUE(
      catalog_->MarkFailed(seq, Err(ErrorCode::kCorruptFile, "orders/a.parquet: bad")).ok());

  auto shown = Sluice({"files", "show", std::to_string(seq), "--json"});
  ASSERT_EQ(shown.rc, 0) << shown.err;
  const auto j = nlohmann::json::parse(shown.out);
  EXPECT_EQ(j["seq"], seq);
  EXPECT_EQ(j["connection"], "shop");
  EXPECT_EQ(j["table"], "orders");
  EXPECT_EQ(j["key"], "orders/a.parquet");
  EXPECT_EQ(j["size"], 11);
  EXPECT_EQ(j["md5"], r.md5_hex);
  EXPECT_EQ(j["sha256"], r.sha256_hex);
  EXPECT_EQ(j["checksums"]["crc32c"], "yZRlqg==");
  EXPECT_EQ(j["metadata"]["x-amz-meta-sluice-force"], "true");
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["received_at"], FormatIsoMicros(r.received_at));
  EXPECT_TRUE(j["started_at"].is_string());
  EXPECT_TRUE(j["finished_at"].is_string());
  EXPECT_EQ(j["error_code"], "CORRUPT_FILE");
  EXPECT_EQ(j["error_message"], "orders/a.parquet: bad");
  EXPECT_TRUE(j["duplicate_of"].is_null());
  EXPECT_TRUE(j["purged_at"].is_null());
  for (const char* field : {"rows_inserted", "rows_updated", "rows_deleted", "rows_refused"}) {
    EXPECT_EQ(j[field], 0) << field;
  }

  auto text = Sluice({"files", "show", std::to_string(seq)});
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("error_code:     CORRUPT_FILE\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("received_at:    2026-"), std::string::npos) << text.out;

  auto missing = Sluice({"files", "show", "999"});
  EXPECT_NE(missing.rc, 0);
  EXPECT_NE(missing.err.find("no file with sequence 999"), std::string::npos) << missing.err;
}

TEST_F(CliTest, FilesListShowsDeletesAndDuplicates) {
  const int64_t first = Push("orders/a.parquet", "x");
  const int64_t again = Push("orders/b.parquet", "x");
  ASSERT_TRUE(catalog_->MarkLoaded(first, {3, 2, 1, 4}, 1).ok());
  ASSERT_TRUE(catalog_->MarkDuplicate(again, first, "duplicate of sequence 1 (key a)").ok());
  auto listed = Sluice({"files", "shop", "orders", "--json"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  const auto rows = nlohmann::json::parse(listed.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["inserted"], 3);
  EXPECT_EQ(rows[0]["updated"], 2);
  EXPECT_EQ(rows[0]["refused"], 1);
  EXPECT_EQ(rows[0]["deleted"], 4);
  EXPECT_TRUE(rows[0]["duplicate_of"].is_null());
  EXPECT_EQ(rows[1]["status"], "skipped");
  EXPECT_EQ(rows[1]["duplicate_of"], first);
  EXPECT_EQ(rows[1]["error_message"], "duplicate of sequence 1 (key a)");
}

TEST_F(CliTest, SetQuotaAndConnectionListShowsDiskBytes) {
  Push("orders/a.parquet", std::string(1500, 'x'));
  ASSERT_EQ(Sluice({"connection", "set-quota", "shop", "10G"}).rc, 0);
  EXPECT_EQ((*catalog_->GetConnection("shop"))->quota_bytes,
            std::optional<uint64_t>(uint64_t{10} << 30));
  auto listed = Sluice({"connection", "list", "--json"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  auto rows = nlohmann::json::parse(listed.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["disk_bytes"], 1500);
  EXPECT_EQ(rows[0]["quota"], uint64_t{10} << 30);
  ASSERT_EQ(Sluice({"connection", "set-quota", "shop", "0"}).rc, 0);
  EXPECT_EQ(nlohmann::json::parse(Sluice({"connection", "list", "--json"}).out)[0]["quota"],
            "none");
  ASSERT_EQ(Sluice({"connection", "set-quota", "shop", "default"}).rc, 0);
  EXPECT_FALSE((*catalog_->GetConnection("shop"))->quota_bytes.has_value());
  auto bad = Sluice({"connection", "set-quota", "shop", "lots"});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("'lots' is not a size"), std::string::npos) << bad.err;
  EXPECT_NE(Sluice({"connection", "set-quota", "nope", "1G"}).rc, 0);
}

TEST_F(CliTest, RetryForceRequeuesASkippedDuplicate) {
  const int64_t first = Push("orders/a.parquet", "x");
  const int64_t again = Push("orders/b.parquet", "x");
  ASSERT_TRUE(catalog_->MarkLoaded(first, {}, 1).ok());
  ASSERT_TRUE(catalog_->MarkDuplicate(again, first, "duplicate").ok());

  auto plain = Sluice({"files", "retry", std::to_string(again)});
  EXPECT_NE(plain.rc, 0);
  EXPECT_NE(plain.err.find("--force"), std::string::npos) << plain.err;

  auto forced = Sluice({"files", "retry", "--force", std::to_string(again)});
  ASSERT_EQ(forced.rc, 0) << forced.err;
  auto f = catalog_->GetFile(again);
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->status, catalog::FileStatus::kQueued);
  EXPECT_TRUE((*f)->forced);
  EXPECT_EQ((*f)->duplicate_of, 0);

  // A loaded file is neither retried nor forced.
  auto loaded = Sluice({"files", "retry", "--force", std::to_string(first)});
  EXPECT_NE(loaded.rc, 0);
  EXPECT_NE(loaded.err.find("is loaded"), std::string::npos) << loaded.err;
}

TEST_F(CliTest, FilesGetWritesTheBytesAsPushed) {
  const std::string bytes("{\"not\": \"parquet\"}\n\0\x01", 21);
  const int64_t seq = Push("orders/a.json", bytes);
  ASSERT_TRUE(catalog_->MarkFailed(seq, Err(ErrorCode::kUnsupportedFormat, "JSON")).ok());
  const std::string out = (dir_ / "copy.bin").string();
  auto got = Sluice({"files", "get", std::to_string(seq), "-o", out});
  ASSERT_EQ(got.rc, 0) << got.err;
  auto copy = fs_.ReadSmallFile(out);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*copy, bytes);
  auto to_stdout = Sluice({"files", "get", std::to_string(seq)});
  ASSERT_EQ(to_stdout.rc, 0) << to_stdout.err;
  EXPECT_EQ(to_stdout.out, bytes);
}

TEST_F(CliTest, TableFlagsForDeleteColumnAndFailurePolicy) {
  auto added = Sluice({"table", "add", "shop", "orders", "--pk", "order_id", "--delete-column",
                       "_deleted", "--on-error", "skip"});
  ASSERT_EQ(added.rc, 0) << added.err;
  auto t = catalog_->GetTable("shop", "orders");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->delete_column, "_deleted");
  EXPECT_EQ((*t)->on_error, catalog::OnError::kSkip);

  // An update keeps what it does not name.
  ASSERT_EQ(Sluice({"table", "update", "shop", "orders", "--age-column", "updated_at"}).rc, 0);
  t = catalog_->GetTable("shop", "orders");
  EXPECT_EQ((*t)->delete_column, "_deleted");
  EXPECT_EQ((*t)->on_error, catalog::OnError::kSkip);
  EXPECT_EQ((*t)->age_column, "updated_at");

  auto listed = Sluice({"table", "list", "shop", "--json"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  const auto rows = nlohmann::json::parse(listed.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["delete_column"], "_deleted");
  EXPECT_EQ(rows[0]["on_error"], "skip");

  ASSERT_EQ(
      Sluice({"table", "update", "shop", "orders", "--on-error", "block", "--delete-column", "-"})
          .rc,
      0);
  t = catalog_->GetTable("shop", "orders");
  EXPECT_EQ((*t)->delete_column, "");
  EXPECT_EQ((*t)->on_error, catalog::OnError::kBlock);

  auto bad = Sluice({"table", "update", "shop", "orders", "--on-error", "ignore"});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("block or skip"), std::string::npos) << bad.err;
  auto key_delete = Sluice({"table", "update", "shop", "orders", "--delete-column", "order_id"});
  EXPECT_NE(key_delete.rc, 0);
  EXPECT_NE(key_delete.err.find("primary-key column"), std::string::npos) << key_delete.err;
}

// A file left `loading` by a crash: the CLI acts on it only while it holds serve.lock, which
// proves that no server (and so no loader) works on the data directory.
TEST_F(CliTest, ALoadingFileIsSkippedOrRetriedOnlyWithoutAServer) {
  const int64_t a = Push("orders/a.parquet", "x");
  const int64_t b = Push("orders/b.parquet", "y");
  ASSERT_TRUE(catalog_->MarkLoading(a).ok());
  ASSERT_TRUE(catalog_->MarkLoading(b).ok());
  {
    auto held = app::LockDataDir(dir_.string());  // a running server's lock
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    for (const char* action : {"skip", "retry"}) {
      auto refused = Sluice({"files", action, std::to_string(a)});
      EXPECT_NE(refused.rc, 0) << action;
      EXPECT_NE(refused.err.find("is loading, and another sluice serve holds " +
                                 (dir_ / "serve.lock").string() + " (pid " +
                                 std::to_string(::getpid()) + ")"),
                std::string::npos)
          << refused.err;
    }
    EXPECT_EQ((*catalog_->GetFile(a))->status, catalog::FileStatus::kLoading);
  }
  auto skipped = Sluice({"files", "skip", std::to_string(a)});
  ASSERT_EQ(skipped.rc, 0) << skipped.err;
  EXPECT_EQ((*catalog_->GetFile(a))->status, catalog::FileStatus::kSkipped);
  auto retried = Sluice({"files", "retry", std::to_string(b)});
  ASSERT_EQ(retried.rc, 0) << retried.err;
  EXPECT_EQ((*catalog_->GetFile(b))->status, catalog::FileStatus::kQueued);
  EXPECT_EQ((*catalog_->GetFile(b))->load_attempts, 0);
}

// Skipping a file whose load the pool committed before the crash would leave its rows without
// a ledger entry that says so: it is recorded as loaded instead.
TEST_F(CliTest, SkippingALoadingFileThePoolAppliedRecordsItLoaded) {
  const int64_t a = Push("orders/a.parquet", "x");
  ASSERT_TRUE(catalog_->MarkLoading(a).ok());
  {
    auto pool = app::OpenDataDirPool(dir_.string(), SystemClock::Instance());
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    auto tx = (*pool)->BeginLoad({"shop", "orders", {"order_id"}}, a);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_TRUE((*tx)->Commit(1'795'746'816'000'000).ok());
  }
  auto skipped = Sluice({"files", "skip", std::to_string(a)});
  ASSERT_EQ(skipped.rc, 0) << skipped.err;
  EXPECT_NE(skipped.out.find("recorded as loaded"), std::string::npos) << skipped.out;
  EXPECT_EQ((*catalog_->GetFile(a))->status, catalog::FileStatus::kLoaded);
}

TEST_F(CliTest, ForcedRetryOfAPurgedFileSaysItsBytesAreGone) {
  const int64_t a = Push("orders/a.parquet", "x");
  ASSERT_TRUE(catalog_->MarkLoaded(a, {1, 0, 0, 0}, 1).ok());
  const int64_t b = Push("orders/b.parquet", "x");
  ASSERT_TRUE(catalog_->MarkDuplicate(b, a, "duplicate").ok());
  ASSERT_TRUE(catalog_->MarkPurged(b, 2).ok());
  auto refused = Sluice({"files", "retry", "--force", std::to_string(b)});
  EXPECT_NE(refused.rc, 0);
  EXPECT_NE(refused.err.find("retention removed its bytes"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("push the file again"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace sluice::cli

namespace sluice::cli {
namespace {

class CliTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    ASSERT_EQ(Run({"connection", "create", "shop"}).rc, 0);
  }

  struct Outcome {
    int rc;
    std::string out;
    std::string err;
  };
  Outcome Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"sluice", "--data-dir", (dir_ / "data").string()});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int rc = cli::Run(static_cast<int>(argv.size()), argv.data());
    std::fflush(stdout);
    std::fflush(stderr);
    Outcome o{rc, ::testing::internal::GetCapturedStdout(),
              ::testing::internal::GetCapturedStderr()};
    return o;
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    FILE* f = std::fopen(path.c_str(), "w");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return path;
  }

  testing::TempDir tmp_{"cli_test"};  // first: removed after everything using it
  std::filesystem::path dir_;
};

TEST_F(CliTableTest, NestedFromFlagsShowsDerivedTablesParentFirst) {
  const std::string order =
      Write("order.json", R"({"order_id":1,"line_items":[{"order_line_id":1,"serials":["a"]}]})");
  auto added = Run({"table", "add", "shop", "nested", "--nested", "--example", order, "--pk",
                    "order_id", "--child-pk", "line_items=order_line_id"});
  ASSERT_EQ(added.rc, 0) << added.err;
  EXPECT_NE(added.out.find("shop/nested (nested)"), std::string::npos) << added.out;
  auto shown = Run({"table", "show", "shop", "nested", "--json"});
  ASSERT_EQ(shown.rc, 0) << shown.err;
  const auto j = nlohmann::json::parse(shown.out);
  ASSERT_EQ(j["tables"].size(), 3u);
  EXPECT_EQ(j["tables"][2]["name"], "nested_line_items_serials");
  EXPECT_EQ(j["tables"][2]["foreign_key"],
            nlohmann::json({"nested_order_id", "nested_line_items_order_line_id"}));
  EXPECT_EQ(j["tables"][2]["parent"], "nested_line_items");
  auto text = Run({"table", "show", "shop", "nested"});
  EXPECT_NE(text.out.find("foreign key   (nested_order_id, nested_line_items_order_line_id) -> "
                          "nested_line_items(nested_order_id, order_line_id)"),
            std::string::npos)
      << text.out;
  // An update keeps what it is not given.
  ASSERT_EQ(Run({"table", "update", "shop", "nested", "--on-error", "skip"}).rc, 0);
  shown = Run({"table", "show", "shop", "nested", "--json"});
  EXPECT_EQ(nlohmann::json::parse(shown.out)["tables"].size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(shown.out)["on_error"], "skip");
}

TEST_F(CliTableTest, YamlConfigurationAndRefusals) {
  const std::string yaml = Write("t.yaml",
                                 "table: events\nprimary_key: id\nexample:\n  id: 1\n"
                                 "  tags: [a, 'b']\n  at: 2024-01-01\n");
  auto added = Run({"table", "add", "shop", "--config", yaml});
  ASSERT_EQ(added.rc, 0) << added.err;
  auto shown = Run({"table", "show", "shop", "events", "--json"});
  const auto j = nlohmann::json::parse(shown.out);
  EXPECT_EQ(j["tables"][0]["columns"][1], nlohmann::json({{"name", "at"}, {"type", "DATE"}}));
  EXPECT_EQ(j["tables"][1]["name"], "events_tags");

  auto mixed = Run({"table", "add", "shop", "--config", yaml, "--pk", "x"});
  EXPECT_NE(mixed.rc, 0);
  EXPECT_NE(mixed.err.find("--config gives the whole configuration"), std::string::npos);
  auto bad = Run({"table", "add", "shop", "--config", Write("b.yml", "table: [unclosed\n")});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("not valid YAML"), std::string::npos) << bad.err;
  auto assignment = Run({"table", "add", "shop", "x", "--nested", "--example",
                         Write("o.json", R"({"id":1})"), "--pk", "id", "--child-pk", "nokey"});
  EXPECT_NE(assignment.rc, 0);
  EXPECT_NE(assignment.err.find("--child-pk takes PATH=VALUE"), std::string::npos);
  auto missing = Run({"table", "show", "shop", "nope"});
  EXPECT_NE(missing.rc, 0);
  EXPECT_NE(missing.err.find("no table 'nope'"), std::string::npos);
}

TEST_F(CliTest, CredentialsRotateListRevokeAndExpire) {
  auto first = catalog_->ListKeys("shop").value().front().access_key.str();
  auto rotated = Sluice({"credentials", "rotate", "shop", "--expires", "30d", "--json"});
  ASSERT_EQ(rotated.rc, 0) << rotated.err;
  const auto j = nlohmann::json::parse(rotated.out);
  const std::string second = j["access_key_id"];
  EXPECT_EQ(j["secret_access_key"].get<std::string>().size(), 40u);
  EXPECT_FALSE(j["expires_at"].is_null());

  auto third = Sluice({"credentials", "rotate", "shop"});
  EXPECT_NE(third.rc, 0);
  EXPECT_NE(third.err.find("LIMIT_EXCEEDED"), std::string::npos) << third.err;
  EXPECT_NE(third.err.find("sluice credentials revoke " + first), std::string::npos);

  auto listed = Sluice({"credentials", "list", "shop", "--json"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  const auto rows = nlohmann::json::parse(listed.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["access_key_id"], first);
  EXPECT_EQ(rows[0]["state"], "active");
  EXPECT_TRUE(rows[0]["expires_at"].is_null());
  EXPECT_EQ(rows[1]["access_key_id"], second);
  EXPECT_FALSE(rows[1]["expires_at"].is_null());
  EXPECT_EQ(listed.out.find(j["secret_access_key"].get<std::string>()), std::string::npos);

  auto revoked = Sluice({"credentials", "revoke", first});
  ASSERT_EQ(revoked.rc, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("InvalidAccessKeyId"), std::string::npos);
  EXPECT_FALSE(catalog_->LookupAccessKey(AccessKeyId(first)).value().has_value());
  EXPECT_NE(Sluice({"credentials", "revoke", first}).rc, 0);
  auto all = Sluice({"credentials", "list"});
  EXPECT_NE(all.out.find("revoked"), std::string::npos) << all.out;
  EXPECT_NE(Sluice({"credentials", "list", "nope"}).rc, 0);

  auto account =
      Sluice({"credentials", "create", "--account", "--expires", "2999-01-31", "--json"});
  ASSERT_EQ(account.rc, 0) << account.err;
  EXPECT_EQ(nlohmann::json::parse(account.out)["expires_at"], "2999-01-31T00:00:00.000000Z");
  for (const char* bad : {"0", "yesterday", "2999-13-01", "2999-01-31T25:00:00Z", "-5d"}) {
    auto r = Sluice({"credentials", "create", "--account", "--expires", bad});
    EXPECT_NE(r.rc, 0) << bad;
    EXPECT_NE(r.err.find("--expires"), std::string::npos) << bad << ": " << r.err;
  }
  auto past = Sluice({"credentials", "create", "--account", "--expires", "2000-01-01"});
  EXPECT_NE(past.rc, 0);
  EXPECT_NE(past.err.find("not in the future"), std::string::npos) << past.err;
}

TEST_F(CliTableTest, TableNamesAreUniquePerConnectionWithoutCaseAndReservedPrefixesRefused) {
  ASSERT_EQ(Run({"connection", "create", "other"}).rc, 0);
  const std::string order =
      Write("order.json", R"({"order_id":1,"line_items":[{"order_line_id":1}]})");
  auto nested =
      Run({"table", "add", "shop", "orders", "--nested", "--example", order, "--pk", "order_id"});
  ASSERT_EQ(nested.rc, 0) << nested.err;
  // The same name in another case, in the same connection.
  auto upper = Run({"table", "add", "shop", "ORDERS", "--pk", "id"});
  EXPECT_NE(upper.rc, 0);
  EXPECT_NE(upper.err.find("is taken by table 'orders'"), std::string::npos) << upper.err;
  // A derived table's name is taken too, in any case.
  auto derived = Run({"table", "add", "shop", "Orders_Line_Items", "--pk", "id"});
  EXPECT_NE(derived.rc, 0);
  EXPECT_NE(derived.err.find("(derived from 'orders')"), std::string::npos) << derived.err;
  // ...and a new nested table may not derive a name that exists.
  ASSERT_EQ(Run({"table", "add", "shop", "plain_items", "--pk", "id"}).rc, 0);
  const std::string plain = Write("plain.json", R"({"id":1,"items":[{"x":1}]})");
  auto clash = Run({"table", "add", "shop", "Plain", "--nested", "--example", plain, "--pk", "id"});
  EXPECT_NE(clash.rc, 0);
  EXPECT_NE(clash.err.find("is taken by table 'plain_items'"), std::string::npos) << clash.err;
  // Another connection is another namespace: every one of these names is free there.
  for (const char* free : {"Orders", "orders_line_items", "plain_items"}) {
    auto r = Run({"table", "add", "other", free, "--pk", "id"});
    EXPECT_EQ(r.rc, 0) << free << ": " << r.err;
  }
  // Updating a table keeps its own names.
  EXPECT_EQ(Run({"table", "update", "shop", "orders", "--on-error", "skip"}).rc, 0);
  for (const char* reserved : {"_sluice_applied", "_SLUICE", "sqlite_master"}) {
    auto r = Run({"table", "add", "shop", reserved, "--pk", "id"});
    EXPECT_NE(r.rc, 0) << reserved;
    EXPECT_NE(r.err.find("is reserved"), std::string::npos) << r.err;
  }
}

TEST_F(CliTest, RemoveRefusesWhileFilesWaitAndFreesTheName) {
  ASSERT_EQ(Sluice({"table", "add", "shop", "orders", "--pk", "id"}).rc, 0);
  const int64_t seq = Push("orders/a.json", "{\"id\": 1}\n");
  auto waiting = Sluice({"table", "remove", "shop", "orders"});
  EXPECT_NE(waiting.rc, 0);
  EXPECT_NE(waiting.err.find("queued or loading"), std::string::npos) << waiting.err;
  ASSERT_TRUE(catalog_->MarkLoading(seq).ok());
  ASSERT_TRUE(catalog_->MarkLoaded(seq, {1, 0, 0, 0}, 1).ok());
  auto removed = Sluice({"table", "remove", "shop", "orders"});
  ASSERT_EQ(removed.rc, 0) << removed.err;
  EXPECT_NE(removed.out.find("Table removed: shop/orders"), std::string::npos) << removed.out;
  EXPECT_NE(Sluice({"table", "remove", "shop", "orders"}).rc, 0);
  EXPECT_EQ(Sluice({"table", "add", "shop", "ORDERS", "--pk", "id"}).rc, 0);  // the name is free
}

TEST_F(CliTest, AdminUsersAreAddedWithAHashedPasswordAndManaged) {
  std::istringstream password("correct horse\n");
  std::streambuf* saved = std::cin.rdbuf(password.rdbuf());
  auto added = Sluice({"admin", "user", "add", "ada", "--role", "viewer", "--password-stdin"});
  std::cin.rdbuf(saved);
  ASSERT_EQ(added.rc, 0) << added.err;
  auto ada = catalog_->GetAdminUser("ada");
  ASSERT_TRUE(ada.ok() && ada->has_value());
  EXPECT_EQ((*ada)->role, catalog::AdminRole::kViewer);
  EXPECT_EQ((*ada)->password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ((*ada)->password_hash.find("correct horse"), std::string::npos);

  std::istringstream short_one("short\n");
  saved = std::cin.rdbuf(short_one.rdbuf());
  auto refused = Sluice({"admin", "user", "add", "bob", "--password-stdin"});
  std::cin.rdbuf(saved);
  EXPECT_NE(refused.rc, 0);
  EXPECT_NE(refused.err.find("at least 10"), std::string::npos) << refused.err;

  EXPECT_EQ(Sluice({"admin", "user", "set-role", "ada", "admin"}).rc, 0);
  EXPECT_EQ((*catalog_->GetAdminUser("ada"))->role, catalog::AdminRole::kAdmin);
  auto listed = Sluice({"admin", "user", "list", "--json"});
  ASSERT_EQ(listed.rc, 0) << listed.err;
  EXPECT_NE(listed.out.find("\"ada\""), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("argon2"), std::string::npos) << listed.out;
  EXPECT_EQ(Sluice({"admin", "user", "remove", "ada"}).rc, 0);
  EXPECT_NE(Sluice({"admin", "user", "remove", "ada"}).rc, 0);
}

}  // namespace
}  // namespace sluice::cli
