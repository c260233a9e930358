// The data directory's permissions. Everything under it is either other people's data (landed
// objects, the pool, the ledger) or a secret (secret.key, admin.token), so it is the service
// user's alone: the directory 0700, its files 0600.

#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "sluice/app/app.h"

namespace sluice::app {
namespace {

namespace stdfs = std::filesystem;

// The files a data directory's databases consist of; SQLite creates the -wal and -shm files
// with the mode of their database file.
constexpr const char* kDatabaseFiles[] = {"catalog.db", "catalog.db-wal", "catalog.db-shm",
                                          "pool.db",    "pool.db-wal",    "pool.db-shm"};

Status Chmod(const std::string& path, stdfs::perms perms) {
  std::error_code ec;
  stdfs::permissions(path, perms, stdfs::perm_options::replace, ec);
  if (ec) return Err(ErrorCode::kIoError, "chmod " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Status SecureDataDir(const std::string& data_dir) {
  std::error_code ec;
  stdfs::create_directories(data_dir, ec);
  if (ec) return Err(ErrorCode::kIoError, "create directory " + data_dir + ": " + ec.message());
  // A directory made by an older sluice (or by hand) is tightened rather than refused: the
  // fix is safe and the operator asked for this directory to be sluice's.
  SLUICE_RETURN_IF_ERROR(Chmod(data_dir, stdfs::perms::owner_all));
  for (const char* name : kDatabaseFiles) {
    const std::string path = JoinPath(data_dir, name);
    if (!stdfs::exists(path, ec)) continue;
    SLUICE_RETURN_IF_ERROR(Chmod(path, stdfs::perms::owner_read | stdfs::perms::owner_write));
  }
  return Status::Ok();
}

Status CheckPrivateFile(const std::string& path, std::string_view what) {
  std::error_code ec;
  const stdfs::file_status st = stdfs::status(path, ec);
  if (ec) return Err(ErrorCode::kIoError, "stat " + path + ": " + ec.message());
  const auto others = stdfs::perms::group_all | stdfs::perms::others_all;
  if ((st.permissions() & others) == stdfs::perms::none) return Status::Ok();
  char octal[8];
  std::snprintf(octal, sizeof(octal), "%04o",
                static_cast<unsigned>(st.permissions() & stdfs::perms::mask));
  return Err(ErrorCode::kInvalidArgument,
             path + " (" + std::string(what) + ") has mode " + octal +
                 ": other users could read it; make it private with: chmod 600 " + path);
}

Result<Secret> LoadOrCreateAdminToken(FileSystem& fs, const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, "admin.token");
  if (fs.Exists(path)) {
    SLUICE_RETURN_IF_ERROR(CheckPrivateFile(path, "the admin token"));
    SLUICE_ASSIGN_OR_RETURN(std::string text, fs.ReadSmallFile(path));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) return Err(ErrorCode::kInvalidArgument, path + " is empty");
    return Secret(std::move(text));
  }
  uint8_t raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return Err(ErrorCode::kInternal, "RAND_bytes failed");
  std::string token = ToHex(ByteView(raw, sizeof raw));
  SLUICE_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(path));
  SLUICE_RETURN_IF_ERROR(file->Append(AsBytes(token + "\n")));
  SLUICE_RETURN_IF_ERROR(file->Sync());
  SLUICE_RETURN_IF_ERROR(file->Close());
  SLUICE_RETURN_IF_ERROR(fs.SyncDir(data_dir));
  return Secret(std::move(token));
}

}  // namespace sluice::app
