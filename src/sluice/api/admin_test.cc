// The admin side's access rules and paged listings, driven through the handler.
#include "sluice/api/admin.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "sluice/alerts/alerts.h"
#include "sluice/api/admin_internal.h"
#include "sluice/core/testing/temp_dir.h"
#include "sluice/core/text.h"
#include "sluice/landing/landing.h"
#include "sluice/pool/pool.h"
#include "sluice/service/admins.h"

namespace sluice::api {
namespace {

namespace fs = std::filesystem;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    auto cat = catalog::Catalog::Open(dir_, FileSystem::Default(), clock_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(cat).value();
    ASSERT_TRUE(catalog_->CreateConnection("shop").ok());
    ASSERT_TRUE(catalog_->AddTable({"shop", "orders", {"id"}}).ok());
    landing_ = std::make_unique<landing::DirectoryStore>(FileSystem::Default(), dir_ + "/landing");
    ASSERT_TRUE(landing_->Init().ok());
    auto pool = pool::OpenSqlitePool(dir_ + "/pool", clock_);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(pool).value();
  }
  void TearDown() override {
    pool_.reset();
    catalog_.reset();
  }

  // A handler over every part the fixture has.
  std::unique_ptr<http::Handler> Handler() {
    return MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_,
                            AdminOptions{.landing = landing_.get(),
                                         .pool = pool_.get(),
                                         .s3_endpoint = "http://127.0.0.1:9999"});
  }

  http::Response Get(http::Handler& handler, const std::string& target,
                     const std::string& authorization = "") {
    return Send(handler, "GET", target, authorization);
  }
  http::Response Post(http::Handler& handler, const std::string& target,
                      const std::string& authorization = "", const std::string& body = "") {
    return Send(handler, "POST", target, authorization, body);
  }
  http::Response Send(http::Handler& handler, const std::string& method, const std::string& target,
                      const std::string& authorization, const std::string& body = "",
                      const http::HeaderList& headers = {}, bool tls = false) {
    http::RequestHead head;
    head.method = method;
    head.target = target;
    const size_t q = target.find('?');
    head.raw_path = target.substr(0, q);
    head.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!authorization.empty()) head.headers.emplace_back("Authorization", authorization);
    for (const auto& h : headers) head.headers.push_back(h);
    head.tls = tls;
    head.content_length = body.size();
    auto started = handler.Start(head);
    if (started.response) return std::move(*started.response);
    Status read = started.exchange->OnBody(AsBytes(body));
    return started.exchange->Finish(read);
  }

  // The JSON body of `r`, which must have `status`.
  static nlohmann::json Body(const http::Response& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  static std::string HeaderOf(const http::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  // Lands `body` in the test's landing store; its id.
  std::string Land(const std::string& body) {
    auto in = landing_->Begin();
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    EXPECT_TRUE((*in)->Append(AsBytes(body)).ok());
    auto id = (*in)->Commit();
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  void Append(const std::string& table, int n) {
    for (int i = 0; i < n; ++i) {
      catalog::FileRecord r;
      r.connection_id = "shop";
      r.table = table;
      r.key = table + "/" + std::to_string(i);
      r.landed_id = Land("{\"id\": " + std::to_string(i) + "}\n");
      r.size = 10;
      r.content_type = "application/x-ndjson";
      r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
      ASSERT_TRUE(catalog_->AppendFile(r).ok());
    }
  }

  testing::TempDir tmp_{"admin_test"};  // first: removed after everything using it
  FakeClock clock_{1'700'000'000'000'000};
  std::string dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<landing::DirectoryStore> landing_;
  std::unique_ptr<pool::Pool> pool_;
  Metrics metrics_;
  const std::string bearer_ = "Bearer s3cr3t-token";
};

TEST_F(AdminTest, MetricsTokenRequiresTheAdminToken) {
  auto open = MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_);
  EXPECT_EQ(Get(*open, "/metrics").status, 200);  // off: open like /healthz

  auto closed = MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_,
                                 AdminOptions{.metrics_token = true});
  const http::Response none = Get(*closed, "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(HeaderOf(none, "WWW-Authenticate"), "Bearer realm=\"sluice\"");
  EXPECT_EQ(none.body.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(Get(*closed, "/metrics", "Bearer wrong").status, 401);
  EXPECT_EQ(Get(*closed, "/metrics", "Bearer s3cr3t-token-and-more").status, 401);
  EXPECT_EQ(Get(*closed, "/metrics", "s3cr3t-token").status, 401);
  const http::Response ok = Get(*closed, "/metrics", bearer_);
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("# TYPE sluice_backlog_files gauge"), std::string::npos);
  EXPECT_EQ(Get(*closed, "/healthz").status, 200);  // health stays open
}

TEST_F(AdminTest, FilesArePagedWithALinkToTheNextPage) {
  Append("orders", 7);
  Append("events", 3);
  auto handler = MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_);
  std::vector<int64_t> seqs;
  std::string next = "/api/v1/connections/shop/files?table=orders&limit=3";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    const http::Response r = Get(*handler, next, bearer_);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = nlohmann::json::parse(r.body);
    ASSERT_TRUE(body.is_array());
    EXPECT_LE(body.size(), 3u);
    for (const auto& f : body) seqs.push_back(f["seq"].get<int64_t>());
    ++pages;
    const std::string link = HeaderOf(r, "Link");
    next = link.empty() ? "" : link.substr(1, link.find('>') - 1);
  }
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(pages, 3);

  const http::Response all = Get(*handler, "/api/v1/connections/shop/files", bearer_);
  EXPECT_EQ(nlohmann::json::parse(all.body).size(), 10u);
  EXPECT_EQ(HeaderOf(all, "Link"), "");
  const http::Response after = Get(*handler, "/api/v1/connections/shop/files?after=8", bearer_);
  EXPECT_EQ(nlohmann::json::parse(after.body).size(), 2u);

  for (const char* bad : {"limit=0", "limit=ten", "after=-1", "table=a%20b", "colour=red",
                          "limit=1000000000000000000000"}) {
    const http::Response r =
        Get(*handler, std::string("/api/v1/connections/shop/files?") + bad, bearer_);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  EXPECT_EQ(Get(*handler, "/api/v1/connections/nope/files", bearer_).status, 404);
  EXPECT_EQ(Get(*handler, "/api/v1/connections/shop/files").status, 401);
}

TEST_F(AdminTest, ConnectionsArePagedById) {
  for (const char* name : {"alpha", "beta", "gamma", "delta"}) {
    ASSERT_TRUE(catalog_->CreateConnection(name).ok());
  }
  auto handler = MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_);
  std::vector<std::string> ids;
  std::string next = "/api/v1/connections?limit=2";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    const http::Response r = Get(*handler, next, bearer_);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& c : nlohmann::json::parse(r.body)) ids.push_back(c["id"]);
    ++pages;
    const std::string link = HeaderOf(r, "Link");
    next = link.empty() ? "" : link.substr(1, link.find('>') - 1);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"alpha", "beta", "delta", "gamma", "shop"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(Get(*handler, "/api/v1/connections?after=Shop", bearer_).status, 400);
  EXPECT_EQ(Get(*handler, "/api/v1/connections?limit=0", bearer_).status, 400);
}

// /api/v1/openapi.json describes what the server serves: every documented operation answers
// (with the token; 401 without it unless it is documented as open), every $ref resolves, and a
// path it does not document is 404.
TEST_F(AdminTest, TheOpenApiDocumentMatchesTheRoutes) {
  auto handler = Handler();
  const http::Response doc = Get(*handler, "/api/v1/openapi.json");  // open: no token
  ASSERT_EQ(doc.status, 200) << doc.body;
  const nlohmann::json api = nlohmann::json::parse(doc.body, nullptr, false);
  ASSERT_FALSE(api.is_discarded());
  EXPECT_EQ(api["openapi"], "3.0.3");
  ASSERT_TRUE(api["paths"].is_object());
  EXPECT_GE(api["paths"].size(), 3u);
  Append("orders", 1);
  const std::map<std::string, std::string> values = {
      {"id", "shop"}, {"seq", "1"}, {"table", "orders"}, {"key", "SKNOSUCHKEY"}};
  catalog::AlertEndpoint hook;
  hook.name = "ops";
  hook.target = "https://hooks.example.com/x";
  hook.events = {"file.failed"};
  auto made = alerts::CreateEndpoint(*catalog_, hook, clock_);
  auto doomed = alerts::CreateEndpoint(*catalog_, hook, clock_);  // for the DELETE
  ASSERT_TRUE(made.ok() && doomed.ok()) << made.status().ToString();
  int operations = 0;
  for (const auto& [path, methods] : api["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      ++operations;
      std::string target = path;
      for (const auto& p : op["parameters"]) {
        if (p["in"] == "path") {
          const std::string name = "{" + p["name"].get<std::string>() + "}";
          const bool alert = path.starts_with("/api/v1/alerts/endpoints/");
          target.replace(target.find(name), name.size(),
                         !alert               ? values.at(p["name"])
                         : method == "delete" ? doomed->endpoint.id
                                              : made->endpoint.id);
        }
      }
      const bool open = op.contains("security") && op["security"].empty();
      if (method != "get") {
        // Served with the token (whatever the state and the empty body make of it), and
        // refused without it before anything is read or changed.
        const std::string m = AsciiUppered(method);
        if (open) {
          EXPECT_NE(Send(*handler, m, target, "").status, 401) << m << " " << target;
          continue;
        }
        EXPECT_EQ(Send(*handler, m, target, "").status, 401) << m << " " << target;
        EXPECT_EQ(Send(*handler, m, target, "Bearer wrong").status, 401) << m << " " << target;
        const http::Response r = Send(*handler, m, target, bearer_);
        EXPECT_NE(r.status, 405) << m << " " << target;
        EXPECT_EQ(r.body.find("no such endpoint"), std::string::npos) << m << " " << target;
        EXPECT_TRUE(op["responses"].contains("401")) << target;
        continue;
      }
      ASSERT_EQ(method, "get") << path;
      EXPECT_EQ(Get(*handler, target, bearer_).status, 200) << target;
      EXPECT_EQ(Get(*handler, target).status, open ? 200 : 401) << target;
      EXPECT_EQ(Get(*handler, target, "Bearer wrong").status, open ? 200 : 401) << target;
      if (!open) {
        EXPECT_TRUE(op["responses"].contains("401")) << target;
      }
      // Each documented query parameter is accepted; an undocumented one is refused.
      for (const auto& p : op["parameters"]) {
        if (p["in"] != "query") continue;
        const std::string value = p.contains("example") ? p["example"].get<std::string>()
                                  : p["schema"]["type"] == "integer" ? "1"
                                  : p["name"] == "connection"        ? "shop"
                                                                     : "orders";
        EXPECT_EQ(Get(*handler, target + "?" + p["name"].get<std::string>() + "=" + value, bearer_)
                      .status,
                  200)
            << target << " " << p["name"];
      }
      EXPECT_EQ(Get(*handler, target + "?undocumented=1", bearer_).status, open ? 200 : 400)
          << target;
    }
  }
  EXPECT_EQ(operations, 37);
  // Every reference names a schema of the document.
  std::vector<std::string> refs;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (k == "$ref") refs.push_back(v.get<std::string>());
        walk(v);
      }
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(api);
  EXPECT_FALSE(refs.empty());
  for (const std::string& ref : refs) {
    const std::string prefix = "#/components/schemas/";
    ASSERT_EQ(ref.rfind(prefix, 0), 0u) << ref;
    EXPECT_TRUE(api["components"]["schemas"].contains(ref.substr(prefix.size()))) << ref;
  }
  // A documented path with another method: 405 naming the allowed one.
  const http::Response wrong = Get(*handler, "/api/v1/connections/shop/files/1/skip", bearer_);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(HeaderOf(wrong, "Allow"), "POST");
  // Not documented, not served; and without the token nothing tells which paths exist.
  EXPECT_EQ(Get(*handler, "/api/v1/connections/shop/nothing", bearer_).status, 404);
  EXPECT_EQ(Get(*handler, "/api/v1/connections/shop/files/", bearer_).status, 404);
  EXPECT_EQ(Get(*handler, "/api/v1/nope").status, 401);
}

// Retry and skip through the API: the same rules and sentences as `sluice files retry|skip`
// (service::ApplyFileAction), on the connection's own files only.
TEST_F(AdminTest, FilesAreRetriedAndSkippedOverTheApi) {
  auto handler = MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_,
                                  AdminOptions{.landing = landing_.get()});
  Append("orders", 2);
  ASSERT_TRUE(catalog_->MarkLoading(1).ok());
  ASSERT_TRUE(catalog_->MarkFailed(1, Err(ErrorCode::kCorruptFile, "bad bytes")).ok());
  const std::string file = "/api/v1/connections/shop/files/1";

  http::Response r = Post(*handler, file + "/skip", bearer_);
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["status"], "skipped");
  EXPECT_EQ(body["message"], "File 1 skipped; its table moves on to the next file.");

  r = Post(*handler, file + "/retry", bearer_);  // skipped: only forced
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("--force"), std::string::npos) << r.body;
  EXPECT_EQ(Post(*handler, file + "/retry?force=maybe", bearer_).status, 400);
  r = Post(*handler, file + "/retry?force=true", bearer_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["status"], "queued");
  EXPECT_EQ(Post(*handler, file + "/skip", bearer_).status, 409);  // queued: not failed
  EXPECT_EQ(Post(*handler, file + "/skip?force=true", bearer_).status, 400);

  // Another connection's file, an unknown one and a malformed number.
  ASSERT_TRUE(catalog_->CreateConnection("other").ok());
  EXPECT_EQ(Post(*handler, "/api/v1/connections/other/files/1/skip", bearer_).status, 404);
  EXPECT_EQ(Post(*handler, "/api/v1/connections/shop/files/99/skip", bearer_).status, 404);
  EXPECT_EQ(Post(*handler, "/api/v1/connections/shop/files/x1/skip", bearer_).status, 400);
  EXPECT_EQ(catalog_->GetFile(1)->value().status, catalog::FileStatus::kQueued);

  // One file, and its bytes with their type and a safe file name.
  r = Get(*handler, file, bearer_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["key"], "orders/0");
  r = Get(*handler, file + "/content", bearer_);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(r.file, nullptr);
  EXPECT_EQ(r.file_length, 10u);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(r.file->ReadAt(0, r.file_length, &bytes).ok());
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{\"id\": 0}\n");
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-ndjson");
  EXPECT_EQ(HeaderOf(r, "Content-Disposition"), "attachment; filename=\"0\"");
  EXPECT_EQ(Get(*handler, file + "/content").status, 401);
  EXPECT_EQ(Get(*handler, "/api/v1/connections/other/files/1/content", bearer_).status, 404);

  // The errors page groups what is failed and not passed.
  ASSERT_TRUE(catalog_->MarkLoading(2).ok());
  ASSERT_TRUE(catalog_->MarkFailed(2, Err(ErrorCode::kPkNull, "row 3: id is null")).ok());
  r = Get(*handler, "/api/v1/connections/shop/errors", bearer_);
  ASSERT_EQ(r.status, 200) << r.body;
  body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body.size(), 1u) << r.body;
  EXPECT_EQ(body[0]["table"], "orders");
  EXPECT_EQ(body[0]["error_code"], "PK_NULL");
  EXPECT_EQ(body[0]["files"], 1);
  EXPECT_EQ(body[0]["newest"]["seq"], 2);
  EXPECT_EQ(body[0]["newest"]["error_message"], "row 3: id is null");
  EXPECT_EQ(Get(*handler, "/api/v1/connections/nope/errors", bearer_).status, 404);
}

// Connections and keys over the API: the secret shown once, the settings changed, keys
// rotated and revoked, with the catalog's refusals as 4xx answers.
TEST_F(AdminTest, ConnectionsAndKeysAreManagedOverTheApi) {
  auto handler = Handler();
  nlohmann::json created =
      Body(Post(*handler, "/api/v1/connections", bearer_, R"({"name": "Web Shop"})"), 201);
  EXPECT_EQ(created["bucket"], "web-shop");
  EXPECT_EQ(created["connection"]["name"], "Web Shop");
  EXPECT_EQ(created["endpoint"], "http://127.0.0.1:9999");
  EXPECT_EQ(created["secret_access_key"].get<std::string>().size(), 40u);
  const std::string first_key = created["access_key_id"];
  EXPECT_EQ(Post(*handler, "/api/v1/connections", bearer_, R"({"name": "Web Shop"})").status, 409);
  EXPECT_EQ(Post(*handler, "/api/v1/connections", bearer_, R"({"nam": "x"})").status, 400);
  EXPECT_EQ(Post(*handler, "/api/v1/connections", bearer_, R"({"name": 1})").status, 400);
  EXPECT_EQ(Post(*handler, "/api/v1/connections", bearer_, "[1]").status, 400);
  EXPECT_EQ(Post(*handler, "/api/v1/connections", bearer_, "{").status, 400);

  nlohmann::json shown = Body(Get(*handler, "/api/v1/connections/web-shop", bearer_), 200);
  EXPECT_EQ(shown["unconfigured_keys"], "hold");
  EXPECT_TRUE(shown["quota_bytes"].is_null());
  EXPECT_EQ(shown["disk_bytes"], 0);
  EXPECT_EQ(shown["tables"], nlohmann::json::array());
  EXPECT_EQ(Get(*handler, "/api/v1/connections/nope", bearer_).status, 404);

  const std::string conn = "/api/v1/connections/web-shop";
  nlohmann::json changed = Body(
      Send(*handler, "PATCH", conn, bearer_, R"({"unconfigured_keys": "store", "quota_bytes": 0})"),
      200);
  EXPECT_EQ(changed["unconfigured_keys"], "store");
  EXPECT_EQ(changed["quota_bytes"], 0);
  changed = Body(Send(*handler, "PATCH", conn, bearer_, R"({"quota_bytes": null})"), 200);
  EXPECT_TRUE(changed["quota_bytes"].is_null());
  EXPECT_EQ(changed["unconfigured_keys"], "store");  // untouched
  EXPECT_EQ(Send(*handler, "PATCH", conn, bearer_, R"({"unconfigured_keys": "drop"})").status, 400);
  EXPECT_EQ(Send(*handler, "PATCH", conn, bearer_, R"({"quota_bytes": -1})").status, 400);
  EXPECT_EQ(Send(*handler, "PATCH", conn, bearer_, R"({"owner": "me"})").status, 400);
  EXPECT_EQ(Send(*handler, "PATCH", "/api/v1/connections/nope", bearer_, "{}").status, 404);

  // Rotation: a second key beside the first, with an expiry; then the first revoked.
  nlohmann::json rotated = Body(Post(*handler, "/api/v1/credentials", bearer_,
                                     R"({"connection": "web-shop", "expires_in_seconds": 3600})"),
                                201);
  EXPECT_EQ(rotated["connection"], "web-shop");
  EXPECT_EQ(rotated["expires_at"], FormatIsoMicros(clock_.NowMicros() + 3600'000'000));
  EXPECT_FALSE(rotated["secret_access_key"].get<std::string>().empty());
  nlohmann::json keys =
      Body(Get(*handler, "/api/v1/credentials?connection=web-shop", bearer_), 200);
  ASSERT_EQ(keys.size(), 2u);
  for (const auto& k : keys) {
    EXPECT_FALSE(k.contains("secret_access_key"));
    EXPECT_EQ(k["state"], "active");
  }
  EXPECT_EQ(Get(*handler, "/api/v1/credentials?connection=nope", bearer_).status, 404);
  const std::string revoke = "/api/v1/credentials/" + first_key + "/revoke";
  EXPECT_EQ(Body(Post(*handler, revoke, bearer_), 200)["state"], "revoked");
  EXPECT_EQ(Post(*handler, revoke, bearer_).status, 409);
  EXPECT_EQ(Post(*handler, "/api/v1/credentials/SKNOSUCHKEY/revoke", bearer_).status, 404);
  auto lookup = catalog_->LookupAccessKey(AccessKeyId(first_key));
  ASSERT_TRUE(lookup.ok());
  EXPECT_FALSE(lookup->has_value() && (*lookup)->active);

  // An account key reaches every bucket.
  nlohmann::json account = Body(Post(*handler, "/api/v1/credentials", bearer_, "{}"), 201);
  EXPECT_TRUE(account["connection"].is_null());
  EXPECT_EQ(Post(*handler, "/api/v1/credentials", bearer_, R"({"expires_in_seconds": 0})").status,
            400);
  EXPECT_EQ(Post(*handler, "/api/v1/credentials", bearer_, R"({"connection": "nope"})").status,
            404);
  // No backend in this handler: deleting is not available, and says so.
  EXPECT_EQ(Send(*handler, "DELETE", conn, bearer_).status, 501);
}

// Tables over the API: the same configuration documents as `sluice table add --config`, checked
// in full before anything is stored, previewed without being stored, replaced and removed.
TEST_F(AdminTest, TablesAreConfiguredPreviewedAndRemovedOverTheApi) {
  auto handler = Handler();
  const std::string tables = "/api/v1/connections/shop/tables";
  const std::string nested = R"({"table": "orders_nested", "primary_key": "order_id",
      "example": {"order_id": 1, "customer": {"name": "a"},
                  "line_items": [{"sku": "x", "qty": 2}]},
      "children": {"line_items": {"primary_key": ["sku"]}}})";
  // The preview stores nothing, and names the derived tables as the pool will.
  nlohmann::json preview = Body(Post(*handler, tables + "/preview", bearer_, nested), 200);
  EXPECT_EQ(preview["conflict"], "");
  ASSERT_EQ(preview["tables"].size(), 2u) << preview.dump();
  EXPECT_EQ(preview["tables"][0]["name"], "orders_nested");
  EXPECT_EQ(preview["tables"][1]["name"], "orders_nested_line_items");
  EXPECT_EQ(preview["tables"][1]["mode"], "upsert");
  EXPECT_EQ(preview["tables"][1]["foreign_key"], nlohmann::json({"orders_nested_order_id"}));
  EXPECT_FALSE(catalog_->GetTable("shop", "orders_nested")->has_value());

  nlohmann::json added = Body(Post(*handler, tables, bearer_, nested), 201);
  EXPECT_TRUE(added["nested"]);
  EXPECT_EQ(added["config"]["children"]["line_items"]["primary_key"], nlohmann::json({"sku"}));
  EXPECT_TRUE(catalog_->GetTable("shop", "orders_nested")->has_value());
  EXPECT_EQ(Post(*handler, tables, bearer_, nested).status, 409);
  // A name that differs only in case from a derived one is taken, and the preview says so.
  const std::string clash = R"({"table": "Orders_Nested_Line_Items", "primary_key": "id"})";
  EXPECT_NE(Body(Post(*handler, tables + "/preview", bearer_, clash), 200)["conflict"], "");
  EXPECT_EQ(Post(*handler, tables, bearer_, clash).status, 409);
  // Refused with the reason: a key that is not in the example, an unknown member, no key.
  nlohmann::json bad = Body(Post(*handler, tables, bearer_,
                                 R"({"table": "t", "primary_key": "nope", "example": {"id": 1}})"),
                            400);
  EXPECT_NE(bad["error"].get<std::string>().find("nope"), std::string::npos) << bad.dump();
  EXPECT_EQ(Post(*handler, tables, bearer_, R"({"table": "t", "pk": "id"})").status, 400);
  EXPECT_EQ(Post(*handler, tables, bearer_, R"({"table": "t"})").status, 400);
  EXPECT_EQ(Post(*handler, "/api/v1/connections/nope/tables", bearer_, clash).status, 404);

  // Listed and shown with their configuration; replaced whole by PUT.
  nlohmann::json listed = Body(Get(*handler, tables, bearer_), 200);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["table"], "orders");
  EXPECT_EQ(Body(Get(*handler, tables + "/orders", bearer_), 200)["config"]["primary_key"],
            nlohmann::json({"id"}));
  nlohmann::json replaced =
      Body(Send(*handler, "PUT", tables + "/orders", bearer_,
                R"({"primary_key": ["id", "region"], "age_column": "v", "on_error": "skip"})"),
           200);
  EXPECT_EQ(replaced["config"]["primary_key"], nlohmann::json({"id", "region"}));
  EXPECT_EQ(replaced["on_error"], "skip");
  auto stored = catalog_->GetTable("shop", "orders");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->age_column, "v");
  EXPECT_EQ(Send(*handler, "PUT", tables + "/orders", bearer_,
                 R"({"table": "other", "primary_key": "id"})")
                .status,
            400);
  EXPECT_EQ(Send(*handler, "PUT", tables + "/nope", bearer_, R"({"primary_key": "id"})").status,
            404);

  // Removed only when none of its files waits; the history of an unloaded table is empty.
  EXPECT_EQ(Body(Get(*handler, tables + "/orders/history", bearer_), 200), nlohmann::json::array());
  Append("orders", 1);
  EXPECT_EQ(Send(*handler, "DELETE", tables + "/orders", bearer_).status, 409);
  ASSERT_TRUE(catalog_->MarkLoading(1).ok());
  ASSERT_TRUE(catalog_->MarkFailed(1, Err(ErrorCode::kCorruptFile, "bad")).ok());
  EXPECT_EQ(Send(*handler, "DELETE", tables + "/orders", bearer_).status, 200);
  EXPECT_EQ(Get(*handler, tables + "/orders", bearer_).status, 404);
  EXPECT_EQ(Send(*handler, "DELETE", tables + "/orders", bearer_).status, 404);
  EXPECT_EQ(Get(*handler, tables + "/orders/history", bearer_).status, 404);
}

// A preview planned for a landed file: its records' fields become the columns shown.
TEST_F(AdminTest, APreviewReadsTheRecordTypeOfALandedFile) {
  auto handler = Handler();
  catalog::FileRecord r;
  r.connection_id = "shop";
  r.table = "orders";
  r.key = "orders/a.json";
  r.landed_id = Land(R"({"id": 1, "name": "a", "price": 2.5, "at": "2026-01-02T03:04:05Z"})"
                     "\n");
  r.size = 60;
  ASSERT_TRUE(catalog_->AppendFile(r).ok());
  nlohmann::json preview = Body(Post(*handler, "/api/v1/connections/shop/tables/preview?file=1",
                                     bearer_, R"({"table": "orders", "primary_key": "id"})"),
                                200);
  const nlohmann::json& columns = preview["tables"][0]["columns"];
  ASSERT_EQ(columns.size(), 4u) << preview.dump();
  EXPECT_EQ(columns[0], nlohmann::json({{"name", "id"}, {"type", "BIGINT"}}));
  EXPECT_EQ(columns[2], nlohmann::json({{"name", "price"}, {"type", "DOUBLE"}}));
  EXPECT_EQ(Post(*handler, "/api/v1/connections/shop/tables/preview?file=9", bearer_,
                 R"({"table": "orders", "primary_key": "id"})")
                .status,
            404);
  EXPECT_EQ(Post(*handler, "/api/v1/connections/shop/tables/preview?file=x", bearer_,
                 R"({"table": "orders", "primary_key": "id"})")
                .status,
            400);
}

// The SQL console reads and only reads, within its row limit.
TEST_F(AdminTest, TheSqlConsoleIsReadOnlyAndBounded) {
  auto handler = Handler();
  const std::string counting =
      R"({"sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT x, NULL AS n FROM c", "max_rows": 3})";
  nlohmann::json result = Body(Post(*handler, "/api/v1/query", bearer_, counting), 200);
  EXPECT_EQ(result["columns"], nlohmann::json({"x", "n"}));
  ASSERT_EQ(result["rows"].size(), 3u);
  EXPECT_EQ(result["rows"][2], nlohmann::json({"3", nullptr}));
  EXPECT_TRUE(result["truncated"]);
  nlohmann::json refused = Body(
      Post(*handler, "/api/v1/query", bearer_, R"({"sql": "CREATE TABLE t AS SELECT 1"})"), 400);
  EXPECT_EQ(refused["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(
      Post(*handler, "/api/v1/query", bearer_, R"({"sql": "SELECT 1", "max_rows": 0})").status,
      400);
  EXPECT_EQ(Post(*handler, "/api/v1/query", bearer_, R"({"sql": "SELECT 1", "timeout_ms": 600000})")
                .status,
            400);
  EXPECT_EQ(Post(*handler, "/api/v1/query", bearer_, R"({"query": "SELECT 1"})").status, 400);
  EXPECT_EQ(Post(*handler, "/api/v1/query", bearer_, R"({"sql": "SELEKT"})").status, 400);
}

// Live status: every configured table's state, backlog and open errors.
TEST_F(AdminTest, StatusShowsBlockedLoadingAndIdleTables) {
  auto handler = Handler();
  ASSERT_TRUE(catalog_->AddTable({"shop", "customers", {"id"}}).ok());
  ASSERT_TRUE(catalog_->AddTable({"shop", "items", {"id"}}).ok());
  Append("orders", 2);     // 1, 2
  Append("customers", 1);  // 3
  Append("stray", 1);      // 4: no configured table
  ASSERT_TRUE(catalog_->MarkLoading(3).ok());
  ASSERT_TRUE(catalog_->MarkFailed(3, Err(ErrorCode::kPkNull, "row 1")).ok());
  clock_.Advance(5'000'000);
  nlohmann::json status = Body(Get(*handler, "/api/v1/status", bearer_), 200);
  std::map<std::string, nlohmann::json> by_table;
  for (const auto& t : status["tables"]) by_table[t["table"]] = t;
  ASSERT_EQ(by_table.size(), 3u) << status.dump();
  EXPECT_EQ(by_table["orders"]["state"], "loading");
  EXPECT_EQ(by_table["orders"]["backlog_files"], 2);
  EXPECT_DOUBLE_EQ(by_table["orders"]["oldest_pending_seconds"].get<double>(), 5.0);
  EXPECT_EQ(by_table["customers"]["state"], "blocked");
  EXPECT_EQ(by_table["customers"]["errors_by_code"], nlohmann::json({{"PK_NULL", 1}}));
  EXPECT_EQ(by_table["items"]["state"], "idle");
  EXPECT_TRUE(by_table["items"]["oldest_pending_seconds"].is_null());
  EXPECT_EQ(status["open_errors"], 1);
  EXPECT_EQ(status["backlog_files"], 2);
  EXPECT_EQ(status["unconfigured_files"], 1);
}

// A body is bounded: a route without one takes at most a few bytes, a JSON route 1 MiB.
TEST_F(AdminTest, RequestBodiesAreBounded) {
  auto handler = Handler();
  EXPECT_EQ(Post(*handler, "/api/v1/connections/shop/files/1/skip", bearer_, std::string(2000, 'x'))
                .status,
            413);
  EXPECT_EQ(Post(*handler, "/api/v1/connections", bearer_, std::string((1 << 20) + 1, ' ')).status,
            413);
  // Without the token a body is never read: 401 first.
  EXPECT_EQ(Post(*handler, "/api/v1/connections", "", R"({"name": "x"})").status, 401);
  http::Response r = Post(*handler, "/api/v1/connections", bearer_, R"({"name": "xyz"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
}

// People log in: an HttpOnly, SameSite=Strict cookie, a CSRF token on every write, viewers
// only look, logout ends the session, and repeated failures lock the user out.
TEST_F(AdminTest, PeopleLogInAndTheirWritesCarryTheCsrfToken) {
  auto handler = Handler();
  const int64_t now = clock_.NowMicros();
  ASSERT_TRUE(
      service::AddAdminUser(*catalog_, "ada", catalog::AdminRole::kAdmin, "correct horse", now)
          .ok());
  ASSERT_TRUE(
      service::AddAdminUser(*catalog_, "vic", catalog::AdminRole::kViewer, "battery staple", now)
          .ok());
  EXPECT_EQ(
      Post(*handler, "/api/v1/session", "", R"({"user": "ada", "password": "nope nope"})").status,
      401);
  http::Response login =
      Post(*handler, "/api/v1/session", "", R"({"user": "ada", "password": "correct horse"})");
  nlohmann::json session = Body(login, 200);
  EXPECT_EQ(session["user"], "ada");
  EXPECT_EQ(session["role"], "admin");
  const std::string csrf = session["csrf_token"];
  const std::string set_cookie = HeaderOf(login, "Set-Cookie");
  EXPECT_NE(set_cookie.find("; HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("; SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << set_cookie;  // not over TLS
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const http::HeaderList with_cookie = {{"Cookie", "theme=dark; " + cookie}};
  const http::HeaderList with_csrf = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  const http::HeaderList forged = {{"Cookie", cookie}, {"X-CSRF-Token", std::string(64, '0')}};

  EXPECT_EQ(Send(*handler, "GET", "/api/v1/connections", "", "", with_cookie).status, 200);
  EXPECT_EQ(Body(Send(*handler, "GET", "/api/v1/session", "", "", with_cookie), 200)["csrf_token"],
            csrf);
  const std::string create = R"({"name": "from-the-console"})";
  EXPECT_EQ(Send(*handler, "POST", "/api/v1/connections", "", create, with_cookie).status, 403);
  EXPECT_EQ(Send(*handler, "POST", "/api/v1/connections", "", create, forged).status, 403);
  EXPECT_FALSE(catalog_->GetConnection("from-the-console")->has_value());
  EXPECT_EQ(Send(*handler, "POST", "/api/v1/connections", "", create, with_csrf).status, 201);

  // A viewer reads and queries, and changes nothing.
  http::Response vlogin =
      Post(*handler, "/api/v1/session", "", R"({"user": "vic", "password": "battery staple"})");
  const std::string vset = HeaderOf(vlogin, "Set-Cookie");
  const nlohmann::json viewer = Body(vlogin, 200);
  EXPECT_EQ(viewer["role"], "viewer");
  const std::string vcsrf = viewer["csrf_token"];
  const http::HeaderList as_viewer = {{"Cookie", vset.substr(0, vset.find(';'))},
                                      {"X-CSRF-Token", vcsrf}};
  EXPECT_EQ(Send(*handler, "GET", "/api/v1/status", "", "", as_viewer).status, 200);
  EXPECT_EQ(Send(*handler, "POST", "/api/v1/query", "", R"({"sql": "SELECT 1"})", as_viewer).status,
            200);
  http::Response refused =
      Send(*handler, "POST", "/api/v1/connections", "", R"({"name": "viewer-made"})", as_viewer);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("viewer"), std::string::npos);
  EXPECT_EQ(Send(*handler, "DELETE", "/api/v1/connections/shop", "", "", as_viewer).status, 403);

  // Logout ends the session everywhere and removes the cookie.
  http::Response out = Send(*handler, "DELETE", "/api/v1/session", "", "", with_csrf);
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(HeaderOf(out, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Send(*handler, "GET", "/api/v1/connections", "", "", with_cookie).status, 401);

  // Over TLS the cookie is Secure.
  http::Response secure = Send(*handler, "POST", "/api/v1/session", "",
                               R"({"user": "ada", "password": "correct horse"})", {}, true);
  EXPECT_NE(HeaderOf(secure, "Set-Cookie").find("; Secure"), std::string::npos);

  // Repeated failures lock the user out, with a Retry-After.
  for (int64_t i = 0; i < service::kLockoutAfter; ++i) {
    EXPECT_EQ(Post(*handler, "/api/v1/session", "", R"({"user": "ada", "password": "guess guess"})")
                  .status,
              401);
  }
  http::Response locked =
      Post(*handler, "/api/v1/session", "", R"({"user": "ada", "password": "correct horse"})");
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(HeaderOf(locked, "Retry-After"), "30");
  EXPECT_EQ(locked.body.find("correct horse"), std::string::npos);
}

// The ledger filtered over the API: statuses, error code, received_at, one table, newest first;
// each page's Link header carries the query on to the next page, and a bad value is refused
// naming the parameter and what it takes.
TEST_F(AdminTest, FilesAreFilteredAndPagedBothWays) {
  auto handler = MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_);
  const int64_t t0 = 1'796'637'600'000'000;  // 2026-12-07T10:00:00Z
  auto append = [&](const std::string& table, int64_t received_at) {
    catalog::FileRecord r;
    r.connection_id = "shop";
    r.table = table;
    r.key = table + "/" + std::to_string(received_at);
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    r.received_at = received_at;
    auto seq = catalog_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  };
  auto fail = [&](int64_t seq, ErrorCode code) {
    ASSERT_TRUE(catalog_->MarkLoading(seq).ok());
    ASSERT_TRUE(catalog_->MarkFailed(seq, Err(code, "bad")).ok());
  };
  const int64_t loaded = append("orders", t0 - 60'000'000);
  const int64_t pk_null = append("orders", t0 + 10'000'000);
  const int64_t skipped = append("events", t0 + 5'000'000);
  const int64_t queued = append("orders", t0 + 20'000'000);
  const int64_t pk_null2 = append("events", t0 + 30'000'000);
  const int64_t late = append("orders", t0 + 3'600'000'000);
  ASSERT_TRUE(catalog_->MarkLoading(loaded).ok());
  ASSERT_TRUE(catalog_->MarkLoaded(loaded, {}, t0).ok());
  fail(pk_null, ErrorCode::kPkNull);
  fail(skipped, ErrorCode::kCorruptFile);
  ASSERT_TRUE(catalog_->Skip(skipped).ok());
  fail(pk_null2, ErrorCode::kPkNull);
  fail(late, ErrorCode::kPkNull);

  // Every page from `first` on, following the Link headers: the seqs, and the links seen.
  struct Walked {
    std::vector<int64_t> seqs;
    std::vector<std::string> links;
  };
  auto walk = [&](const std::string& first) {
    Walked w;
    std::string next = "/api/v1/connections/shop/files" + first;
    while (!next.empty() && w.links.size() < 20) {
      const http::Response r = Get(*handler, next, bearer_);
      EXPECT_EQ(r.status, 200) << next << ": " << r.body;
      if (r.status != 200) break;
      for (const auto& f : nlohmann::json::parse(r.body)) w.seqs.push_back(f["seq"]);
      const std::string link = HeaderOf(r, "Link");
      next = link.empty() ? "" : link.substr(1, link.find('>') - 1);
      if (!next.empty()) w.links.push_back(next);
    }
    return w;
  };

  const Walked newest = walk("?status=failed%2Cskipped&order=desc&limit=1");
  EXPECT_EQ(newest.seqs, (std::vector<int64_t>{late, pk_null2, skipped, pk_null}));
  ASSERT_EQ(newest.links.size(), 3u);
  EXPECT_EQ(newest.links[0],
            "/api/v1/connections/shop/files?status=failed,skipped&order=desc&before=" +
                std::to_string(late) + "&limit=1");
  // received_at in [since, until), as ISO 8601 (':' escaped or not) or micros; the Link
  // carries micros.
  const Walked window =
      walk("?since=2026-12-07T10%3A00%3A00Z&until=2026-12-07T10:00:30.000000Z&limit=1");
  EXPECT_EQ(window.seqs, (std::vector<int64_t>{pk_null, skipped, queued}));
  ASSERT_FALSE(window.links.empty());
  EXPECT_NE(window.links[0].find("since=" + std::to_string(t0) +
                                 "&until=" + std::to_string(t0 + 30'000'000)),
            std::string::npos)
      << window.links[0];
  EXPECT_EQ(walk("?since=2026-12-07&until=2026-12-07T10:00:25Z&table=orders&order=desc").seqs,
            (std::vector<int64_t>{queued, pk_null, loaded}));
  EXPECT_EQ(walk("?since=" + std::to_string(t0 + 3'600'000'000)).seqs,
            (std::vector<int64_t>{late}));
  EXPECT_EQ(walk("?error_code=PK_NULL&after=" + std::to_string(pk_null) + "&limit=1").seqs,
            (std::vector<int64_t>{pk_null2, late}));
  EXPECT_EQ(walk("?error_code=PK_NULL&order=desc&after=" + std::to_string(pk_null) +
                 "&before=" + std::to_string(late))
                .seqs,
            (std::vector<int64_t>{pk_null2}));
  EXPECT_EQ(walk("?status=skipped&error_code=CORRUPT_FILE&table=events").seqs,
            (std::vector<int64_t>{skipped}));
  EXPECT_EQ(walk("?status=queued,loading&table=events").seqs, (std::vector<int64_t>{}));
  const http::Response one = Get(*handler, "/api/v1/connections/shop/files?status=queued", bearer_);
  const auto body = Body(one, 200);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["status"], "queued");
  EXPECT_EQ(body[0]["received_at"], "2026-12-07T10:00:20.000000Z");

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"status=done", "'status': use status=<status>[,<status>...]"},
      {"status=failed,", "'status'"},
      {"error_code=pk_null", "'error_code'"},
      {"since=2026-02-30", "'since'"},
      {"since=2026-12-07T10:00Z", "'since'"},
      {"until=yesterday", "'until'"},
      {"since=2026-12-07T11:00:00Z&until=2026-12-07T10:00:00Z", "'until': use until=<a time after"},
      {"order=newest", "'order': use order=asc or order=desc"},
      {"before=0", "'before'"},
      {"after=%zz", "'after'"},
      {"sort=desc", "use table, status, error_code, since, until, order, after, before or limit"},
  };
  for (const auto& [query, says] : bad) {
    const http::Response r = Get(*handler, "/api/v1/connections/shop/files?" + query, bearer_);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_NE(Body(r, 400)["error"].get<std::string>().find(says), std::string::npos)
        << query << ": " << r.body;
  }
}

}  // namespace
}  // namespace sluice::api
