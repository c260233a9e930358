// Admin users and sessions, on both catalogs.
#include <gtest/gtest.h>

#include "sluice/catalog/catalog_testing.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::catalog {
namespace {

using testing_util::CatalogKind;

class AdminsTest : public ::testing::TestWithParam<CatalogKind> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing_util::CatalogStore>(GetParam(), tmp_.path() + "/data");
    auto c = store_->Open(FileSystem::Default(), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
  }

  static AdminUser User(const std::string& name, AdminRole role) {
    AdminUser u;
    u.name = name;
    u.role = role;
    u.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
    u.created_at = 1;
    return u;
  }

  testing::TempDir tmp_{"admins_test"};
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<testing_util::CatalogStore> store_;
  std::unique_ptr<Catalog> cat_;
};

INSTANTIATE_TEST_SUITE_P(Catalogs, AdminsTest,
                         ::testing::Values(CatalogKind::kSqlite, CatalogKind::kPostgres),
                         testing_util::CatalogKindName);

TEST_P(AdminsTest, UsersAreAddedChangedAndRemoved) {
  ASSERT_TRUE(cat_->AddAdminUser(User("ada", AdminRole::kAdmin)).ok());
  ASSERT_TRUE(cat_->AddAdminUser(User("bob@example.com", AdminRole::kViewer)).ok());
  EXPECT_EQ(cat_->AddAdminUser(User("ada", AdminRole::kViewer)).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(cat_->AddAdminUser(User("no spaces", AdminRole::kViewer)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(cat_->AddAdminUser(User("", AdminRole::kViewer)).code(), ErrorCode::kInvalidArgument);
  auto users = cat_->ListAdminUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "ada");
  EXPECT_EQ((*users)[0].role, AdminRole::kAdmin);
  EXPECT_EQ((*users)[1].role, AdminRole::kViewer);

  ASSERT_TRUE(cat_->SetAdminRole("bob@example.com", AdminRole::kAdmin).ok());
  ASSERT_TRUE(cat_->SetAdminPassword("ada", "new-hash").ok());
  auto ada = cat_->GetAdminUser("ada");
  ASSERT_TRUE(ada.ok() && ada->has_value());
  EXPECT_EQ((*ada)->password_hash, "new-hash");
  EXPECT_EQ(cat_->SetAdminPassword("nobody", "x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(cat_->SetAdminRole("nobody", AdminRole::kAdmin).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(cat_->RemoveAdminUser("ada").ok());
  EXPECT_EQ(cat_->RemoveAdminUser("ada").code(), ErrorCode::kNotFound);
  EXPECT_FALSE(cat_->GetAdminUser("ada")->has_value());
}

TEST_P(AdminsTest, FailedLoginsAreCountedAndClearedByASuccess) {
  ASSERT_TRUE(cat_->AddAdminUser(User("ada", AdminRole::kAdmin)).ok());
  EXPECT_EQ(*cat_->CountFailedLogin("ada"), 1);
  EXPECT_EQ(*cat_->CountFailedLogin("ada"), 2);
  EXPECT_EQ(cat_->CountFailedLogin("nobody").status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(cat_->LockAdminUser("ada", 5000).ok());
  EXPECT_EQ((*cat_->GetAdminUser("ada"))->locked_until, 5000);
  EXPECT_EQ((*cat_->GetAdminUser("ada"))->failed_logins, 2);
  ASSERT_TRUE(cat_->StartAdminSession("ada", "aa", 100, 200).ok());
  const AdminUser after = **cat_->GetAdminUser("ada");
  EXPECT_EQ(after.failed_logins, 0);
  EXPECT_EQ(after.locked_until, 0);
  EXPECT_EQ(after.last_login_at, 100);
}

TEST_P(AdminsTest, SessionsExpireEndAndFollowTheirUser) {
  ASSERT_TRUE(cat_->AddAdminUser(User("ada", AdminRole::kViewer)).ok());
  ASSERT_TRUE(cat_->StartAdminSession("ada", "s1", 100, 200).ok());
  ASSERT_TRUE(cat_->StartAdminSession("ada", "s2", 100, 300).ok());
  auto live = cat_->GetAdminSession("s1", 150);
  ASSERT_TRUE(live.ok() && live->has_value());
  EXPECT_EQ((*live)->user, "ada");
  EXPECT_EQ((*live)->role, AdminRole::kViewer);
  EXPECT_EQ((*live)->expires_at, 200);
  EXPECT_FALSE(cat_->GetAdminSession("s1", 200)->has_value());  // expired
  EXPECT_FALSE(cat_->GetAdminSession("nope", 150)->has_value());
  // The role is the user's now.
  ASSERT_TRUE(cat_->SetAdminRole("ada", AdminRole::kAdmin).ok());
  EXPECT_EQ((*cat_->GetAdminSession("s2", 150))->role, AdminRole::kAdmin);
  ASSERT_TRUE(cat_->EndAdminSession("s2").ok());
  ASSERT_TRUE(cat_->EndAdminSession("s2").ok());
  EXPECT_FALSE(cat_->GetAdminSession("s2", 150)->has_value());
  // A new password ends every session; so does removing the user.
  ASSERT_TRUE(cat_->StartAdminSession("ada", "s3", 100, 300).ok());
  ASSERT_TRUE(cat_->SetAdminPassword("ada", "h2").ok());
  EXPECT_FALSE(cat_->GetAdminSession("s3", 150)->has_value());
  ASSERT_TRUE(cat_->StartAdminSession("ada", "s4", 100, 300).ok());
  ASSERT_TRUE(cat_->RemoveAdminUser("ada").ok());
  EXPECT_FALSE(cat_->GetAdminSession("s4", 150)->has_value());
  EXPECT_EQ(cat_->StartAdminSession("ada", "s5", 100, 300).code(), ErrorCode::kNotFound);
}

TEST_P(AdminsTest, AUserHoldsAtMostItsNewestSessions) {
  ASSERT_TRUE(cat_->AddAdminUser(User("ada", AdminRole::kAdmin)).ok());
  for (int64_t i = 0; i < kMaxSessionsPerUser + 5; ++i) {
    ASSERT_TRUE(cat_->StartAdminSession("ada", "t" + std::to_string(i), 100 + i, 1000).ok());
  }
  for (int64_t i = 0; i < kMaxSessionsPerUser + 5; ++i) {
    EXPECT_EQ(cat_->GetAdminSession("t" + std::to_string(i), 500)->has_value(), i >= 5) << i;
  }
}

}  // namespace
}  // namespace sluice::catalog
