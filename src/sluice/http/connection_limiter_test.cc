#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "sluice/http/connection_limiter_internal.h"

namespace sluice::http::internal {
namespace {

using Refusal = ConnectionLimiter::Refusal;

TEST(ConnectionLimiterTest, TotalCapRefusesUntilASlotIsReleased) {
  auto limiter = ConnectionLimiter::Create(2, 0);
  Refusal why;
  auto a = limiter->TryAcquire("10.0.0.1", &why);
  EXPECT_TRUE(a);
  EXPECT_EQ(why, Refusal::kNone);
  auto b = limiter->TryAcquire("10.0.0.2", &why);
  EXPECT_TRUE(b);
  auto c = limiter->TryAcquire("10.0.0.3", &why);
  EXPECT_FALSE(c);
  EXPECT_EQ(why, Refusal::kTotal);
  EXPECT_EQ(limiter->total(), 2u);
  a = ConnectionLimiter::Slot();  // released by assignment
  EXPECT_EQ(limiter->total(), 1u);
  auto d = limiter->TryAcquire("10.0.0.3", &why);
  EXPECT_TRUE(d);
}

TEST(ConnectionLimiterTest, PerClientCapCountsEachAddressAlone) {
  auto limiter = ConnectionLimiter::Create(100, 2);
  Refusal why;
  std::vector<ConnectionLimiter::Slot> held;
  held.push_back(limiter->TryAcquire("10.0.0.1", &why));
  held.push_back(limiter->TryAcquire("10.0.0.1", &why));
  EXPECT_FALSE(limiter->TryAcquire("10.0.0.1", &why));
  EXPECT_EQ(why, Refusal::kPerClient);
  EXPECT_TRUE(limiter->TryAcquire("10.0.0.2", &why));  // released at once: a temporary
  EXPECT_EQ(limiter->ForClient("10.0.0.1"), 2u);
  EXPECT_EQ(limiter->ForClient("10.0.0.2"), 0u);
  held.pop_back();
  EXPECT_EQ(limiter->ForClient("10.0.0.1"), 1u);
  EXPECT_TRUE(limiter->TryAcquire("10.0.0.1", &why));
  held.clear();
  EXPECT_EQ(limiter->total(), 0u);
  EXPECT_EQ(limiter->ForClient("10.0.0.1"), 0u);
}

TEST(ConnectionLimiterTest, PerClientZeroIsOff) {
  auto limiter = ConnectionLimiter::Create(5, 0);
  Refusal why;
  std::vector<ConnectionLimiter::Slot> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(limiter->TryAcquire("10.0.0.1", &why));
    EXPECT_TRUE(held.back());
  }
  EXPECT_FALSE(limiter->TryAcquire("10.0.0.1", &why));
  EXPECT_EQ(why, Refusal::kTotal);
}

TEST(ConnectionLimiterTest, MovedSlotsReleaseOnce) {
  auto limiter = ConnectionLimiter::Create(1, 1);
  Refusal why;
  auto a = limiter->TryAcquire("h", &why);
  ConnectionLimiter::Slot b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from slot is empty by contract
  EXPECT_TRUE(b);
  ConnectionLimiter::Slot c;
  c = std::move(b);
  EXPECT_EQ(limiter->total(), 1u);
  c = ConnectionLimiter::Slot();
  EXPECT_EQ(limiter->total(), 0u);
}

TEST(ConnectionLimiterTest, SlotsKeepTheLimiterAlive) {
  ConnectionLimiter::Slot slot;
  {
    auto limiter = ConnectionLimiter::Create(1, 0);
    Refusal why;
    slot = limiter->TryAcquire("h", &why);
  }
  EXPECT_TRUE(slot);
  slot = ConnectionLimiter::Slot();  // releases into a limiter only the slot still held
}

TEST(ConnectionLimiterTest, RefusalsAreLoggedOncePerAddressPerInterval) {
  auto limiter = ConnectionLimiter::Create(1, 0);
  const auto t0 = ConnectionLimiter::TimePoint() + std::chrono::hours(1);
  uint64_t refused = 0;
  EXPECT_TRUE(limiter->ShouldLog("a", t0, &refused));
  EXPECT_EQ(refused, 1u);
  EXPECT_FALSE(limiter->ShouldLog("a", t0 + std::chrono::seconds(1), &refused));
  EXPECT_FALSE(limiter->ShouldLog("a", t0 + std::chrono::seconds(2), &refused));
  EXPECT_TRUE(limiter->ShouldLog("b", t0 + std::chrono::seconds(2), &refused));
  EXPECT_TRUE(limiter->ShouldLog("a", t0 + ConnectionLimiter::kLogInterval, &refused));
  EXPECT_EQ(refused, 3u);  // the two held back and this one
  EXPECT_FALSE(limiter->ShouldLog("a", t0 + ConnectionLimiter::kLogInterval, &refused));
}

TEST(ConnectionLimiterTest, LogTableStaysBounded) {
  auto limiter = ConnectionLimiter::Create(1, 0);
  const auto t0 = ConnectionLimiter::TimePoint() + std::chrono::hours(1);
  uint64_t refused = 0;
  for (size_t i = 0; i < 3 * ConnectionLimiter::kMaxLogEntries; ++i) {
    EXPECT_TRUE(limiter->ShouldLog("10.1." + std::to_string(i), t0, &refused));
  }
  // A forgotten address is simply logged again: the table never exceeds its bound, which the
  // loop above would have blown through otherwise (checked under ASan for time and memory).
  EXPECT_TRUE(limiter->ShouldLog("10.1.0", t0, &refused));
}

}  // namespace
}  // namespace sluice::http::internal
