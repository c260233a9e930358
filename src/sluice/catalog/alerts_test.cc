// Alert endpoints and their outbox, on both catalogs: events commit with the ledger change that
// caused them, and deliveries are claimed, retried, disabled and redelivered.
#include <gtest/gtest.h>

#include <algorithm>

#include "sluice/catalog/catalog_testing.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::catalog {
namespace {

using testing_util::CatalogKind;

class AlertsTest : public ::testing::TestWithParam<CatalogKind> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing_util::CatalogStore>(GetParam(), tmp_.path() + "/data");
    auto c = store_->Open(FileSystem::Default(), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
    ASSERT_TRUE(cat_->CreateConnection("shop").ok());
    ASSERT_TRUE(cat_->CreateConnection("depot").ok());
    ASSERT_TRUE(cat_->AddTable({"shop", "orders", {"id"}}).ok());  // on_error: block
    ASSERT_TRUE(cat_->AddTable({"shop", "items", {"id"}, "", OnError::kSkip}).ok());
  }

  static AlertEndpoint Hook(const std::string& connection, std::vector<std::string> events) {
    AlertEndpoint e;
    e.name = "ops";
    e.connection_id = connection;
    e.target = "https://hooks.example.com/sluice";
    e.events = std::move(events);
    return e;
  }

  int64_t Push(const std::string& table, const std::string& key) {
    FileRecord r;
    r.connection_id = "shop";
    r.table = table;
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.size = 10;
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    r.metadata_json = "{}";
    r.received_at = clock_.NowMicros();
    auto seq = cat_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  std::vector<AlertDelivery> Deliveries(const std::string& endpoint) {
    auto d = cat_->ListDeliveries(endpoint, 0, 100);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : std::vector<AlertDelivery>{};
  }

  // The event types, oldest first; the events of one moment (one transaction) sorted.
  static std::vector<std::string> Types(std::vector<AlertDelivery> ds) {
    std::sort(ds.begin(), ds.end(), [](const AlertDelivery& a, const AlertDelivery& b) {
      return a.event.time != b.event.time ? a.event.time < b.event.time
                                          : a.event.type < b.event.type;
    });
    std::vector<std::string> out;
    for (const AlertDelivery& d : ds) out.push_back(d.event.type);
    return out;
  }

  testing::TempDir tmp_{"alerts_test"};
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<testing_util::CatalogStore> store_;
  std::unique_ptr<Catalog> cat_;
};

INSTANTIATE_TEST_SUITE_P(Catalogs, AlertsTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(AlertsTest, EndpointsAreCheckedStoredChangedAndRemoved) {
  auto made = cat_->CreateAlertEndpoint(Hook("shop", {"file.failed"}), Secret("whsec_abc"));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(made->id.starts_with("ep_"));
  auto secret = cat_->AlertSecret(made->id);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->reveal(), "whsec_abc");

  EXPECT_EQ(cat_->CreateAlertEndpoint(Hook("shop", {"file.exploded"}), Secret()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat_->CreateAlertEndpoint(Hook("shop", {}), Secret()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat_->CreateAlertEndpoint(Hook("nope", {"digest"}), Secret()).status().code(),
            ErrorCode::kNotFound);
  AlertEndpoint mail = Hook("", {"digest", "table.blocked"});
  mail.kind = AlertKind::kEmail;
  EXPECT_EQ(cat_->CreateAlertEndpoint(mail, Secret()).status().code(),
            ErrorCode::kInvalidArgument);  // an e-mail endpoint has format email
  mail.format = AlertFormat::kEmail;
  mail.target = "ops@example.com";
  mail.digest = "daily@07:30";
  mail.created_at = 1;  // listed by creation
  ASSERT_TRUE(cat_->CreateAlertEndpoint(mail, Secret()).ok());

  auto all = cat_->ListAlertEndpoints();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].kind, AlertKind::kEmail);
  EXPECT_EQ((*all)[1].digest, "daily@07:30");
  EXPECT_EQ((*all)[1].events, (std::vector<std::string>{"digest", "table.blocked"}));

  AlertEndpoint changed = *made;
  changed.events = {"file.failed", "file.loaded"};
  changed.format = AlertFormat::kSlack;
  changed.enabled = false;
  ASSERT_TRUE(cat_->UpdateAlertEndpoint(changed).ok());
  auto got = cat_->GetAlertEndpoint(made->id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_FALSE((*got)->enabled);
  EXPECT_EQ((*got)->disabled_reason, "disabled by an admin");
  EXPECT_EQ((*got)->format, AlertFormat::kSlack);
  EXPECT_EQ((*got)->events.size(), 2u);

  ASSERT_TRUE(cat_->DeleteAlertEndpoint(made->id).ok());
  EXPECT_EQ(cat_->DeleteAlertEndpoint(made->id).code(), ErrorCode::kNotFound);
  EXPECT_EQ(cat_->AlertSecret(made->id).status().code(), ErrorCode::kNotFound);
}

TEST_P(AlertsTest, AFailureBlockingATableWritesItsEventsWithTheFailure) {
  auto shop = cat_->CreateAlertEndpoint(
      Hook("shop", {"file.failed", "table.blocked", "table.unblocked"}), Secret("s"));
  auto depot = cat_->CreateAlertEndpoint(Hook("depot", {"file.failed"}), Secret("s"));
  auto loaded = cat_->CreateAlertEndpoint(Hook("", {"file.loaded"}), Secret("s"));
  ASSERT_TRUE(shop.ok() && depot.ok() && loaded.ok());

  const int64_t a = Push("orders", "orders/a.parquet");
  ASSERT_TRUE(cat_->MarkLoading(a).ok());
  ASSERT_TRUE(cat_->MarkFailed(a, Err(ErrorCode::kSchemaMismatch, "column x: not a number")).ok());
  auto ds = Deliveries(shop->id);
  ASSERT_EQ(Types(ds), (std::vector<std::string>{"file.failed", "table.blocked"}));
  const AlertDelivery& failed = ds[0].event.type == "file.failed" ? ds[0] : ds[1];
  const AlertDelivery& blocked = ds[0].event.type == "file.failed" ? ds[1] : ds[0];
  EXPECT_EQ(failed.event.subject, "orders/a.parquet");
  EXPECT_EQ(blocked.event.subject, "orders");
  EXPECT_NE(failed.event.data_json.find("\"error_code\":\"SCHEMA_MISMATCH\""), std::string::npos)
      << failed.event.data_json;
  EXPECT_NE(failed.event.data_json.find("column x: not a number"), std::string::npos);
  EXPECT_EQ(failed.status, DeliveryStatus::kPending);
  clock_.Advance(1);
  EXPECT_TRUE(Deliveries(depot->id).empty());  // another connection's endpoint

  // The retry unblocks; the load that follows is a file.loaded for the endpoint taking those.
  ASSERT_TRUE(cat_->Retry(a).ok());
  clock_.Advance(1);
  EXPECT_EQ(Types(Deliveries(shop->id)),
            (std::vector<std::string>{"file.failed", "table.blocked", "table.unblocked"}));
  ASSERT_TRUE(cat_->MarkLoading(a).ok());
  ASSERT_TRUE(cat_->MarkLoaded(a, LoadCounts{3, 1, 0, 0}, clock_.NowMicros()).ok());
  auto l = Deliveries(loaded->id);
  ASSERT_EQ(Types(l), (std::vector<std::string>{"file.loaded"}));
  EXPECT_NE(l[0].event.data_json.find("\"rows_inserted\":3"), std::string::npos);

  // A table that skips failures is not blocked by one.
  const int64_t b = Push("items", "items/b.parquet");
  ASSERT_TRUE(cat_->MarkLoading(b).ok());
  ASSERT_TRUE(cat_->MarkFailed(b, Err(ErrorCode::kCorruptFile, "bad footer")).ok());
  clock_.Advance(1);
  ASSERT_TRUE(cat_->Skip(b).ok());
  EXPECT_EQ(
      Types(Deliveries(shop->id)),
      (std::vector<std::string>{"file.failed", "table.blocked", "table.unblocked", "file.failed"}));
}

TEST_P(AlertsTest, DeliveriesAreLeasedRetriedGivenUpRedeliveredAndGoneDisables) {
  auto hook = cat_->CreateAlertEndpoint(Hook("", {"digest"}), Secret("s"));
  ASSERT_TRUE(hook.ok());
  AlertEvent e;
  e.id = NewAlertEventId();
  e.type = "digest";
  e.data_json = "{}";
  e.time = clock_.NowMicros();
  ASSERT_EQ(*cat_->EnqueueAlert(e), 1);
  ASSERT_EQ(*cat_->EnqueueAlert(e), 0);  // one delivery per event and endpoint

  const int64_t now = clock_.NowMicros();
  auto claimed = cat_->ClaimDeliveries(now, now + 60'000'000, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_TRUE(cat_->ClaimDeliveries(now, now + 60'000'000, 10)->empty());  // leased
  const std::string id = (*claimed)[0].id;

  DeliveryAttempt failed{now, false, 500, "HTTP 500", now + 5'000'000, ""};
  ASSERT_TRUE(cat_->RecordDeliveryAttempt(id, failed).ok());
  EXPECT_TRUE(cat_->ClaimDeliveries(now + 1'000'000, now + 60'000'000, 10)->empty());  // not due
  claimed = cat_->ClaimDeliveries(now + 5'000'000, now + 60'000'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].attempts, 1);
  EXPECT_EQ((*claimed)[0].last_status, 500);

  // A crash mid-attempt: the lease ends and another claim takes it.
  claimed = cat_->ClaimDeliveries(now + 61'000'000, now + 120'000'000, 10);
  ASSERT_EQ(claimed->size(), 1u);

  DeliveryAttempt gave_up{now, false, 0, "connection refused", 0, ""};
  ASSERT_TRUE(cat_->RecordDeliveryAttempt(id, gave_up).ok());
  auto d = cat_->GetDelivery(id);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->status, DeliveryStatus::kFailed);
  EXPECT_EQ((*d)->attempts, 2);

  ASSERT_TRUE(cat_->Redeliver(id, now + 200'000'000).ok());
  claimed = cat_->ClaimDeliveries(now + 200'000'000, now + 260'000'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  DeliveryAttempt gone{now, false, 410, "HTTP 410", 0, "the target answered 410 Gone"};
  ASSERT_TRUE(cat_->RecordDeliveryAttempt(id, gone).ok());
  auto ep = cat_->GetAlertEndpoint(hook->id);
  ASSERT_TRUE(ep.ok() && ep->has_value());
  EXPECT_FALSE((*ep)->enabled);
  EXPECT_EQ((*ep)->disabled_reason, "the target answered 410 Gone");

  // A disabled endpoint's deliveries wait for it; nothing is enqueued for it meanwhile.
  e.id = NewAlertEventId();
  EXPECT_EQ(*cat_->EnqueueAlert(e), 0);
  ASSERT_TRUE(cat_->Redeliver(id, now).ok());
  EXPECT_TRUE(cat_->ClaimDeliveries(now + 300'000'000, now + 360'000'000, 10)->empty());

  EXPECT_EQ(*cat_->PruneDeliveries(now + 1), 0);  // the pending one stays
  EXPECT_EQ(cat_->Redeliver("nope", now).code(), ErrorCode::kNotFound);
}

TEST_P(AlertsTest, AConditionMovesOnceAndItsEventWithIt) {
  auto hook = cat_->CreateAlertEndpoint(Hook("shop", {"backlog.lagging"}), Secret("s"));
  ASSERT_TRUE(hook.ok());
  AlertEvent e;
  e.id = NewAlertEventId();
  e.type = "backlog.lagging";
  e.connection_id = "shop";
  e.table = "orders";
  e.data_json = "{}";
  e.time = 5;
  e.endpoint_id = hook->id;
  auto moved = cat_->AdvanceAlertState(hook->id, "shop", "orders", "lagging", 0, 1, &e);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_TRUE(*moved);
  e.id = NewAlertEventId();
  // A second node with the same view loses the race and writes nothing.
  EXPECT_FALSE(*cat_->AdvanceAlertState(hook->id, "shop", "orders", "lagging", 0, 1, &e));
  EXPECT_EQ(*cat_->AlertState(hook->id, "shop", "orders", "lagging"), 1);
  EXPECT_EQ(Deliveries(hook->id).size(), 1u);
  EXPECT_TRUE(*cat_->AdvanceAlertState(hook->id, "shop", "orders", "lagging", 1, 0, nullptr));
  EXPECT_EQ(*cat_->AlertState(hook->id, "shop", "orders", "lagging"), 0);
  EXPECT_FALSE(*cat_->AdvanceAlertState("ep_gone", "", "", "digest", 0, 7, nullptr));
}

// The console's activity numbers (activity.cc) use the same fixture: a ledger on both engines.
class ActivityTest : public AlertsTest {};

INSTANTIATE_TEST_SUITE_P(Catalogs, ActivityTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(ActivityTest, LoadsAndTheBacklogAreCountedByTableAndMinute) {
  const int64_t start = clock_.NowMicros() - clock_.NowMicros() % 60'000'000;
  clock_.Set(start);
  const int64_t a = Push("orders", "orders/a.json");  // minute 0
  const int64_t b = Push("orders", "orders/b.json");
  clock_.Advance(60'000'000);  // minute 1: a loads
  ASSERT_TRUE(cat_->MarkLoading(a).ok());
  ASSERT_TRUE(cat_->MarkLoaded(a, LoadCounts{5, 2, 0, 1}, clock_.NowMicros()).ok());
  clock_.Advance(60'000'000);  // minute 2: c arrives; b still waits
  Push("items", "items/c.json");
  const int64_t d = Push("items", "items/d.json");  // arrives and fails (items skips failures)
  ASSERT_TRUE(cat_->MarkLoading(d).ok());
  ASSERT_TRUE(cat_->MarkFailed(d, Err(ErrorCode::kCorruptFile, "bad")).ok());

  auto loaded = cat_->LoadedSince(start);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].table.table, "items");
  EXPECT_EQ((*loaded)[0].files, 0);
  EXPECT_EQ((*loaded)[0].failed, 1);
  EXPECT_EQ((*loaded)[1].table.table, "orders");
  EXPECT_EQ((*loaded)[1].files, 1);
  EXPECT_EQ((*loaded)[1].rows, 8);
  EXPECT_EQ((*loaded)[1].failed, 0);
  EXPECT_EQ((*loaded)[1].last_loaded_at, start + 60'000'000);
  auto later = cat_->LoadedSince(start + 61'000'000);  // d's failure only
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].table.table, "items");
  EXPECT_EQ(cat_->LoadedSince(start + 120'000'001)->size(), 0u);

  bool complete = false;
  auto minutes = cat_->ActivitySince(start, clock_.NowMicros(), 100, &complete);
  ASSERT_TRUE(minutes.ok()) << minutes.status().ToString();
  EXPECT_TRUE(complete);
  ASSERT_EQ(minutes->size(), 3u);
  EXPECT_EQ((*minutes)[0].backlog_files, 2);
  EXPECT_EQ((*minutes)[1].files_loaded, 1);
  EXPECT_EQ((*minutes)[1].rows, 8);
  EXPECT_EQ((*minutes)[1].backlog_files, 1);
  EXPECT_EQ((*minutes)[2].backlog_files, 2);
  EXPECT_EQ((*minutes)[2].minute, start + 120'000'000);
  (void)b;
}

}  // namespace
}  // namespace sluice::catalog
