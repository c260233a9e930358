// The /metrics page over a real catalog, landing store, SQLite pool, loader and S3 backend
// (loads run synchronously with Loader::LoadNext) and a fake clock: what the page says and that
// it is valid exposition text.
#include "sluice/api/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "sluice/store/store_testing.h"

namespace sluice::api {
namespace {

constexpr int64_t kSecond = 1'000'000;

// The backend feeds metrics_ as the server wires it (app.cc): the loader's events and the
// backend's uploads; the disk quota is counted but watched only where a test says so.
class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status opened = rig_.Open(clock_);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    dir_ = rig_.dir();
    catalog_ = rig_.catalog.get();
    store_ = rig_.landing.get();
    loader_ = rig_.loader.get();
    ASSERT_TRUE(catalog_->CreateConnection("shop").ok());
    ASSERT_TRUE(catalog_->CreateConnection("other").ok());
    ASSERT_TRUE(catalog_->AddTable({"shop", "orders", {"order_id"}}).ok());
    parquet_ = store::SeedOrdersParquet();
    ASSERT_FALSE(parquet_.empty());
    loader_->AddObserver(&metrics_);
    quota_ = std::make_unique<store::DiskQuota>(uint64_t{0});
    ASSERT_TRUE(quota_->Load(*catalog_).ok());
    store::BackendOptions options;
    options.metrics = &metrics_;
    options.quota = quota_.get();
    backend_ = std::make_unique<store::StoreBackend>(*catalog_, *store_, *loader_, clock_, options);
  }
  void TearDown() override {
    backend_.reset();
    rig_.Close();
  }

  // A PUT as the S3 layer makes it: BeginPut with the declared length, the body, Commit.
  Status Put(const std::string& bucket, const std::string& key, const std::string& body) {
    s3::PutRequest req{bucket, key, "application/x-parquet", {}, body.size()};
    SLUICE_ASSIGN_OR_RETURN(auto sink, backend_->BeginPut({AccessKeyId(), bucket, false}, req));
    SLUICE_RETURN_IF_ERROR(sink->Append(AsBytes(std::string_view(body))));
    return sink->Commit({body.size(), store::Md5Hex(body), ""}).status();
  }
  Status Put(const std::string& key, const std::string& body) { return Put("shop", key, body); }

  FakeClock clock_{1'800'000'000'000'000};  // first: outlives the rig
  store::StoreRig rig_{"metrics_test"};
  std::string dir_;
  catalog::Catalog* catalog_ = nullptr;
  landing::Store* store_ = nullptr;
  Metrics metrics_;
  load::Loader* loader_ = nullptr;
  std::unique_ptr<store::DiskQuota> quota_;
  std::unique_ptr<store::StoreBackend> backend_;
  std::string parquet_;
};

TEST_F(MetricsTest, BackpressureRefusalsAreCountedByLimit) {
  // What store::Backpressure reports when it refuses (store/flow_test.cc checks that it does).
  metrics_.OnRefused("shop", "bytes");
  metrics_.OnRefused("shop", "disk");
  auto page = metrics_.Render(*catalog_, clock_.NowMicros());
  ASSERT_TRUE(page.ok());
  EXPECT_NE(page->find("sluice_backpressure_refusals_total{connection=\"shop\",limit=\"bytes\"} 1"),
            std::string::npos)
      << *page;
  EXPECT_NE(page->find("sluice_backpressure_refusals_total{connection=\"shop\",limit=\"disk\"} 1"),
            std::string::npos);
}

TEST(PromEscapeTest, EscapesLabels) {
  EXPECT_EQ(PromEscape("plain"), "plain");
  EXPECT_EQ(PromEscape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST_F(MetricsTest, MetricsPageIsValidExpositionText) {
  ASSERT_TRUE(Put("orders/a.parquet", parquet_).ok());
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  ASSERT_TRUE(Put("orders/bad.parquet", "broken").ok());
  ASSERT_TRUE(*loader_->LoadNext({"shop", "orders"}));
  ASSERT_TRUE(Put("orders/b.parquet", parquet_).ok());
  clock_.Advance(90 * kSecond);
  auto page = metrics_.Render(*catalog_, clock_.NowMicros());
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  const std::string& text = *page;

  // Every sample belongs to a family announced by HELP then TYPE, and parses.
  const std::regex sample(
      R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$)re");
  std::set<std::string> typed;
  std::string last_help;
  std::istringstream lines(text);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("# HELP ")) {
      last_help = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(name, last_help);
      const std::string type = line.substr(8 + name.size());
      EXPECT_TRUE(type == "gauge" || type == "counter" || type == "histogram") << line;
      typed.insert(name);
      continue;
    }
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!typed.count(family) && family.ends_with(suffix)) {
        family = family.substr(0, family.size() - std::string(suffix).size());
      }
    }
    EXPECT_TRUE(typed.count(family)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 10);
  EXPECT_NE(text.find("sluice_backlog_files{connection=\"shop\",table=\"orders\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sluice_backlog_bytes{connection=\"shop\",table=\"orders\"} " +
                      std::to_string(parquet_.size()) + "\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("sluice_oldest_queued_age_seconds{connection=\"shop\",table=\"orders\"} 90\n"),
      std::string::npos);
  EXPECT_NE(text.find("sluice_files{connection=\"shop\",table=\"orders\",status=\"failed\","
                      "error_code=\"UNSUPPORTED_FORMAT\"} 1\n"),
            std::string::npos);
  // A loaded file is history: counted from the loader's events, not from the ledger.
  EXPECT_EQ(text.find("sluice_files{connection=\"shop\",table=\"orders\",status=\"loaded\""),
            std::string::npos);
  EXPECT_NE(text.find("sluice_files_finished_total{connection=\"shop\",table=\"orders\","
                      "status=\"loaded\",error_code=\"\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_files_finished_total{connection=\"shop\",table=\"orders\","
                      "status=\"failed\",error_code=\"UNSUPPORTED_FORMAT\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("sluice_load_duration_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_load_duration_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("sluice_received_files_total{connection=\"shop\"} 3\n"), std::string::npos);
  EXPECT_NE(
      text.find("sluice_rows_total{connection=\"shop\",table=\"orders\",outcome=\"inserted\"}"),
      std::string::npos);
  // Buckets are cumulative and end at the count.
  std::regex bucket(R"re(sluice_load_duration_seconds_bucket\{le="[^"]+"\} ([0-9]+))re");
  uint64_t previous = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), bucket);
       it != std::sregex_iterator(); ++it) {
    const uint64_t n = std::stoull((*it)[1]);
    EXPECT_GE(n, previous);
    previous = n;
  }
  EXPECT_EQ(previous, 1u);
}

TEST_F(MetricsTest, MetricsLabelsAreConfiguredNamesOnly) {
  // Keys a client chose, under prefixes that name no configured table (held by default): they
  // are counted per connection and never become a label.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Put("attacker_" + std::to_string(i) + "/x.parquet", parquet_).ok());
  }
  ASSERT_TRUE(Put("orders/a.parquet", parquet_).ok());
  auto page = metrics_.Render(*catalog_, clock_.NowMicros());
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->find("attacker_"), std::string::npos) << *page;
  EXPECT_NE(page->find("sluice_unconfigured_files{connection=\"shop\",status=\"failed\","
                       "error_code=\"TABLE_NOT_CONFIGURED\"} 5\n"),
            std::string::npos)
      << *page;
  EXPECT_NE(page->find("sluice_backlog_files{connection=\"shop\",table=\"orders\"} 1\n"),
            std::string::npos);
}

TEST_F(MetricsTest, MetricsShowUsageAndQuota) {
  ASSERT_TRUE(catalog_->SetConnectionQuota("shop", 5000).ok());
  ASSERT_TRUE(Put("shop", "orders/a.parquet", std::string(1234, 'a')).ok());
  Metrics metrics;
  metrics.WatchDiskQuota(quota_.get());
  auto page = metrics.Render(*catalog_, clock_.NowMicros());
  ASSERT_TRUE(page.ok());
  EXPECT_NE(page->find("sluice_connection_disk_bytes{connection=\"shop\"} 1234\n"),
            std::string::npos)
      << *page;
  EXPECT_NE(page->find("sluice_connection_disk_quota_bytes{connection=\"shop\"} 5000\n"),
            std::string::npos);
  EXPECT_EQ(page->find("sluice_connection_disk_quota_bytes{connection=\"other\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::api
