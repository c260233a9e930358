// Admin users' passwords, logins, lock-outs and sessions (on the SQLite catalog; the catalog's
// own tests cover both engines).
#include "sluice/service/admins.h"

#include <gtest/gtest.h>

#include "sluice/core/testing/temp_dir.h"

namespace sluice::service {
namespace {

class AdminLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = catalog::Catalog::Open(tmp_.path(), FileSystem::Default(), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
    ASSERT_TRUE(AddAdminUser(*catalog_, "ada", catalog::AdminRole::kAdmin, "correct horse",
                             clock_.NowMicros())
                    .ok());
  }

  Result<Login> Try(std::string_view password, int64_t* retry_after = nullptr) {
    int64_t ignored = 0;
    return LogIn(*catalog_, "ada", password, clock_.NowMicros(),
                 retry_after ? retry_after : &ignored);
  }

  testing::TempDir tmp_{"admin_login_test"};
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST(PasswordTest, HashesAreArgon2idSaltedAndVerified) {
  auto a = HashPassword("correct horse");
  auto b = HashPassword("correct horse");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->rfind("$argon2id$v=19$m=65536,t=3,p=1$", 0), 0u) << *a;
  EXPECT_NE(*a, *b);  // salted
  EXPECT_TRUE(VerifyPassword(*a, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*a, "correct horsf"));
  EXPECT_FALSE(VerifyPassword("garbage", "correct horse"));
  EXPECT_EQ(HashPassword("short").status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(AdminLoginTest, ALoginMakesASessionThatLogoutEnds) {
  auto login = Try("correct horse");
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->token.size(), 64u);
  EXPECT_EQ(login->csrf_token, CsrfToken(login->token));
  EXPECT_NE(login->csrf_token, login->token);
  EXPECT_EQ(login->session.role, catalog::AdminRole::kAdmin);
  auto session = SessionOf(*catalog_, login->token, clock_.NowMicros());
  ASSERT_TRUE(session.ok() && session->has_value());
  EXPECT_EQ((*session)->user, "ada");
  // The catalog holds only the token's hash.
  EXPECT_FALSE(catalog_->GetAdminSession(login->token, clock_.NowMicros())->has_value());
  EXPECT_FALSE(SessionOf(*catalog_, "short", clock_.NowMicros())->has_value());
  clock_.Advance(kSessionMicros);
  EXPECT_FALSE(SessionOf(*catalog_, login->token, clock_.NowMicros())->has_value());
  auto again = Try("correct horse");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(LogOut(*catalog_, again->token).ok());
  EXPECT_FALSE(SessionOf(*catalog_, again->token, clock_.NowMicros())->has_value());
}

TEST_F(AdminLoginTest, WrongPasswordsLockTheUserOutForAGrowingDelay) {
  int64_t failures = 0;
  for (; failures < kLockoutAfter; ++failures) {
    EXPECT_EQ(Try("wrong password").status().code(), ErrorCode::kAccessDenied);
  }
  int64_t retry = 0;
  auto locked = Try("correct horse", &retry);  // even the right one, while locked
  EXPECT_EQ(locked.status().code(), ErrorCode::kSlowDown);
  EXPECT_EQ(retry, 30);
  clock_.Advance(30'000'000);
  EXPECT_EQ(Try("wrong again!").status().code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(Try("correct horse", &retry).status().code(), ErrorCode::kSlowDown);
  EXPECT_EQ(retry, 60);  // doubled
  // A new password lifts the lock.
  ASSERT_TRUE(ChangeAdminPassword(*catalog_, "ada", "battery staple").ok());
  EXPECT_TRUE(Try("battery staple").ok());
  // An unknown user gets the same answer as a wrong password.
  int64_t ignored = 0;
  auto unknown = LogIn(*catalog_, "nobody", "correct horse", clock_.NowMicros(), &ignored);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(unknown.status().message(), Try("wrong password").status().message());
}

}  // namespace
}  // namespace sluice::service
