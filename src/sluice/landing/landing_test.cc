#include "sluice/landing/landing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "sluice/landing/testing_fs.h"

namespace sluice::landing {
namespace {

class LandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "landing_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/landing";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Entries(const std::string& sub) {
    auto names = FileSystem::Default().ListDir(root_ + "/" + sub);
    EXPECT_TRUE(names.ok()) << names.status().ToString();
    return names.ok() ? *names : std::vector<std::string>{};
  }

  std::string ReadObject(Store& store, const std::string& id) {
    auto file = store.Open(id);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return "";
    std::vector<uint8_t> bytes;
    EXPECT_TRUE((*file)->ReadAt(0, (*file)->size(), &bytes).ok());
    return std::string(bytes.begin(), bytes.end());
  }

  std::string dir_;
  std::string root_;
};

TEST_F(LandingTest, InitCreatesDirectories) {
  Store store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/tmp"));
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/objects"));
  // Idempotent.
  ASSERT_TRUE(store.Init().ok());
}

TEST_F(LandingTest, CommitMakesObjectAndLeavesNoTemp) {
  Store store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  auto in = store.Begin();
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(Entries("tmp").size(), 1u);
  ASSERT_TRUE((*in)->Append(AsBytes("hello, ")).ok());
  ASSERT_TRUE((*in)->Append(AsBytes("world")).ok());
  EXPECT_EQ((*in)->size(), 12u);
  auto id = (*in)->Commit();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->size(), 32u);
  EXPECT_TRUE(std::all_of(id->begin(), id->end(),
                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  EXPECT_EQ((*in)->size(), 12u);
  EXPECT_TRUE(Entries("tmp").empty());
  EXPECT_EQ(Entries("objects"), std::vector<std::string>{*id});
  EXPECT_EQ(store.PathOf(*id), root_ + "/objects/" + *id);
  EXPECT_EQ(ReadObject(store, *id), "hello, world");
  // Spent: neither a second commit nor an append is accepted, and the destructor keeps it.
  EXPECT_FALSE((*in)->Commit().ok());
  EXPECT_FALSE((*in)->Append(AsBytes("x")).ok());
  in->reset();
  EXPECT_EQ(ReadObject(store, *id), "hello, world");
}

TEST_F(LandingTest, IdsAreDistinct) {
  Store store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  auto a = store.Begin();
  auto b = store.Begin();
  ASSERT_TRUE(a.ok() && b.ok());
  auto ida = (*a)->Commit();
  auto idb = (*b)->Commit();
  ASSERT_TRUE(ida.ok() && idb.ok());
  EXPECT_NE(*ida, *idb);
  EXPECT_EQ(Entries("objects").size(), 2u);
}

TEST_F(LandingTest, DestructorAndAbortDropTheTempFile) {
  Store store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  {
    auto in = store.Begin();
    ASSERT_TRUE(in.ok());
    ASSERT_TRUE((*in)->Append(AsBytes("never acknowledged")).ok());
  }
  EXPECT_TRUE(Entries("tmp").empty());
  auto in = store.Begin();
  ASSERT_TRUE(in.ok());
  (*in)->Abort();
  EXPECT_TRUE(Entries("tmp").empty());
  EXPECT_FALSE((*in)->Commit().ok());
  EXPECT_TRUE(Entries("objects").empty());
}

TEST_F(LandingTest, InitClearsLeftoverTempFilesButKeepsObjects) {
  Store store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  auto kept = store.Begin();
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE((*kept)->Append(AsBytes("kept")).ok());
  auto id = (*kept)->Commit();
  ASSERT_TRUE(id.ok());
  // Simulate a crash mid-upload: temp files that nobody will finish.
  for (const char* name : {"0123456789abcdef0123456789abcdef", "junk"}) {
    auto f = FileSystem::Default().NewWritableFile(root_ + "/tmp/" + name);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(AsBytes("partial")).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  EXPECT_EQ(Entries("tmp").size(), 2u);
  Store restarted(FileSystem::Default(), root_);
  ASSERT_TRUE(restarted.Init().ok());
  EXPECT_TRUE(Entries("tmp").empty());
  EXPECT_EQ(ReadObject(restarted, *id), "kept");
}

// A failure at each durability step of Commit leaves neither an object nor a temp file.
class CommitFailureTest : public LandingTest, public ::testing::WithParamInterface<FsOp> {};

TEST_P(CommitFailureTest, LeavesNothingBehind) {
  FaultyFileSystem fs(FileSystem::Default());
  Store store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  auto in = store.Begin();
  ASSERT_TRUE(in.ok());
  ASSERT_TRUE((*in)->Append(AsBytes("payload")).ok());
  fs.FailNth(GetParam(), 1);
  auto id = (*in)->Commit();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), ErrorCode::kIoError);
  EXPECT_NE(id.status().message().find("injected"), std::string::npos) << id.status().ToString();
  EXPECT_TRUE(Entries("tmp").empty());
  EXPECT_TRUE(Entries("objects").empty());
  // The store keeps working once the fault is gone.
  fs.Heal();
  auto again = store.Begin();
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Append(AsBytes("second")).ok());
  auto id2 = (*again)->Commit();
  ASSERT_TRUE(id2.ok()) << id2.status().ToString();
  EXPECT_EQ(ReadObject(store, *id2), "second");
}

INSTANTIATE_TEST_SUITE_P(Steps, CommitFailureTest,
                         ::testing::Values(FsOp::kSync, FsOp::kClose, FsOp::kRename,
                                           FsOp::kSyncDir),
                         [](const auto& info) { return std::string(FsOpName(info.param)); });

TEST_F(LandingTest, FailedAppendIsReportedAndCleanedUp) {
  FaultyFileSystem fs(FileSystem::Default());
  Store store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  {
    auto in = store.Begin();
    ASSERT_TRUE(in.ok());
    ASSERT_TRUE((*in)->Append(AsBytes("a")).ok());
    fs.FailNth(FsOp::kAppend, 1);
    Status st = (*in)->Append(AsBytes("b"));
    EXPECT_EQ(st.code(), ErrorCode::kIoError);
  }
  EXPECT_TRUE(Entries("tmp").empty());
  EXPECT_TRUE(Entries("objects").empty());
}

TEST_F(LandingTest, BeginFailsCleanlyWhenCreateFails) {
  FaultyFileSystem fs(FileSystem::Default());
  Store store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  fs.FailNth(FsOp::kCreate, 1);
  auto in = store.Begin();
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), ErrorCode::kIoError);
  EXPECT_TRUE(Entries("tmp").empty());
}

TEST_F(LandingTest, InitReportsFailureToClearTmp) {
  FaultyFileSystem fs(FileSystem::Default());
  Store store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  auto f = FileSystem::Default().NewWritableFile(root_ + "/tmp/stale");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Close().ok());
  fs.FailNth(FsOp::kRemove, 1);
  EXPECT_EQ(store.Init().code(), ErrorCode::kIoError);
  ASSERT_TRUE(store.Init().ok());
  EXPECT_TRUE(Entries("tmp").empty());
}

TEST_F(LandingTest, OpenAndRemove) {
  Store store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  auto in = store.Begin();
  ASSERT_TRUE(in.ok());
  ASSERT_TRUE((*in)->Append(AsBytes("data")).ok());
  auto id = (*in)->Commit();
  ASSERT_TRUE(id.ok());

  EXPECT_EQ(store.Open("../../etc/passwd").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.Open("ABCDEF0123456789abcdef0123456789").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.Remove("..").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.Open("00000000000000000000000000000000").status().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(store.Remove(*id).ok());
  EXPECT_EQ(store.Open(*id).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Entries("objects").empty());
  // Removing a missing object is not an error (idempotent clean-up).
  EXPECT_TRUE(store.Remove(*id).ok());
}

TEST_F(LandingTest, FreeBytes) {
  Store store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  auto free = store.FreeBytes();
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_GT(*free, 0u);
}

TEST(FaultyFileSystemTest, CountsAndStickyFaults) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "faulty_fs.XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  FaultyFileSystem fs(FileSystem::Default());
  fs.FailNth(FsOp::kSyncDir, 2, /*sticky=*/true);
  EXPECT_TRUE(fs.SyncDir(tmpl).ok());
  EXPECT_FALSE(fs.SyncDir(tmpl).ok());
  EXPECT_FALSE(fs.SyncDir(tmpl).ok());
  EXPECT_EQ(fs.calls(FsOp::kSyncDir), 3);
  fs.Heal();
  EXPECT_TRUE(fs.SyncDir(tmpl).ok());
  // Non-sticky: only the nth call fails.
  fs.FailNth(FsOp::kSyncDir, 1);
  EXPECT_FALSE(fs.SyncDir(tmpl).ok());
  EXPECT_TRUE(fs.SyncDir(tmpl).ok());
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace sluice::landing
