// The dispatcher on a real SQLite catalog and pool with a fake clock: conditions move once and
// come back, digests follow their schedule, failed deliveries follow the retry schedule.
#include <gtest/gtest.h>

#include <algorithm>

#include "sluice/alerts/alerts.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::alerts {
namespace {

constexpr int64_t kSecond = 1'000'000;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = catalog::Catalog::Open(tmp_.path(), FileSystem::Default(), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
    auto p = pool::OpenSqlitePool(tmp_.path() + "/pool", clock_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pool_ = std::move(p).value();
    ASSERT_TRUE(catalog_->CreateConnection("shop").ok());
    ASSERT_TRUE(catalog_->AddTable({"shop", "orders", {"id"}}).ok());
  }

  catalog::AlertEndpoint Make(std::vector<std::string> events) {
    catalog::AlertEndpoint e;
    e.name = "ops";
    e.target = "http://127.0.0.1:1/hook";  // nothing listens on port 1: refused at once
    e.events = std::move(events);
    return e;
  }

  int64_t Push(const std::string& key) {
    catalog::FileRecord r;
    r.connection_id = "shop";
    r.table = "orders";
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.size = 1;
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    r.metadata_json = "{}";
    r.received_at = clock_.NowMicros();
    auto seq = catalog_->AppendFile(r);
    EXPECT_TRUE(seq.ok());
    return seq.ok() ? *seq : 0;
  }

  std::vector<std::string> Types(const std::string& endpoint) {
    auto ds = catalog_->ListDeliveries(endpoint, 0, 100);
    EXPECT_TRUE(ds.ok());
    std::vector<std::string> out;
    for (auto it = ds->rbegin(); it != ds->rend(); ++it) out.push_back(it->event.type);
    return out;
  }

  testing::TempDir tmp_{"dispatcher_test"};
  FakeClock clock_{1'700'000'000'000'000};  // 2023-11-14T22:13:20Z
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<pool::Pool> pool_;
};

TEST_F(DispatcherTest, ABacklogLagsOnceAndRecovers) {
  catalog::AlertEndpoint e = Make({"backlog.lagging", "backlog.recovered"});
  e.lag_age_seconds = 60;
  auto made = CreateEndpoint(*catalog_, e, clock_);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Dispatcher d(*catalog_, *pool_, clock_, {});
  const int64_t seq = Push("orders/a.json");
  EXPECT_EQ(*d.Evaluate(), 0);
  clock_.Advance(61 * kSecond);
  EXPECT_EQ(*d.Evaluate(), 1);
  EXPECT_EQ(*d.Evaluate(), 0);  // still lagging: told once
  clock_.Advance(kSecond);      // the log lists events of one moment in no set order
  ASSERT_TRUE(catalog_->MarkLoading(seq).ok());
  ASSERT_TRUE(catalog_->MarkLoaded(seq, {1, 0, 0, 0}, clock_.NowMicros()).ok());
  EXPECT_EQ(*d.Evaluate(), 1);
  EXPECT_EQ(Types(made->endpoint.id),
            (std::vector<std::string>{"backlog.lagging", "backlog.recovered"}));
}

TEST_F(DispatcherTest, AnIdleTableIsToldOnceUntilAFileArrives) {
  catalog::AlertEndpoint e = Make({"table.idle"});
  e.idle_hours = 2;
  auto made = CreateEndpoint(*catalog_, e, clock_);
  ASSERT_TRUE(made.ok());
  Dispatcher d(*catalog_, *pool_, clock_, {});
  clock_.Advance(3600 * kSecond);
  EXPECT_EQ(*d.Evaluate(), 0);
  clock_.Advance(3601 * kSecond);
  EXPECT_EQ(*d.Evaluate(), 1);
  EXPECT_EQ(*d.Evaluate(), 0);
  Push("orders/b.json");
  EXPECT_EQ(*d.Evaluate(), 0);  // active again (no event for that)
  clock_.Advance(2 * 3600 * kSecond + kSecond);
  EXPECT_EQ(*d.Evaluate(), 1);
  EXPECT_EQ(Types(made->endpoint.id), (std::vector<std::string>{"table.idle", "table.idle"}));
}

TEST_F(DispatcherTest, DigestsFollowTheirSchedule) {
  catalog::AlertEndpoint e = Make({});
  e.digest = "hourly";
  auto made = CreateEndpoint(*catalog_, e, clock_);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->endpoint.events, (std::vector<std::string>{"digest"}));
  Dispatcher d(*catalog_, *pool_, clock_, {});
  EXPECT_EQ(*d.Evaluate(), 0);        // the first one is due at the next full hour (22:00 + 1 h)
  clock_.Advance(30 * 60 * kSecond);  // 22:43
  EXPECT_EQ(*d.Evaluate(), 0);
  clock_.Advance(17 * 60 * kSecond);  // 23:00:20
  EXPECT_EQ(*d.Evaluate(), 1);
  EXPECT_EQ(*d.Evaluate(), 0);
  clock_.Advance(3600 * kSecond);
  EXPECT_EQ(*d.Evaluate(), 1);
  auto ds = catalog_->ListDeliveries(made->endpoint.id, 0, 10);
  ASSERT_EQ(ds->size(), 2u);
  EXPECT_NE((*ds)[0].event.data_json.find("\"table\":\"orders\""), std::string::npos)
      << (*ds)[0].event.data_json;

  catalog::AlertEndpoint bad = Make({"digest"});
  EXPECT_EQ(CreateEndpoint(*catalog_, bad, clock_).status().code(), ErrorCode::kInvalidArgument);
  bad.digest = "every tuesday";
  EXPECT_EQ(CreateEndpoint(*catalog_, bad, clock_).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DispatcherTest, FailedAttemptsFollowTheRetryScheduleThenGiveUp) {
  auto made = CreateEndpoint(*catalog_, Make({"file.failed"}), clock_);
  ASSERT_TRUE(made.ok());
  Dispatcher d(*catalog_, *pool_, clock_, {.allow_private = true, .retry_seconds = {5, 30}});
  auto id = SendTest(*catalog_, made->endpoint.id, clock_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*d.DeliverDue(), 1);
  auto got = catalog_->GetDelivery(*id);
  EXPECT_EQ((*got)->status, catalog::DeliveryStatus::kPending);
  EXPECT_EQ((*got)->next_attempt_at, clock_.NowMicros() + 5 * kSecond);
  EXPECT_FALSE((*got)->last_error.empty());
  EXPECT_EQ(*d.DeliverDue(), 0);  // not due yet
  clock_.Advance(5 * kSecond);
  EXPECT_EQ(*d.DeliverDue(), 1);
  clock_.Advance(30 * kSecond);
  EXPECT_EQ(*d.DeliverDue(), 1);
  got = catalog_->GetDelivery(*id);
  EXPECT_EQ((*got)->status, catalog::DeliveryStatus::kFailed);
  EXPECT_EQ((*got)->attempts, 3);
}

TEST_F(DispatcherTest, PrivateTargetsAndMailNeedTheServersConsent) {
  auto hook = CreateEndpoint(*catalog_, Make({"file.failed"}), clock_);
  catalog::AlertEndpoint mail = Make({"file.failed"});
  mail.kind = catalog::AlertKind::kEmail;
  mail.target = "ops@example.com";
  auto mailed = CreateEndpoint(*catalog_, mail, clock_);
  ASSERT_TRUE(hook.ok() && mailed.ok()) << mailed.status().ToString();
  EXPECT_EQ(mailed->endpoint.format, catalog::AlertFormat::kEmail);
  EXPECT_TRUE(mailed->secret.empty());
  Dispatcher d(*catalog_, *pool_, clock_, {});
  auto a = SendTest(*catalog_, hook->endpoint.id, clock_);
  auto b = SendTest(*catalog_, mailed->endpoint.id, clock_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*d.DeliverDue(), 2);
  EXPECT_NE((*catalog_->GetDelivery(*a))->last_error.find("--alert-allow-private"),
            std::string::npos)
      << (*catalog_->GetDelivery(*a))->last_error;
  EXPECT_NE((*catalog_->GetDelivery(*b))->last_error.find("--smtp-url"), std::string::npos);

  mail.target = "not an address";
  EXPECT_EQ(CreateEndpoint(*catalog_, mail, clock_).status().code(), ErrorCode::kInvalidArgument);
  catalog::AlertEndpoint ftp = Make({"file.failed"});
  ftp.target = "ftp://example.com/x";
  EXPECT_EQ(CreateEndpoint(*catalog_, ftp, clock_).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::alerts
