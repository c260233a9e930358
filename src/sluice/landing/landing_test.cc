#include "sluice/landing/landing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "sluice/core/testing/faulty_fs.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::landing {
namespace {

using testing::FaultyFileSystem;
using testing::FsOp;
using testing::FsOpName;

class LandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    root_ = dir_ + "/landing";
  }

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

  testing::TempDir tmp_{"landing_test"};  // first: removed after everything using it
  std::string dir_;
  std::string root_;
};

TEST_F(LandingTest, InitCreatesDirectories) {
  DirectoryStore store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/tmp"));
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/objects"));
  // Idempotent.
  ASSERT_TRUE(store.Init().ok());
}

TEST_F(LandingTest, CommitMakesObjectAndLeavesNoTemp) {
  DirectoryStore store(FileSystem::Default(), root_);
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
  DirectoryStore store(FileSystem::Default(), root_);
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
  DirectoryStore store(FileSystem::Default(), root_);
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
  DirectoryStore store(FileSystem::Default(), root_);
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
  DirectoryStore restarted(FileSystem::Default(), root_);
  ASSERT_TRUE(restarted.Init().ok());
  EXPECT_TRUE(Entries("tmp").empty());
  EXPECT_EQ(ReadObject(restarted, *id), "kept");
}

// Nodes sharing the directory: a node's start-up removes its own leftovers only, never the
// incoming file another node is writing, and every node reads every node's objects.
TEST_F(LandingTest, NodesSharingTheDirectoryKeepTheirIncomingFilesApart) {
  DirectoryStore a(FileSystem::Default(), root_, "node-a");
  DirectoryStore b(FileSystem::Default(), root_, "node-b");
  ASSERT_TRUE(a.Init().ok());
  ASSERT_TRUE(b.Init().ok());
  auto in_flight = b.Begin();
  ASSERT_TRUE(in_flight.ok());
  ASSERT_TRUE((*in_flight)->Append(AsBytes("being written")).ok());
  {  // left by node a's crash
    auto f = FileSystem::Default().NewWritableFile(root_ + "/tmp/node-a/" +
                                                   "0123456789abcdef0123456789abcdef");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(AsBytes("never finished")).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  EXPECT_EQ(Entries("tmp/node-a").size(), 1u);
  DirectoryStore restarted(FileSystem::Default(), root_, "node-a");
  ASSERT_TRUE(restarted.Init().ok());
  EXPECT_TRUE(Entries("tmp/node-a").empty());
  EXPECT_EQ(Entries("tmp/node-b").size(), 1u);
  auto id = (*in_flight)->Commit();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(ReadObject(restarted, *id), "being written");
  auto committed = restarted.CommittedAt(*id);
  ASSERT_TRUE(committed.ok());
  EXPECT_GT(*committed, 0);
  EXPECT_EQ(restarted.CommittedAt("0123456789abcdef0123456789abcdef").status().code(),
            ErrorCode::kNotFound);
}

// A failure at each durability step of Commit leaves neither an object nor a temp file.
class CommitFailureTest : public LandingTest, public ::testing::WithParamInterface<FsOp> {};

TEST_P(CommitFailureTest, LeavesNothingBehind) {
  FaultyFileSystem fs(FileSystem::Default());
  DirectoryStore store(fs, root_);
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
  DirectoryStore store(fs, root_);
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
  DirectoryStore store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  fs.FailNth(FsOp::kCreate, 1);
  auto in = store.Begin();
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), ErrorCode::kIoError);
  EXPECT_TRUE(Entries("tmp").empty());
}

TEST_F(LandingTest, InitReportsFailureToClearTmp) {
  FaultyFileSystem fs(FileSystem::Default());
  DirectoryStore store(fs, root_);
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
  DirectoryStore store(FileSystem::Default(), root_);
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
  DirectoryStore store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  auto free = store.FreeBytes();
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_GT(*free, 0u);
}

// --- multipart uploads ------------------------------------------------------------------

class UploadTest : public LandingTest {
 protected:
  static constexpr char kUpload[] = "00112233445566778899aabbccddeeff";

  // Writes part `n` with `body` and returns the Commit's answer.
  static Result<std::string> PutPart(Store& store, int n, const std::string& body) {
    SLUICE_ASSIGN_OR_RETURN(auto in, store.BeginPart(kUpload, n));
    SLUICE_RETURN_IF_ERROR(in->Append(AsBytes(body)));
    return in->Commit();
  }
};

TEST_F(UploadTest, PartsLandInTheUploadDirectoryAndReplaceEarlierOnes) {
  DirectoryStore store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/uploads"));
  ASSERT_TRUE(store.CreateUpload(kUpload).ok());
  auto name = PutPart(store, 2, "second");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(*name, "part-2");
  ASSERT_TRUE(PutPart(store, 1, "first, wrong").ok());
  ASSERT_TRUE(PutPart(store, 1, "first|").ok());  // re-sent: replaces
  auto parts = Entries(std::string("uploads/") + kUpload);
  std::sort(parts.begin(), parts.end());
  EXPECT_EQ(parts, (std::vector<std::string>{"part-1", "part-2"}));
  EXPECT_TRUE(Entries("tmp").empty());
  auto uploads = store.ListUploads();
  ASSERT_TRUE(uploads.ok());
  EXPECT_EQ(*uploads, std::vector<std::string>{kUpload});

  auto id = store.Assemble(kUpload, {1, 2});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(ReadObject(store, *id), "first|second");
  // The parts are untouched; the caller removes them once the object is recorded.
  EXPECT_EQ(Entries(std::string("uploads/") + kUpload).size(), 2u);
  ASSERT_TRUE(store.RemoveUpload(kUpload).ok());
  EXPECT_TRUE(Entries("uploads").empty());
  EXPECT_TRUE(store.RemoveUpload(kUpload).ok());  // idempotent
  EXPECT_TRUE(Entries("tmp").empty());
}

TEST_F(UploadTest, AssemblesLargePartsInOrderGiven) {
  DirectoryStore store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  ASSERT_TRUE(store.CreateUpload(kUpload).ok());
  // Larger than the portable copy buffer, so that a copy loop would need several rounds.
  std::string a(3 * 1024 * 1024 + 17, 'a');
  std::string b(1024 * 1024 + 5, 'b');
  for (size_t i = 0; i < a.size(); i += 4096) a[i] = static_cast<char>('0' + i % 10);
  ASSERT_TRUE(PutPart(store, 7, a).ok());
  ASSERT_TRUE(PutPart(store, 3, b).ok());
  auto id = store.Assemble(kUpload, {7, 3});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(ReadObject(store, *id), a + b);
}

TEST_F(UploadTest, RejectsBadIdsNumbersAndMissingParts) {
  DirectoryStore store(FileSystem::Default(), root_);
  ASSERT_TRUE(store.Init().ok());
  EXPECT_EQ(store.CreateUpload("../x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.BeginPart("../x", 1).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.BeginPart(kUpload, 1).status().code(), ErrorCode::kNotFound);  // no upload
  ASSERT_TRUE(store.CreateUpload(kUpload).ok());
  EXPECT_EQ(store.BeginPart(kUpload, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.BeginPart(kUpload, 10001).status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(PutPart(store, 1, "one").ok());
  auto id = store.Assemble(kUpload, {1, 2});
  EXPECT_EQ(id.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(id.status().message().find("part 2"), std::string::npos) << id.status().ToString();
  EXPECT_TRUE(Entries("objects").empty());
  EXPECT_TRUE(Entries("tmp").empty());
}

// A failure at each step of the assembly (the in-kernel copy counts as an append) leaves no
// object and no temporary file, and keeps the parts for a retried Complete.
class AssembleFailureTest : public UploadTest, public ::testing::WithParamInterface<FsOp> {};

TEST_P(AssembleFailureTest, LeavesNothingBehindAndKeepsTheParts) {
  FaultyFileSystem fs(FileSystem::Default());
  DirectoryStore store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  ASSERT_TRUE(store.CreateUpload(kUpload).ok());
  ASSERT_TRUE(PutPart(store, 1, "alpha").ok());
  ASSERT_TRUE(PutPart(store, 2, "beta").ok());
  fs.FailNth(GetParam(), GetParam() == FsOp::kAppend ? 2 : 1);
  auto id = store.Assemble(kUpload, {1, 2});
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), ErrorCode::kIoError);
  EXPECT_NE(id.status().message().find("injected"), std::string::npos) << id.status().ToString();
  EXPECT_TRUE(Entries("tmp").empty());
  EXPECT_TRUE(Entries("objects").empty());
  EXPECT_EQ(Entries(std::string("uploads/") + kUpload).size(), 2u);
  fs.Heal();
  auto again = store.Assemble(kUpload, {1, 2});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ReadObject(store, *again), "alphabeta");
}

INSTANTIATE_TEST_SUITE_P(Steps, AssembleFailureTest,
                         ::testing::Values(FsOp::kCreate, FsOp::kAppend, FsOp::kSync, FsOp::kClose,
                                           FsOp::kRename, FsOp::kSyncDir),
                         [](const auto& info) { return std::string(FsOpName(info.param)); });

TEST_F(UploadTest, PartCommitFailureKeepsTheEarlierPart) {
  FaultyFileSystem fs(FileSystem::Default());
  DirectoryStore store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  ASSERT_TRUE(store.CreateUpload(kUpload).ok());
  ASSERT_TRUE(PutPart(store, 1, "good").ok());
  fs.FailNth(FsOp::kSync, 1);
  EXPECT_EQ(PutPart(store, 1, "lost").status().code(), ErrorCode::kIoError);
  EXPECT_TRUE(Entries("tmp").empty());
  auto id = store.Assemble(kUpload, {1});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(ReadObject(store, *id), "good");
}

TEST_F(UploadTest, RemoveUploadReportsFailure) {
  FaultyFileSystem fs(FileSystem::Default());
  DirectoryStore store(fs, root_);
  ASSERT_TRUE(store.Init().ok());
  ASSERT_TRUE(store.CreateUpload(kUpload).ok());
  ASSERT_TRUE(PutPart(store, 1, "x").ok());
  fs.FailNth(FsOp::kRemove, 1);
  EXPECT_EQ(store.RemoveUpload(kUpload).code(), ErrorCode::kIoError);
  ASSERT_TRUE(store.RemoveUpload(kUpload).ok());
  EXPECT_TRUE(Entries("uploads").empty());
}

// testing::MemoryFile is not a POSIX file: AppendFrom takes the portable path.
using testing::MemoryFile;

TEST_F(LandingTest, AppendFromCopiesRangesFromAnyFile) {
  std::filesystem::create_directories(root_);
  FileSystem& fs = FileSystem::Default();
  const std::string src_path = root_ + "/src";
  {
    auto src = fs.NewWritableFile(src_path);
    ASSERT_TRUE(src.ok());
    ASSERT_TRUE((*src)->Append(AsBytes("0123456789")).ok());
    ASSERT_TRUE((*src)->Close().ok());
  }
  auto src = fs.OpenRandomAccess(src_path);
  ASSERT_TRUE(src.ok());
  auto out = fs.NewWritableFile(root_ + "/out");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->AppendFrom(**src, 2, 3).ok());                // in-kernel
  ASSERT_TRUE((*out)->AppendFrom(MemoryFile("-mem-"), 1, 3).ok());  // portable
  ASSERT_TRUE((*out)->AppendFrom(**src, 8, 2).ok());
  EXPECT_EQ((*out)->size(), 8u);
  EXPECT_EQ((*out)->AppendFrom(**src, 8, 3).code(), ErrorCode::kCorruptFile);
  EXPECT_EQ((*out)->AppendFrom(MemoryFile("ab"), 1, 2).code(), ErrorCode::kCorruptFile);
  ASSERT_TRUE((*out)->Close().ok());
  auto text = fs.ReadSmallFile(root_ + "/out");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "234mem89");
}

}  // namespace
}  // namespace sluice::landing
