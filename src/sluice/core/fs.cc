#include "sluice/core/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "sluice/core/crash_point.h"

namespace sluice {
namespace {

// A full file system (or quota) is transient from a client's point of view: SlowDown, which
// every S3 client retries, rather than InternalError.
Status Errno(const std::string& what, const std::string& path) {
  const int err = errno;
  const ErrorCode code =
      err == ENOSPC || err == EDQUOT ? ErrorCode::kSlowDown : ErrorCode::kIoError;
  return Status(code, what + " " + path + ": " + std::strerror(err));
}

// The buffer of the portable AppendFrom: large enough to amortise the calls, small enough
// that no object is ever held in memory whole.
constexpr size_t kCopyBufferBytes = 1 << 20;

class PosixRandomAccessFile;

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(ByteView data) override {
    if (direct_) return AppendDirect(data);
    // Past the threshold, and at a block boundary, large files switch to direct I/O.
    if (!direct_tried_ && size_ + data.size() >= kDirectAfterBytes) {
      const uint64_t head = kDirectAfterBytes > size_ ? kDirectAfterBytes - size_ : 0;
      if (size_ % kDirectAlign == 0 || head > 0) {
        const size_t buffered = static_cast<size_t>(std::min<uint64_t>(head, data.size()));
        SLUICE_RETURN_IF_ERROR(WriteAll(data.first(buffered)));
        size_ += buffered;
        data = data.subspan(buffered);
        if (size_ % kDirectAlign == 0) EnterDirect();
        if (direct_) return AppendDirect(data);
      }
    }
    SLUICE_RETURN_IF_ERROR(WriteAll(data));
    size_ += data.size();
    StartWriteBehind();
    return Status::Ok();
  }

  Status Sync() override {
    SLUICE_RETURN_IF_ERROR(LeaveDirect());
    CrashPoint("fs.sync");
    if (::fdatasync(fd_) != 0) return Errno("fdatasync", path_);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    Status flushed = LeaveDirect();
    const int rc = ::close(fd_);
    fd_ = -1;
    SLUICE_RETURN_IF_ERROR(flushed);
    if (rc != 0) return Errno("close", path_);
    return Status::Ok();
  }

  uint64_t size() const override { return size_; }

  Status AppendFrom(const RandomAccessFile& src, uint64_t offset, uint64_t n) override;

 private:
  // Write-behind: a durable PUT ends with an fdatasync of the whole file, and on a large file
  // that flush is most of the request's time (PERFORMANCE.md: ~0.5–2 GB/s to disk against
  // ~0.8 GB/s for the MD5 the ETag needs). Starting the writeback of every completed window
  // while the body still arrives lets the disk work in parallel with the receive, so the final
  // fdatasync finds little left to do. Advisory: errors surface at Sync.
  static constexpr uint64_t kWriteBehindBytes = 8ull << 20;

  void StartWriteBehind() {
    if (size_ - written_back_ < kWriteBehindBytes) return;
    ::sync_file_range(fd_, static_cast<off_t>(written_back_),
                      static_cast<off_t>(size_ - written_back_), SYNC_FILE_RANGE_WRITE);
    written_back_ = size_;
  }

  // Direct I/O for large files: on these VMs copying into fresh page-cache pages costs more
  // than the disk (PERFORMANCE.md: write + fsync of 1 GiB 0.67 GB/s through the page cache,
  // 1.9 GB/s with O_DIRECT; a profile of a 1 GiB PUT spent ~40 % of its time in that copy).
  // The first kDirectAfterBytes go through the page cache (small files never leave it); then
  // the file is opened for direct I/O and written from one aligned, reused buffer. The tail
  // that does not fill a block is written through the page cache again by Sync or Close (and
  // before AppendFrom). A file system without O_DIRECT (tmpfs) keeps the page cache.
  static constexpr uint64_t kDirectAfterBytes = 8ull << 20;
  static constexpr size_t kDirectAlign = 4096;
  static constexpr size_t kDirectBufferBytes = 4u << 20;

  struct FreeAligned {
    void operator()(uint8_t* p) const { std::free(p); }
  };

  Status WriteAll(ByteView data) {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write", path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  void EnterDirect() {
    direct_tried_ = true;
    void* mem = nullptr;
    if (::posix_memalign(&mem, kDirectAlign, kDirectBufferBytes) != 0) return;
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_DIRECT) != 0) {
      std::free(mem);
      return;
    }
    direct_buffer_.reset(static_cast<uint8_t*>(mem));
    direct_used_ = 0;
    direct_ = true;
  }

  Status AppendDirect(ByteView data) {
    while (!data.empty()) {
      const size_t n = std::min(data.size(), kDirectBufferBytes - direct_used_);
      std::memcpy(direct_buffer_.get() + direct_used_, data.data(), n);
      direct_used_ += n;
      size_ += n;
      data = data.subspan(n);
      if (direct_used_ == kDirectBufferBytes) {
        SLUICE_RETURN_IF_ERROR(WriteAll(ByteView(direct_buffer_.get(), direct_used_)));
        direct_used_ = 0;
      }
    }
    return Status::Ok();
  }

  // Writes what the direct buffer holds (whole blocks directly, the rest through the page
  // cache) and returns the file to buffered I/O.
  Status LeaveDirect() {
    if (!direct_) return Status::Ok();
    direct_ = false;
    const size_t whole = direct_used_ / kDirectAlign * kDirectAlign;
    SLUICE_RETURN_IF_ERROR(WriteAll(ByteView(direct_buffer_.get(), whole)));
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) {
      return Errno("fcntl", path_);
    }
    SLUICE_RETURN_IF_ERROR(WriteAll(ByteView(direct_buffer_.get() + whole, direct_used_ - whole)));
    direct_used_ = 0;
    direct_buffer_.reset();
    written_back_ = size_;  // direct writes need no writeback
    return Status::Ok();
  }

  std::string path_;
  int fd_;
  uint64_t size_ = 0;
  uint64_t written_back_ = 0;  // bytes whose writeback has been started
  bool direct_tried_ = false;
  bool direct_ = false;
  std::unique_ptr<uint8_t, FreeAligned> direct_buffer_;
  size_t direct_used_ = 0;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  uint64_t size() const override { return size_; }
  const std::string& name() const override { return path_; }
  int fd() const { return fd_; }

  Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
    if (offset > size_ || n > size_ - offset) {
      return Status(ErrorCode::kCorruptFile, "read of " + std::to_string(n) + " bytes at offset " +
                                                 std::to_string(offset) + " passes the end of " +
                                                 path_ + " (" + std::to_string(size_) + " bytes)");
    }
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      const ssize_t r =
          ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("read", path_);
      }
      if (r == 0) return Status(ErrorCode::kIoError, "unexpected end of " + path_);
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

Status PosixWritableFile::AppendFrom(const RandomAccessFile& src, uint64_t offset, uint64_t n) {
  SLUICE_RETURN_IF_ERROR(LeaveDirect());
  direct_tried_ = true;  // assembled by copies in the kernel: no direct I/O
  const auto* posix = dynamic_cast<const PosixRandomAccessFile*>(&src);
  if (posix == nullptr) return WritableFile::AppendFrom(src, offset, n);
  if (offset > src.size() || n > src.size() - offset) {
    return Status(ErrorCode::kCorruptFile, "copy of " + std::to_string(n) + " bytes at offset " +
                                               std::to_string(offset) + " passes the end of " +
                                               src.name());
  }
  auto in_off = static_cast<loff_t>(offset);
  uint64_t left = n;
  while (left > 0) {
    // In windows, each followed by write-behind: assembling 5 GiB must not leave gigabytes of
    // dirty pages for the final fdatasync, which every other file's sync would queue behind.
    const auto window = static_cast<size_t>(std::min(left, kWriteBehindBytes));
    const ssize_t r = ::copy_file_range(posix->fd(), &in_off, fd_, nullptr, window, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
        // A kernel or file system that cannot copy between these files: sendfile still keeps
        // the bytes in the kernel.
        auto src_off = static_cast<off_t>(in_off);
        while (left > 0) {
          const ssize_t s = ::sendfile(fd_, posix->fd(), &src_off,
                                       static_cast<size_t>(std::min(left, kWriteBehindBytes)));
          if (s < 0) {
            if (errno == EINTR) continue;
            return Errno("sendfile from " + src.name() + " to", path_);
          }
          if (s == 0) return Status(ErrorCode::kIoError, "unexpected end of " + src.name());
          left -= static_cast<uint64_t>(s);
          size_ += static_cast<uint64_t>(s);
          StartWriteBehind();
        }
        return Status::Ok();
      }
      return Errno("copy_file_range from " + src.name() + " to", path_);
    }
    if (r == 0) return Status(ErrorCode::kIoError, "unexpected end of " + src.name());
    left -= static_cast<uint64_t>(r);
    size_ += static_cast<uint64_t>(r);
    StartWriteBehind();
  }
  return Status::Ok();
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Errno("create", path);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = Errno("stat", path);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    CrashPoint("fs.rename");
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename to " + to + " from", from);
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    CrashPoint("fs.sync");
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open directory", dir);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return Errno("fsync directory", dir);
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("remove", path);
    return Status::Ok();
  }

  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Errno("remove directory", dir);
    return Status::Ok();
  }

  Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "create directory " + dir + ": " + ec.message());
    return Status::Ok();
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Errno("list", dir);
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    return names;
  }

  Result<std::string> ReadSmallFile(const std::string& path) override {
    SLUICE_ASSIGN_OR_RETURN(auto file, OpenRandomAccess(path));
    std::vector<uint8_t> bytes;
    SLUICE_RETURN_IF_ERROR(file->ReadAt(0, file->size(), &bytes));
    return std::string(bytes.begin(), bytes.end());
  }

  Result<uint64_t> FreeBytes(const std::string& dir) override {
    struct statvfs st;
    if (::statvfs(dir.c_str(), &st) != 0) return Errno("statvfs", dir);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  Result<int64_t> ModifiedMicros(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Err(ErrorCode::kNotFound, "stat " + path + ": no such file");
      return Errno("stat", path);
    }
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
  }
};

}  // namespace

Status WritableFile::AppendFrom(const RandomAccessFile& src, uint64_t offset, uint64_t n) {
  std::vector<uint8_t> buffer;
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, kCopyBufferBytes));
    SLUICE_RETURN_IF_ERROR(src.ReadAt(offset, chunk, &buffer));
    SLUICE_RETURN_IF_ERROR(Append(ByteView(buffer.data(), buffer.size())));
    offset += chunk;
    n -= chunk;
  }
  return Status::Ok();
}

FileSystem& FileSystem::Default() {
  static PosixFileSystem fs;
  return fs;
}

std::string DirName(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

Result<std::unique_ptr<FileLock>> FileLock::TryAcquire(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open the lock file", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err != EWOULDBLOCK) {
      errno = err;
      return Errno("lock", path);
    }
    const int64_t pid = HolderPid(path);
    return Status(
        ErrorCode::kUnavailable,
        path + " is held by " + (pid > 0 ? "pid " + std::to_string(pid) : "another process"));
  }
  // Ours now: record who holds it. A failure here costs only the pid in others' messages.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return std::unique_ptr<FileLock>(new FileLock(path, fd));
}

FileLock::~FileLock() {
  // Closing the only descriptor of the open file description releases the flock. The file
  // stays: removing it would race with a process that has just opened it.
  ::close(fd_);
}

int64_t FileLock::HolderPid(const std::string& path) {
  auto text = FileSystem::Default().ReadSmallFile(path);
  if (!text.ok()) return 0;
  int64_t pid = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') break;
    if (pid > (int64_t{1} << 40)) return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

}  // namespace sluice
