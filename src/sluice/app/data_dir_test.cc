#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "sluice/app/app.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::app {
namespace {

namespace fs = std::filesystem;

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    dir_ = root_ + "/data";
  }

  static unsigned Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }

  testing::TempDir tmp_{"data_dir_test"};  // first: removed after everything using it
  std::string root_;
  std::string dir_;
};

TEST_F(DataDirTest, CreatesAndTightensTheDirectoryAndItsDatabases) {
  ASSERT_TRUE(SecureDataDir(dir_).ok());
  EXPECT_EQ(Mode(dir_), 0700u);
  // A directory and databases left readable (an older sluice, or made by hand) are tightened.
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  std::ofstream(dir_ + "/catalog.db") << "x";
  std::ofstream(dir_ + "/pool.db-wal") << "x";
  ASSERT_EQ(::chmod((dir_ + "/catalog.db").c_str(), 0644), 0);
  ASSERT_EQ(::chmod((dir_ + "/pool.db-wal").c_str(), 0666), 0);
  ASSERT_TRUE(SecureDataDir(dir_).ok());
  EXPECT_EQ(Mode(dir_), 0700u);
  EXPECT_EQ(Mode(dir_ + "/catalog.db"), 0600u);
  EXPECT_EQ(Mode(dir_ + "/pool.db-wal"), 0600u);
}

TEST_F(DataDirTest, FilesAreCreatedPrivate) {
  ASSERT_TRUE(SecureDataDir(dir_).ok());
  auto file = FileSystem::Default().NewWritableFile(dir_ + "/landed");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Mode(dir_ + "/landed"), 0600u);
}

TEST_F(DataDirTest, AReadableAdminTokenIsRefusedWithTheFix) {
  ASSERT_TRUE(SecureDataDir(dir_).ok());
  auto token = LoadOrCreateAdminToken(FileSystem::Default(), dir_);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  const std::string path = dir_ + "/admin.token";
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_TRUE(LoadOrCreateAdminToken(FileSystem::Default(), dir_).ok());
  for (unsigned mode : {0644u, 0640u, 0604u, 0620u}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto refused = LoadOrCreateAdminToken(FileSystem::Default(), dir_);
    ASSERT_FALSE(refused.ok()) << mode;
    EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("chmod 600 " + path), std::string::npos)
        << refused.status().message();
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);  // read-only for the owner is fine
  EXPECT_TRUE(LoadOrCreateAdminToken(FileSystem::Default(), dir_).ok());
}

}  // namespace
}  // namespace sluice::app
