// The PostgreSQL catalog's multipart uploads in progress, their parts, and the record of
// completed ones (uploads.cc of the SQLite catalog).
#include <algorithm>
#include <limits>

#include "sluice/catalog/postgres/pg_catalog_internal.h"

namespace sluice::catalog {
namespace {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

// Locks the upload's row for the caller's transaction (parts, Complete and Abort of one upload
// take turns); kNoSuchUpload when it is gone.
Status LockUpload(Conn& c, const std::string& upload_id) {
  SLUICE_ASSIGN_OR_RETURN(
      Rows rows,
      c.Query("SELECT 1 FROM uploads WHERE upload_id = $1 FOR UPDATE", Params().Text(upload_id)));
  return rows.size() == 0 ? NoSuchUpload(upload_id) : Status::Ok();
}

// Forgets the upload and its parts inside the caller's transaction; returns the parts' bytes.
Result<uint64_t> ForgetUpload(Conn& c, const std::string& upload_id) {
  SLUICE_ASSIGN_OR_RETURN(
      Rows rows, c.Query("WITH p AS (DELETE FROM upload_parts WHERE upload_id = $1 RETURNING size) "
                         "SELECT coalesce(sum(size), 0)::bigint FROM p",
                         Params().Text(upload_id)));
  SLUICE_RETURN_IF_ERROR(
      c.Query("DELETE FROM uploads WHERE upload_id = $1", Params().Text(upload_id)).status());
  return static_cast<uint64_t>(PgRow(rows, 0).Int(0));
}

Result<PartRecord> PartFromRow(const PgRow& r) { return PartRecordFromRow(r); }

Result<CompletedUpload> CompletedFromPgRow(const PgRow& r) { return CompletedFromRow(r); }

}  // namespace

Status PgCatalog::CreateUpload(const UploadRecord& u) {
  SLUICE_RETURN_IF_ERROR(ValidateUpload(u));
  return Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, u.connection_id));
    if (!exists) return NoConnection(u.connection_id);
    return c
        .Query(
            "INSERT INTO uploads (upload_id, connection_id, key, table_name, "
            "content_type, metadata_json, status, error_code, error_message, "
            "initiated_at, touched_at, checksum_algorithm, checksum_type) VALUES ($1, $2, $3, "
            "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            Params()
                .Text(u.upload_id)
                .Text(u.connection_id)
                .Text(u.key)
                .Text(u.table)
                .Text(u.content_type)
                .Text(u.metadata_json)
                .Text(FileStatusName(u.status))
                .Text(u.error_code)
                .Text(u.error_message)
                .Int(u.initiated_at)
                .Int(u.touched_at != 0 ? u.touched_at : u.initiated_at)
                .Text(u.checksum_algorithm)
                .Text(u.checksum_type))
        .status();
  });
}

Result<std::optional<UploadRecord>> PgCatalog::GetUpload(const std::string& upload_id) {
  std::optional<UploadRecord> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query(SLUICE_UPLOAD_COLUMNS "WHERE upload_id = $1", Params().Text(upload_id)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadOne(rows, UploadFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<uint64_t> PgCatalog::RecordPart(const std::string& upload_id, const PartRecord& part) {
  SLUICE_RETURN_IF_ERROR(CheckPartSize(part));
  uint64_t replaced = 0;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(LockUpload(c, upload_id));
    SLUICE_ASSIGN_OR_RETURN(
        Rows old, c.Query("SELECT size FROM upload_parts WHERE upload_id = $1 AND part_number = $2",
                          Params().Text(upload_id).Int(part.part_number)));
    replaced = old.size() == 0 ? 0 : static_cast<uint64_t>(PgRow(old, 0).Int(0));
    SLUICE_RETURN_IF_ERROR(
        c.Query("INSERT INTO upload_parts (upload_id, part_number, size, md5_hex, uploaded_at, "
                "checksum_algorithm, checksum) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, "
                "md5_hex = excluded.md5_hex, uploaded_at = excluded.uploaded_at, "
                "checksum_algorithm = excluded.checksum_algorithm, checksum = excluded.checksum",
                Params()
                    .Text(upload_id)
                    .Int(part.part_number)
                    .Int(static_cast<int64_t>(part.size))
                    .Text(part.md5_hex)
                    .Int(part.uploaded_at)
                    .Text(part.checksum_algorithm)
                    .Text(part.checksum))
            .status());
    return c
        .Query("UPDATE uploads SET touched_at = greatest(touched_at, $1) WHERE upload_id = $2",
               Params().Int(part.uploaded_at).Text(upload_id))
        .status();
  }));
  return replaced;
}

Result<std::vector<PartRecord>> PgCatalog::ListParts(const std::string& upload_id) {
  return ListParts(upload_id, 0, std::numeric_limits<size_t>::max());
}

Result<std::vector<PartRecord>> PgCatalog::ListParts(const std::string& upload_id, int after_part,
                                                     size_t limit) {
  std::vector<PartRecord> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows upload, c.Query("SELECT 1 FROM uploads WHERE upload_id = $1",
                                                 Params().Text(upload_id)));
    if (upload.size() == 0) return NoSuchUpload(upload_id);
    // A seek on the primary key.
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT part_number, size, md5_hex, uploaded_at, checksum_algorithm, "
                           "checksum FROM upload_parts WHERE upload_id = $1 AND part_number > $2 "
                           "ORDER BY part_number LIMIT $3",
                           Params()
                               .Text(upload_id)
                               .Int(after_part)
                               .Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, PartFromRow));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<UploadRecord>> PgCatalog::ListUploads(const std::string& connection_id,
                                                         const std::string& prefix,
                                                         const std::string& key_marker,
                                                         const std::string& upload_id_marker,
                                                         size_t limit) {
  std::vector<UploadRecord> out;
  const PgKeyRange keys = MakePgKeyRange(prefix, key_marker);
  if (limit == 0 || keys.empty) return out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    out.clear();
    if (!key_marker.empty() && !upload_id_marker.empty() && key_marker.starts_with(prefix) &&
        keys.after == key_marker) {
      // The uploads of key_marker after the marker upload (when it is one of key_marker's; a
      // marker that is gone or names another key's upload is ignored, as in S3), by
      // (initiated_at, ord): a seek on uploads_by_key.
      SLUICE_ASSIGN_OR_RETURN(
          Rows rows, c.Query(SLUICE_UPLOAD_COLUMNS
                             "WHERE connection_id = $1 AND key = $2 AND (initiated_at, ord) > "
                             "(SELECT initiated_at, ord FROM uploads WHERE upload_id = $3 AND "
                             "connection_id = $1 AND key = $2) ORDER BY initiated_at, ord LIMIT $4",
                             Params()
                                 .Text(connection_id)
                                 .Text(key_marker)
                                 .Text(upload_id_marker)
                                 .Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))));
      SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, UploadFromRow<PgRow>));
    }
    if (out.size() >= limit) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(SLUICE_UPLOAD_COLUMNS
                "WHERE connection_id = $1 AND key > $2 AND key >= $3 AND ($4 = 0 OR key < $5) "
                "ORDER BY key, initiated_at, ord LIMIT $6",
                Params()
                    .Text(connection_id)
                    .Text(keys.after)
                    .Text(keys.from)
                    .Int(keys.before ? 1 : 0)
                    .Text(keys.before ? *keys.before : std::string())
                    .Int(static_cast<int64_t>(std::min<size_t>(limit - out.size(), INT64_MAX)))));
    SLUICE_ASSIGN_OR_RETURN(std::vector<UploadRecord> rest, ReadAll(rows, UploadFromRow<PgRow>));
    for (UploadRecord& u : rest) out.push_back(std::move(u));
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> PgCatalog::CompleteUpload(FileRecord file, CompletedUpload done,
                                          uint64_t* parts_bytes) {
  SLUICE_RETURN_IF_ERROR(ValidateFileRecord(file));
  if (file.received_at == 0) file.received_at = clock_.NowMicros();
  if (done.completed_at == 0) done.completed_at = file.received_at;
  int64_t seq = 0;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(LockUpload(c, done.upload_id));
    SLUICE_ASSIGN_OR_RETURN(seq, InsertFile(c, file));
    SLUICE_ASSIGN_OR_RETURN(uint64_t parts, ForgetUpload(c, done.upload_id));
    if (parts_bytes != nullptr) *parts_bytes = parts;
    return c
        .Query(
            "INSERT INTO completed_uploads (upload_id, connection_id, key, seq, etag, "
            "parts, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            Params()
                .Text(done.upload_id)
                .Text(file.connection_id)
                .Text(file.key)
                .Int(seq)
                .Text(done.etag)
                .Text(done.parts)
                .Int(done.completed_at))
        .status();
  }));
  return seq;
}

Result<std::optional<CompletedUpload>> PgCatalog::GetCompletedUpload(const std::string& upload_id) {
  std::optional<CompletedUpload> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT upload_id, connection_id, key, seq, etag, parts, completed_at "
                           "FROM completed_uploads WHERE upload_id = $1",
                           Params().Text(upload_id)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadOne(rows, CompletedFromPgRow));
    return Status::Ok();
  }));
  return out;
}

Result<uint64_t> PgCatalog::DeleteUpload(const std::string& upload_id) {
  uint64_t parts = 0;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(LockUpload(c, upload_id));
    SLUICE_ASSIGN_OR_RETURN(parts, ForgetUpload(c, upload_id));
    return Status::Ok();
  }));
  return parts;
}

Result<std::vector<UploadRecord>> PgCatalog::UploadsTouchedBefore(int64_t micros) {
  std::vector<UploadRecord> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query(SLUICE_UPLOAD_COLUMNS "WHERE touched_at < $1 ORDER BY touched_at",
                           Params().Int(micros)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, UploadFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> PgCatalog::ForgetCompletedBefore(int64_t micros) {
  int64_t removed = 0;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("DELETE FROM completed_uploads WHERE completed_at < $1", Params().Int(micros)));
    removed = rows.affected();
    return Status::Ok();
  }));
  return removed;
}

}  // namespace sluice::catalog
