#include "sluice/landing/landing.h"

#include <openssl/rand.h>

#include <array>
#include <utility>

namespace sluice::landing {
namespace {

constexpr char kTmpDir[] = "tmp";
constexpr char kObjectsDir[] = "objects";
constexpr char kUploadsDir[] = "uploads";
// S3's part-number range.
constexpr int kMinPartNumber = 1;
constexpr int kMaxPartNumber = 10000;
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

Status InvalidPartNumber(int part_number) {
  return Err(ErrorCode::kInvalidArgument, "landing: part number " + std::to_string(part_number) +
                                              " is outside " + std::to_string(kMinPartNumber) +
                                              ".." + std::to_string(kMaxPartNumber));
}

std::string PartName(int part_number) { return "part-" + std::to_string(part_number); }

Status InvalidId(const std::string& id) {
  return Err(ErrorCode::kInvalidArgument,
             "landing: '" + id + "' is not a landed object id (32 lower-case hex characters)");
}

class IncomingFile final : public Incoming {
 public:
  // Commit renames the file to `final_dir`/`name` and returns `name`.
  IncomingFile(FileSystem& fs, std::unique_ptr<WritableFile> file, std::string tmp_path,
               std::string name, std::string final_dir)
      : fs_(fs),
        file_(std::move(file)),
        tmp_path_(std::move(tmp_path)),
        id_(std::move(name)),
        objects_dir_(std::move(final_dir)) {}

  ~IncomingFile() override { Abort(); }

  Status Append(ByteView data) override {
    if (spent_) return Err(ErrorCode::kInternal, "landing: append to a finished incoming file");
    return file_->Append(data);
  }

  uint64_t size() const override { return file_ ? file_->size() : size_at_finish_; }

  // For Assemble: appends a whole file inside the kernel.
  Status AppendFile(const RandomAccessFile& src) {
    if (spent_) return Err(ErrorCode::kInternal, "landing: append to a finished incoming file");
    return file_->AppendFrom(src, 0, src.size());
  }

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
    CrashPoint("landing.durable");
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

DirectoryStore::DirectoryStore(FileSystem& fs, std::string root, const std::string& node)
    : fs_(fs), root_(std::move(root)) {
  tmp_ = JoinPath(root_, kTmpDir);
  if (!node.empty()) tmp_ = JoinPath(tmp_, node);
}

Status DirectoryStore::Init() {
  const std::string& tmp = tmp_;
  const std::string objects = JoinPath(root_, kObjectsDir);
  SLUICE_RETURN_IF_ERROR(fs_.CreateDirs(tmp));
  SLUICE_RETURN_IF_ERROR(fs_.CreateDirs(objects));
  SLUICE_RETURN_IF_ERROR(fs_.CreateDirs(JoinPath(root_, kUploadsDir)));
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
  if (tmp_ != JoinPath(root_, kTmpDir)) SLUICE_RETURN_IF_ERROR(fs_.SyncDir(DirName(tmp_)));
  SLUICE_RETURN_IF_ERROR(fs_.SyncDir(root_));
  return Status::Ok();
}

Result<std::unique_ptr<Incoming>> DirectoryStore::Begin() {
  SLUICE_ASSIGN_OR_RETURN(std::string id, RandomId());
  std::string tmp_path = JoinPath(tmp_, id);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs_.NewWritableFile(tmp_path));
  return std::unique_ptr<Incoming>(new IncomingFile(fs_, std::move(file), std::move(tmp_path),
                                                    std::move(id), JoinPath(root_, kObjectsDir)));
}

std::string DirectoryStore::PathOf(const std::string& id) const {
  return JoinPath(JoinPath(root_, kObjectsDir), id);
}

Result<std::unique_ptr<RandomAccessFile>> DirectoryStore::Open(const std::string& id) const {
  if (!IsValidId(id)) return InvalidId(id);
  const std::string path = PathOf(id);
  if (!fs_.Exists(path)) {
    return Err(ErrorCode::kNotFound, "landing: no object " + id + " in " + root_);
  }
  return fs_.OpenRandomAccess(path);
}

Status DirectoryStore::Remove(const std::string& id) {
  if (!IsValidId(id)) return InvalidId(id);
  const std::string objects = JoinPath(root_, kObjectsDir);
  SLUICE_RETURN_IF_ERROR(fs_.Remove(JoinPath(objects, id)));
  return fs_.SyncDir(objects);
}

Result<uint64_t> DirectoryStore::FreeBytes() const { return fs_.FreeBytes(root_); }

Result<std::string> Store::NewId() { return RandomId(); }

Status DirectoryStore::CreateUpload(const std::string& upload_id) {
  if (!IsValidId(upload_id)) return InvalidId(upload_id);
  const std::string uploads = JoinPath(root_, kUploadsDir);
  SLUICE_RETURN_IF_ERROR(fs_.CreateDirs(JoinPath(uploads, upload_id)));
  return fs_.SyncDir(uploads);
}

Result<std::unique_ptr<Incoming>> DirectoryStore::BeginPart(const std::string& upload_id,
                                                            int part_number) {
  if (!IsValidId(upload_id)) return InvalidId(upload_id);
  if (part_number < kMinPartNumber || part_number > kMaxPartNumber) {
    return InvalidPartNumber(part_number);
  }
  std::string dir = JoinPath(JoinPath(root_, kUploadsDir), upload_id);
  if (!fs_.Exists(dir)) {
    return Err(ErrorCode::kNotFound, "landing: no upload directory " + dir);
  }
  SLUICE_ASSIGN_OR_RETURN(std::string tmp_name, RandomId());
  std::string tmp_path = JoinPath(tmp_, tmp_name);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs_.NewWritableFile(tmp_path));
  return std::unique_ptr<Incoming>(new IncomingFile(fs_, std::move(file), std::move(tmp_path),
                                                    PartName(part_number), std::move(dir)));
}

Result<std::string> DirectoryStore::Assemble(const std::string& upload_id,
                                             const std::vector<int>& part_numbers) {
  if (!IsValidId(upload_id)) return InvalidId(upload_id);
  const std::string dir = JoinPath(JoinPath(root_, kUploadsDir), upload_id);
  // Open every part first: a missing one fails before anything is written.
  std::vector<std::unique_ptr<RandomAccessFile>> parts;
  parts.reserve(part_numbers.size());
  for (int n : part_numbers) {
    if (n < kMinPartNumber || n > kMaxPartNumber) return InvalidPartNumber(n);
    const std::string path = JoinPath(dir, PartName(n));
    if (!fs_.Exists(path)) {
      return Err(ErrorCode::kNotFound, "landing: part " + std::to_string(n) + " of upload " +
                                           upload_id + " is not on disk");
    }
    SLUICE_ASSIGN_OR_RETURN(auto part, fs_.OpenRandomAccess(path));
    parts.push_back(std::move(part));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Incoming> incoming, Begin());
  auto* file = static_cast<IncomingFile*>(incoming.get());
  for (const auto& part : parts) {
    Status st = file->AppendFile(*part);
    if (!st.ok()) {
      file->Abort();
      return st.WithContext("landing: assembling upload " + upload_id);
    }
  }
  return file->Commit();
}

Status DirectoryStore::RemoveUpload(const std::string& upload_id) {
  if (!IsValidId(upload_id)) return InvalidId(upload_id);
  const std::string uploads = JoinPath(root_, kUploadsDir);
  const std::string dir = JoinPath(uploads, upload_id);
  if (!fs_.Exists(dir)) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(dir));
  for (const std::string& name : names) SLUICE_RETURN_IF_ERROR(fs_.Remove(JoinPath(dir, name)));
  SLUICE_RETURN_IF_ERROR(fs_.RemoveDir(dir));
  return fs_.SyncDir(uploads);
}

Result<std::vector<std::string>> DirectoryStore::ListUploads() const {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          fs_.ListDir(JoinPath(root_, kUploadsDir)));
  std::vector<std::string> out;
  for (std::string& name : names) {
    if (IsValidId(name)) out.push_back(std::move(name));
  }
  return out;
}

Result<std::vector<std::string>> DirectoryStore::ListObjects() const {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          fs_.ListDir(JoinPath(root_, kObjectsDir)));
  std::vector<std::string> out;
  for (std::string& name : names) {
    if (IsValidId(name)) out.push_back(std::move(name));
  }
  return out;
}

Result<int64_t> DirectoryStore::CommittedAt(const std::string& id) const {
  if (!IsValidId(id)) return InvalidId(id);
  return fs_.ModifiedMicros(PathOf(id));
}

}  // namespace sluice::landing
