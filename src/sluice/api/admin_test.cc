// The admin side's access rules and paged listings, driven through the handler.
#include "sluice/api/admin.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "sluice/core/testing/temp_dir.h"
#include "sluice/landing/landing.h"

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
  }
  void TearDown() override { catalog_.reset(); }

  http::Response Get(http::Handler& handler, const std::string& target,
                     const std::string& authorization = "") {
    return Send(handler, "GET", target, authorization);
  }
  http::Response Post(http::Handler& handler, const std::string& target,
                      const std::string& authorization = "") {
    return Send(handler, "POST", target, authorization);
  }
  http::Response Send(http::Handler& handler, const std::string& method, const std::string& target,
                      const std::string& authorization) {
    http::RequestHead head;
    head.method = method;
    head.target = target;
    const size_t q = target.find('?');
    head.raw_path = target.substr(0, q);
    head.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!authorization.empty()) head.headers.emplace_back("Authorization", authorization);
    auto started = handler.Start(head);
    if (started.response) return std::move(*started.response);
    return started.exchange->Finish(Status::Ok());
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
  auto handler = MakeAdminHandler(*catalog_, Secret("s3cr3t-token"), metrics_, clock_,
                                  AdminOptions{.landing = landing_.get()});
  const http::Response doc = Get(*handler, "/api/v1/openapi.json");  // open: no token
  ASSERT_EQ(doc.status, 200) << doc.body;
  const nlohmann::json api = nlohmann::json::parse(doc.body, nullptr, false);
  ASSERT_FALSE(api.is_discarded());
  EXPECT_EQ(api["openapi"], "3.0.3");
  ASSERT_TRUE(api["paths"].is_object());
  EXPECT_GE(api["paths"].size(), 3u);
  Append("orders", 1);
  const std::map<std::string, std::string> values = {{"id", "shop"}, {"seq", "1"}};
  int operations = 0;
  for (const auto& [path, methods] : api["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      ++operations;
      std::string target = path;
      for (const auto& p : op["parameters"]) {
        if (p["in"] == "path") {
          const std::string name = "{" + p["name"].get<std::string>() + "}";
          target.replace(target.find(name), name.size(), values.at(p["name"]));
        }
      }
      if (method == "post") {
        // Served (the file's state decides between 200 and 409), and only with the token.
        const int status = Post(*handler, target, bearer_).status;
        EXPECT_TRUE(status == 200 || status == 409) << target << " " << status;
        EXPECT_EQ(Post(*handler, target).status, 401) << target;
        EXPECT_EQ(Post(*handler, target, "Bearer wrong").status, 401) << target;
        continue;
      }
      ASSERT_EQ(method, "get") << path;
      EXPECT_EQ(Get(*handler, target, bearer_).status, 200) << target;
      const bool open = op.contains("security") && op["security"].empty();
      EXPECT_EQ(Get(*handler, target).status, open ? 200 : 401) << target;
      EXPECT_EQ(Get(*handler, target, "Bearer wrong").status, open ? 200 : 401) << target;
      if (!open) {
        EXPECT_TRUE(op["responses"].contains("401")) << target;
      }
      // Each documented query parameter is accepted; an undocumented one is refused.
      for (const auto& p : op["parameters"]) {
        if (p["in"] != "query") continue;
        const std::string value = p["schema"]["type"] == "integer" ? "1" : "orders";
        EXPECT_EQ(Get(*handler, target + "?" + p["name"].get<std::string>() + "=" + value, bearer_)
                      .status,
                  200)
            << target << " " << p["name"];
      }
      if (!op["parameters"].empty()) {
        EXPECT_EQ(Get(*handler, target + "?undocumented=1", bearer_).status, 400) << target;
      }
    }
  }
  EXPECT_EQ(operations, 8);
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
  EXPECT_EQ(Get(*handler, "/api/v1/connections/shop", bearer_).status, 404);
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

}  // namespace
}  // namespace sluice::api
