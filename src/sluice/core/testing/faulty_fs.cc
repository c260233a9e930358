#include "sluice/core/testing/faulty_fs.h"

namespace sluice::testing {
namespace {

class FaultyWritableFile final : public WritableFile {
 public:
  FaultyWritableFile(FaultyFileSystem& fs, std::unique_ptr<WritableFile> base, std::string path)
      : fs_(fs), base_(std::move(base)), path_(std::move(path)) {}

  Status Append(ByteView data) override {
    SLUICE_RETURN_IF_ERROR(fs_.Check(FsOp::kAppend, path_));
    return base_->Append(data);
  }
  Status Sync() override {
    SLUICE_RETURN_IF_ERROR(fs_.Check(FsOp::kSync, path_));
    return base_->Sync();
  }
  Status Close() override {
    // The descriptor is released even when the close "fails", as close(2) does.
    Status injected = fs_.Check(FsOp::kClose, path_);
    Status st = base_->Close();
    return injected.ok() ? st : injected;
  }
  uint64_t size() const override { return base_->size(); }
  // Counted as an append; forwarded whole so that the base keeps its in-kernel copy.
  Status AppendFrom(const RandomAccessFile& src, uint64_t offset, uint64_t n) override {
    SLUICE_RETURN_IF_ERROR(fs_.Check(FsOp::kAppend, path_));
    return base_->AppendFrom(src, offset, n);
  }

 private:
  FaultyFileSystem& fs_;
  std::unique_ptr<WritableFile> base_;
  std::string path_;
};

class ShortReadFile final : public RandomAccessFile {
 public:
  ShortReadFile(std::unique_ptr<RandomAccessFile> base, uint64_t readable)
      : base_(std::move(base)), readable_(readable) {}
  uint64_t size() const override { return base_->size(); }
  Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
    if (offset + n > readable_) return Err(ErrorCode::kIoError, name() + ": read: EIO");
    return base_->ReadAt(offset, n, out);
  }
  const std::string& name() const override { return base_->name(); }

 private:
  std::unique_ptr<RandomAccessFile> base_;
  uint64_t readable_;
};

}  // namespace

std::string_view FsOpName(FsOp op) {
  switch (op) {
    case FsOp::kCreate:
      return "create";
    case FsOp::kAppend:
      return "append";
    case FsOp::kSync:
      return "sync";
    case FsOp::kClose:
      return "close";
    case FsOp::kRename:
      return "rename";
    case FsOp::kSyncDir:
      return "syncdir";
    case FsOp::kRemove:
      return "remove";
    case FsOp::kCount:
      break;
  }
  return "?";
}

void FaultyFileSystem::FailNth(FsOp op, int nth, bool sticky) {
  MutexLock lock(&mu_);
  const size_t i = static_cast<size_t>(op);
  faults_[i] = Fault{nth > 0 ? calls_[i] + nth : 0, sticky};
}

void FaultyFileSystem::FailReadsPast(uint64_t readable) {
  MutexLock lock(&mu_);
  readable_ = readable;
}

void FaultyFileSystem::Heal() {
  MutexLock lock(&mu_);
  faults_ = {};
  readable_ = UINT64_MAX;
}

int64_t FaultyFileSystem::calls(FsOp op) const {
  MutexLock lock(&mu_);
  return calls_[static_cast<size_t>(op)];
}

Status FaultyFileSystem::Check(FsOp op, const std::string& what) {
  MutexLock lock(&mu_);
  const size_t i = static_cast<size_t>(op);
  const int64_t n = ++calls_[i];
  const Fault& f = faults_[i];
  if (f.fail_at == 0) return Status::Ok();
  if (n == f.fail_at || (f.sticky && n > f.fail_at)) {
    return Err(ErrorCode::kIoError, "injected " + std::string(FsOpName(op)) + " failure on " +
                                        what + " (call " + std::to_string(n) + ")");
  }
  return Status::Ok();
}

Result<std::unique_ptr<WritableFile>> FaultyFileSystem::NewWritableFile(const std::string& path) {
  SLUICE_RETURN_IF_ERROR(Check(FsOp::kCreate, path));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base().NewWritableFile(path));
  return std::unique_ptr<WritableFile>(new FaultyWritableFile(*this, std::move(file), path));
}

Result<std::unique_ptr<RandomAccessFile>> FaultyFileSystem::OpenRandomAccess(
    const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, base().OpenRandomAccess(path));
  uint64_t readable;
  {
    MutexLock lock(&mu_);
    readable = readable_;
  }
  if (readable == UINT64_MAX) return file;
  return std::unique_ptr<RandomAccessFile>(new ShortReadFile(std::move(file), readable));
}

Status FaultyFileSystem::Rename(const std::string& from, const std::string& to) {
  SLUICE_RETURN_IF_ERROR(Check(FsOp::kRename, from));
  return base().Rename(from, to);
}

Status FaultyFileSystem::SyncDir(const std::string& dir) {
  SLUICE_RETURN_IF_ERROR(Check(FsOp::kSyncDir, dir));
  return base().SyncDir(dir);
}

Status FaultyFileSystem::Remove(const std::string& path) {
  SLUICE_RETURN_IF_ERROR(Check(FsOp::kRemove, path));
  return base().Remove(path);
}

Status FaultyFileSystem::RemoveDir(const std::string& dir) {
  SLUICE_RETURN_IF_ERROR(Check(FsOp::kRemove, dir));
  return base().RemoveDir(dir);
}

}  // namespace sluice::testing
