// The file actions every front end shares, against a real (SQLite) catalog.
#include "sluice/service/files.h"

#include <gtest/gtest.h>

#include "sluice/core/testing/temp_dir.h"

namespace sluice::service {
namespace {

class FileActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cat = catalog::Catalog::Open(tmp_.path(), FileSystem::Default(), clock_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(cat).value();
    ASSERT_TRUE(catalog_->CreateConnection("shop").ok());
    ASSERT_TRUE(catalog_->AddTable({"shop", "orders", {"id"}}).ok());
  }

  int64_t Append(const std::string& key) {
    catalog::FileRecord r;
    r.connection_id = "shop";
    r.table = "orders";
    r.key = key;
    r.landed_id = "0123456789abcdef0123456789abcdef";
    r.md5_hex = "d41d8cd98f00b204e9800998ecf8427e";
    auto seq = catalog_->AppendFile(r);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  catalog::FileStatus StatusOf(int64_t seq) { return catalog_->GetFile(seq)->value().status; }

  testing::TempDir tmp_{"service_test"};
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(FileActionTest, RetryAndSkipAFailedFile) {
  const int64_t a = Append("orders/a.json");
  ASSERT_TRUE(catalog_->MarkLoading(a).ok());
  ASSERT_TRUE(catalog_->MarkFailed(a, Err(ErrorCode::kCorruptFile, "bad")).ok());
  auto retried = ApplyFileAction(*catalog_, a, FileAction::kRetry);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_NE(retried->find("queued again"), std::string::npos);
  EXPECT_EQ(StatusOf(a), catalog::FileStatus::kQueued);

  ASSERT_TRUE(catalog_->MarkLoading(a).ok());
  ASSERT_TRUE(catalog_->MarkFailed(a, Err(ErrorCode::kCorruptFile, "bad")).ok());
  auto skipped = ApplyFileAction(*catalog_, a, FileAction::kSkip);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(*skipped,
            "File " + std::to_string(a) + " skipped; its table moves on to the next file.");
  EXPECT_EQ(StatusOf(a), catalog::FileStatus::kSkipped);

  // A skipped file is retried only forced, and the refusal says so.
  auto plain = ApplyFileAction(*catalog_, a, FileAction::kRetry);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("--force"), std::string::npos)
      << plain.status().ToString();
  auto forced = ApplyFileAction(*catalog_, a, FileAction::kRetryForced);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ(StatusOf(a), catalog::FileStatus::kQueued);
}

TEST_F(FileActionTest, ALoadingOrUnknownFileIsRefused) {
  const int64_t a = Append("orders/a.json");
  ASSERT_TRUE(catalog_->MarkLoading(a).ok());
  for (FileAction action : {FileAction::kRetry, FileAction::kRetryForced, FileAction::kSkip}) {
    auto r = ApplyFileAction(*catalog_, a, action);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << static_cast<int>(action);
    EXPECT_EQ(StatusOf(a), catalog::FileStatus::kLoading);
  }
  EXPECT_EQ(ApplyFileAction(*catalog_, 999, FileAction::kSkip).status().code(),
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace sluice::service
