// Multipart uploads in progress, their parts, and the record of completed ones.
#include <algorithm>
#include <limits>

#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/queries_internal.h"

namespace sluice::catalog {
namespace {

Result<bool> UploadExists(sqlite::Db& db, const std::string& upload_id) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db.Cached("SELECT 1 FROM uploads WHERE upload_id = ?"));
  q.Bind(1, upload_id);
  return q.Step();
}

// The total size of an upload's recorded parts, inside the caller's transaction.
Result<uint64_t> PartsBytes(sqlite::Db& db, const std::string& upload_id) {
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db.Cached("SELECT coalesce(sum(size), 0) FROM upload_parts WHERE upload_id = ?"));
  q.Bind(1, upload_id);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<uint64_t>(q.Int(0)) : uint64_t{0};
}

}  // namespace

Status SqliteCatalog::CreateUpload(const UploadRecord& u) {
  SLUICE_RETURN_IF_ERROR(ValidateUpload(u));
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(u.connection_id));
    if (!exists) return NoConnection(u.connection_id);
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("INSERT INTO uploads (upload_id, connection_id, key, table_name, "
                    "content_type, metadata_json, status, error_code, error_message, "
                    "initiated_at, touched_at, checksum_algorithm, checksum_type) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    q.Bind(1, u.upload_id).Bind(2, u.connection_id).Bind(3, u.key).Bind(4, u.table);
    q.Bind(5, u.content_type).Bind(6, u.metadata_json).Bind(7, FileStatusName(u.status));
    q.Bind(8, u.error_code).Bind(9, u.error_message).Bind(10, u.initiated_at);
    q.Bind(11, u.touched_at != 0 ? u.touched_at : u.initiated_at);
    q.Bind(12, u.checksum_algorithm).Bind(13, u.checksum_type);
    return q.Run();
  });
}

Result<std::optional<UploadRecord>> SqliteCatalog::GetUpload(const std::string& upload_id) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached(SLUICE_UPLOAD_COLUMNS "WHERE upload_id = ?"));
  q.Bind(1, upload_id);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<UploadRecord>();
  SLUICE_ASSIGN_OR_RETURN(UploadRecord u, UploadFromRow(q));
  return std::optional<UploadRecord>(std::move(u));
}

Result<uint64_t> SqliteCatalog::RecordPart(const std::string& upload_id, const PartRecord& part) {
  SLUICE_RETURN_IF_ERROR(CheckPartSize(part));
  MutexLock lock(&mu_);
  uint64_t replaced = 0;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, UploadExists(*db_, upload_id));
    if (!exists) return NoSuchUpload(upload_id);
    {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                              db_->Cached("SELECT size FROM upload_parts WHERE "
                                          "upload_id = ? AND part_number = ?"));
      q.Bind(1, upload_id).Bind(2, static_cast<int64_t>(part.part_number));
      SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) replaced = static_cast<uint64_t>(q.Int(0));
    }
    {
      SLUICE_ASSIGN_OR_RETURN(
          sqlite::Statement q,
          db_->Cached("INSERT OR REPLACE INTO upload_parts (upload_id, part_number, "
                      "size, md5_hex, uploaded_at, checksum_algorithm, checksum) "
                      "VALUES (?,?,?,?,?,?,?)"));
      q.Bind(1, upload_id).Bind(2, static_cast<int64_t>(part.part_number));
      q.Bind(3, static_cast<int64_t>(part.size)).Bind(4, part.md5_hex).Bind(5, part.uploaded_at);
      q.Bind(6, part.checksum_algorithm).Bind(7, part.checksum);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE uploads SET touched_at = max(touched_at, ?) "
                                        "WHERE upload_id = ?"));
    q.Bind(1, part.uploaded_at).Bind(2, upload_id);
    return q.Run();
  }));
  return replaced;
}

Result<std::vector<PartRecord>> SqliteCatalog::ListParts(const std::string& upload_id) {
  return ListParts(upload_id, 0, std::numeric_limits<size_t>::max());
}

Result<std::vector<PartRecord>> SqliteCatalog::ListParts(const std::string& upload_id,
                                                         int after_part, size_t limit) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(bool exists, UploadExists(*db_, upload_id));
  if (!exists) return NoSuchUpload(upload_id);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kPartsAfterSql));
  q.Bind(1, upload_id).Bind(2, static_cast<int64_t>(after_part));
  q.Bind(3, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<PartRecord> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(PartRecordFromRow(q));
  }
  return out;
}

Result<std::vector<UploadRecord>> SqliteCatalog::ListUploads(const std::string& connection_id,
                                                             const std::string& prefix,
                                                             const std::string& key_marker,
                                                             const std::string& upload_id_marker,
                                                             size_t limit) {
  std::vector<UploadRecord> out;
  if (limit == 0) return out;
  const std::optional<std::string> end = PrefixEnd(prefix);
  MutexLock lock(&mu_);
  if (!key_marker.empty() && !upload_id_marker.empty() && key_marker.starts_with(prefix)) {
    // Where the marker upload stands among its key's uploads; a marker that is gone (completed
    // or aborted meanwhile) or names another key's upload is ignored, as S3 ignores an
    // upload-id-marker without a key-marker.
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement at,
        db_->Cached("SELECT initiated_at, rowid FROM uploads WHERE upload_id = ?1 "
                    "AND connection_id = ?2 AND key = ?3"));
    at.Bind(1, upload_id_marker).Bind(2, connection_id).Bind(3, key_marker);
    SLUICE_ASSIGN_OR_RETURN(bool found, at.Step());
    if (found) {
      const int64_t initiated = at.Int(0);
      const int64_t rowid = at.Int(1);
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kUploadsOfKeyAfterSql));
      q.Bind(1, connection_id).Bind(2, key_marker).Bind(3, initiated).Bind(4, rowid);
      q.Bind(5, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
      SLUICE_ASSIGN_OR_RETURN(out, sqlite::ReadRows(q, UploadFromRow<sqlite::Statement>));
    }
  }
  if (out.size() >= limit) return out;
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kUploadsAfterKeySql));
  q.Bind(1, connection_id).Bind(2, key_marker).Bind(3, prefix);
  q.Bind(4, static_cast<int64_t>(end ? 1 : 0)).Bind(5, end ? *end : std::string());
  q.Bind(6, static_cast<int64_t>(std::min<size_t>(limit - out.size(), INT64_MAX)));
  SLUICE_ASSIGN_OR_RETURN(auto rest, sqlite::ReadRows(q, UploadFromRow<sqlite::Statement>));
  for (auto& u : rest) out.push_back(std::move(u));
  return out;
}

Result<int64_t> SqliteCatalog::CompleteUpload(FileRecord file, CompletedUpload done,
                                              uint64_t* parts_bytes) {
  SLUICE_RETURN_IF_ERROR(ValidateFileRecord(file));
  MutexLock lock(&mu_);
  if (file.received_at == 0) file.received_at = clock_.NowMicros();
  if (done.completed_at == 0) done.completed_at = file.received_at;
  int64_t seq = 0;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, UploadExists(*db_, done.upload_id));
    if (!exists) return NoSuchUpload(done.upload_id);
    SLUICE_ASSIGN_OR_RETURN(seq, InsertFile(file));
    SLUICE_ASSIGN_OR_RETURN(uint64_t parts, PartsBytes(*db_, done.upload_id));
    if (parts_bytes != nullptr) *parts_bytes = parts;
    {
      SLUICE_ASSIGN_OR_RETURN(
          sqlite::Statement q,
          db_->Cached("INSERT INTO completed_uploads (upload_id, connection_id, key, "
                      "seq, etag, parts, completed_at) VALUES (?,?,?,?,?,?,?)"));
      q.Bind(1, done.upload_id).Bind(2, file.connection_id).Bind(3, file.key).Bind(4, seq);
      q.Bind(5, done.etag).Bind(6, done.parts).Bind(7, done.completed_at);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    for (const char* sql : {"DELETE FROM upload_parts WHERE upload_id = ?",
                            "DELETE FROM uploads WHERE upload_id = ?"}) {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql));
      q.Bind(1, done.upload_id);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }));
  return seq;
}

Result<std::optional<CompletedUpload>> SqliteCatalog::GetCompletedUpload(
    const std::string& upload_id) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached("SELECT upload_id, connection_id, key, seq, etag, parts, "
                                      "completed_at FROM completed_uploads WHERE upload_id = ?"));
  q.Bind(1, upload_id);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<CompletedUpload>();
  return std::optional<CompletedUpload>(CompletedFromRow(q));
}

Result<uint64_t> SqliteCatalog::DeleteUpload(const std::string& upload_id) {
  MutexLock lock(&mu_);
  uint64_t parts = 0;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, UploadExists(*db_, upload_id));
    if (!exists) return NoSuchUpload(upload_id);
    SLUICE_ASSIGN_OR_RETURN(parts, PartsBytes(*db_, upload_id));
    for (const char* sql : {"DELETE FROM upload_parts WHERE upload_id = ?",
                            "DELETE FROM uploads WHERE upload_id = ?"}) {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql));
      q.Bind(1, upload_id);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }));
  return parts;
}

Result<std::vector<UploadRecord>> SqliteCatalog::UploadsTouchedBefore(int64_t micros) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached(SLUICE_UPLOAD_COLUMNS "WHERE touched_at < ? ORDER BY touched_at"));
  q.Bind(1, micros);
  return sqlite::ReadRows(q, UploadFromRow<sqlite::Statement>);
}

Result<int64_t> SqliteCatalog::ForgetCompletedBefore(int64_t micros) {
  MutexLock lock(&mu_);
  int64_t removed = 0;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("DELETE FROM completed_uploads WHERE completed_at < ?"));
    q.Bind(1, micros);
    SLUICE_RETURN_IF_ERROR(q.Run());
    removed = db_->Changes();
    return Status::Ok();
  }));
  return removed;
}

}  // namespace sluice::catalog
