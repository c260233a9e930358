#include "sluice/landing/landing.h"

#include <openssl/rand.h>

#include <array>
#include <utility>

namespace sluice::landing {
namespace {

constexpr char kTmpDir[] = "tmp";
constexpr char kObjectsDir[] = "objects";
// 16 random bytes, 32 hex characters: collisions are not a practical concern.
constexpr size_t kIdBytes = 16;

Result<std::string> RandomId() {
  std::array<uint8_t, kIdBytes> bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Err(ErrorCode::kInternal, "landing: the random generator failed");
  }
  return ToHex(ByteView(bytes.data(), bytes.size()));
}

// A committed id is exactly 32 lower-case hex characters; anything else (a path, "..") is
// refused before it reaches a file name.
bool IsValidId(const std::string& id) {
  if (id.size() != kIdBytes * 2) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status InvalidId(const std::string& id) {
  return Err(ErrorCode::kInvalidArgument,
             "landing: '" + id + "' is not a landed object id (32 lower-case hex characters)");
}

class IncomingFile final : public Incoming {
 public:
  IncomingFile(FileSystem& fs, std::unique_ptr<WritableFile> file, std::string tmp_path,
               std::string id, std::string objects_dir)
      : fs_(fs),
        file_(std::move(file)),
        tmp_path_(std::move(tmp_path)),
        id_(std::move(id)),
        objects_dir_(std::move(objects_dir)) {}

  ~IncomingFile() override { Abort(); }

  Status Append(ByteView data) override {
    if (spent_) return Err(ErrorCode::kInternal, "landing: append to a finished incoming file");
    return file_->Append(data);
  }

  uint64_t size() const override { return file_ ? file_->size() : size_at_finish_; }

  Result<std::string> Commit() override {
    if (spent_) return Err(ErrorCode::kInternal, "landing: commit of a finished incoming file");
    Status st = CommitSteps();
    if (!st.ok()) {
      Abort();
      return st.WithContext("landing: commit");
    }
    spent_ = true;
    size_at_finish_ = file_->size();
    file_.reset();
    return id_;
  }

  void Abort() override {
    if (spent_) return;
    spent_ = true;
    if (file_) {
      size_at_finish_ = file_->size();
      file_->Close().IgnoreError();
      file_.reset();
    }
    // Best effort: a leftover temp file is removed at the next Init.
    fs_.Remove(tmp_path_).IgnoreError();
    if (renamed_) fs_.Remove(JoinPath(objects_dir_, id_)).IgnoreError();
  }

 private:
  Status CommitSteps() {
    SLUICE_RETURN_IF_ERROR(file_->Sync());
    SLUICE_RETURN_IF_ERROR(file_->Close());
    SLUICE_RETURN_IF_ERROR(fs_.Rename(tmp_path_, JoinPath(objects_dir_, id_)));
    // From here the object exists under its final name; a failure of the directory sync
    // means its name may not survive a crash, so it is removed rather than acknowledged.
    renamed_ = true;
    return fs_.SyncDir(objects_dir_);
  }

  FileSystem& fs_;
  std::unique_ptr<WritableFile> file_;
  std::string tmp_path_;
  std::string id_;
  std::string objects_dir_;
  bool spent_ = false;
  bool renamed_ = false;
  uint64_t size_at_finish_ = 0;
};

}  // namespace

Store::Store(FileSystem& fs, std::string root) : fs_(fs), root_(std::move(root)) {}

Status Store::Init() {
  const std::string tmp = JoinPath(root_, kTmpDir);
  const std::string objects = JoinPath(root_, kObjectsDir);
  SLUICE_RETURN_IF_ERROR(fs_.CreateDirs(tmp));
  SLUICE_RETURN_IF_ERROR(fs_.CreateDirs(objects));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> leftovers, fs_.ListDir(tmp));
  for (const std::string& name : leftovers) {
    SLUICE_RETURN_IF_ERROR(fs_.Remove(JoinPath(tmp, name)));
  }
  if (!leftovers.empty()) {
    LogInfo("landing", "removed " + std::to_string(leftovers.size()) +
                           " unacknowledged temporary file(s) from " + tmp);
    SLUICE_RETURN_IF_ERROR(fs_.SyncDir(tmp));
  }
  // The directories themselves must survive a crash before anything is acknowledged.
  SLUICE_RETURN_IF_ERROR(fs_.SyncDir(root_));
  return Status::Ok();
}

Result<std::unique_ptr<Incoming>> Store::Begin() {
  SLUICE_ASSIGN_OR_RETURN(std::string id, RandomId());
  std::string tmp_path = JoinPath(JoinPath(root_, kTmpDir), id);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs_.NewWritableFile(tmp_path));
  return std::unique_ptr<Incoming>(new IncomingFile(fs_, std::move(file), std::move(tmp_path),
                                                    std::move(id), JoinPath(root_, kObjectsDir)));
}

std::string Store::PathOf(const std::string& id) const {
  return JoinPath(JoinPath(root_, kObjectsDir), id);
}

Result<std::unique_ptr<RandomAccessFile>> Store::Open(const std::string& id) const {
  if (!IsValidId(id)) return InvalidId(id);
  const std::string path = PathOf(id);
  if (!fs_.Exists(path)) {
    return Err(ErrorCode::kNotFound, "landing: no object " + id + " in " + root_);
  }
  return fs_.OpenRandomAccess(path);
}

Status Store::Remove(const std::string& id) {
  if (!IsValidId(id)) return InvalidId(id);
  const std::string objects = JoinPath(root_, kObjectsDir);
  SLUICE_RETURN_IF_ERROR(fs_.Remove(JoinPath(objects, id)));
  return fs_.SyncDir(objects);
}

Result<uint64_t> Store::FreeBytes() const { return fs_.FreeBytes(root_); }

}  // namespace sluice::landing
