#include <string>

#include "sluice/catalog/admins_internal.h"
#include "sluice/catalog/alerts_internal.h"
#include "sluice/catalog/catalog_internal.h"

namespace sluice::catalog {
namespace {

// PRAGMA user_version of the schema this code writes. A migration from version N to N+1 is
// added below as one more step; a database newer than this code is refused.
constexpr int64_t kSchemaVersion = 11;

// Statuses and policies are stored as their names so that the database reads well from the
// sqlite3 shell; CHECK constraints keep other values out.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE connections (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  unconfigured TEXT NOT NULL CHECK (unconfigured IN ('hold', 'refuse', 'store')),
  created_at INTEGER NOT NULL
);
CREATE TABLE credentials (
  access_key TEXT PRIMARY KEY,
  connection_id TEXT NOT NULL REFERENCES connections(id),
  ciphertext BLOB NOT NULL,
  nonce BLOB NOT NULL,
  active INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX credentials_by_connection ON credentials(connection_id);
CREATE TABLE tables (
  connection_id TEXT NOT NULL REFERENCES connections(id),
  name TEXT NOT NULL,
  primary_key TEXT NOT NULL,
  age_column TEXT NOT NULL,
  on_error TEXT NOT NULL CHECK (on_error IN ('block', 'skip')),
  PRIMARY KEY (connection_id, name)
);
CREATE TABLE files (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  connection_id TEXT NOT NULL REFERENCES connections(id),
  table_name TEXT NOT NULL,
  key TEXT NOT NULL,
  landed_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  md5_hex TEXT NOT NULL,
  sha256_hex TEXT NOT NULL,
  content_type TEXT NOT NULL,
  metadata_json TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('queued', 'loading', 'loaded', 'failed', 'skipped')),
  rows_inserted INTEGER NOT NULL,
  rows_updated INTEGER NOT NULL,
  rows_refused INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL
);
CREATE INDEX files_by_table ON files(connection_id, table_name, seq);
CREATE INDEX files_by_key ON files(connection_id, key, seq);
-- Only files that still need attention: keeps HeadOfQueue, TablesWithWork and
-- UnfinishedFiles, which the loader polls, from walking the whole history of loaded files.
CREATE INDEX files_pending ON files(connection_id, table_name, seq)
  WHERE status IN ('queued', 'loading', 'failed');
CREATE INDEX files_unfinished ON files(seq) WHERE status IN ('queued', 'loading');
CREATE INDEX files_with_work ON files(connection_id, table_name)
  WHERE status IN ('queued', 'loading');
PRAGMA user_version = 1;
)sql";

// Version 2, the S3-compatibility cut:
// - credentials.connection_id becomes nullable: NULL is an account-level key. SQLite cannot
//   relax a column constraint in place, so the table is rebuilt (nothing references it).
// - files gain the S3 ETag (empty: md5_hex) and a deleted flag, with a partial index of the
//   visible files by key for listings.
// - multipart uploads, their parts, and the record of completed uploads (idempotent Complete).
constexpr const char* kMigrateV2 = R"sql(
CREATE TABLE credentials_v2 (
  access_key TEXT PRIMARY KEY,
  connection_id TEXT REFERENCES connections(id),
  ciphertext BLOB NOT NULL,
  nonce BLOB NOT NULL,
  active INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
INSERT INTO credentials_v2 SELECT access_key, connection_id, ciphertext, nonce, active,
  created_at FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_v2 RENAME TO credentials;
CREATE INDEX credentials_by_connection ON credentials(connection_id);
ALTER TABLE files ADD COLUMN etag TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE uploads (
  upload_id TEXT PRIMARY KEY,
  connection_id TEXT NOT NULL REFERENCES connections(id),
  key TEXT NOT NULL,
  table_name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  metadata_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'failed', 'skipped')),
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  initiated_at INTEGER NOT NULL,
  touched_at INTEGER NOT NULL
);
CREATE INDEX uploads_by_key ON uploads(connection_id, key, initiated_at);
CREATE INDEX uploads_by_touch ON uploads(touched_at);
CREATE TABLE upload_parts (
  upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
  part_number INTEGER NOT NULL,
  size INTEGER NOT NULL,
  md5_hex TEXT NOT NULL,
  uploaded_at INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE completed_uploads (
  upload_id TEXT PRIMARY KEY,
  connection_id TEXT NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  etag TEXT NOT NULL,
  parts TEXT NOT NULL,
  completed_at INTEGER NOT NULL
);
CREATE INDEX completed_uploads_by_time ON completed_uploads(completed_at);
CREATE INDEX completed_uploads_by_connection ON completed_uploads(connection_id);
PRAGMA user_version = 2;
)sql";

// Version 3: the ingestion engine's ledger fields and the delete column.
//   rows_deleted    rows deleted by the table's delete column
//   checksums_json  the checksums the client sent and sluice verified, {"crc32c": "<base64>"}
//   duplicate_of    for a file skipped as a byte-identical re-push: the sequence it repeats
//   purged_at       when retention removed the landed bytes (0: still stored)
constexpr const char* kMigrateV3 = R"sql(
ALTER TABLE tables ADD COLUMN delete_column TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN rows_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN checksums_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE files ADD COLUMN duplicate_of INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN purged_at INTEGER NOT NULL DEFAULT 0;
-- Duplicate detection: loaded files of a table by content.
CREATE INDEX files_by_content ON files(connection_id, table_name, md5_hex, size)
  WHERE status = 'loaded';
-- Retention: finished files whose bytes are still stored, oldest first.
CREATE INDEX files_retained ON files(finished_at)
  WHERE purged_at = 0 AND status IN ('loaded', 'skipped');
PRAGMA user_version = 3;
)sql";

// Version 4: the failure policy and forced loads.
//   passed  a failed file its table moved past (on_error: skip): it no longer blocks, even
//           if the table is later set back to block; a retry clears it
//   forced  load even when the content repeats a loaded file (`sluice files retry --force`)
// files_pending is rebuilt without the passed files, which HeadOfQueue no longer wants.
constexpr const char* kMigrateV4 = R"sql(
ALTER TABLE files ADD COLUMN passed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
DROP INDEX files_pending;
CREATE INDEX files_pending ON files(connection_id, table_name, seq)
  WHERE status IN ('queued', 'loading') OR (status = 'failed' AND passed = 0);
PRAGMA user_version = 4;
)sql";

// Version 5: nested tables. nested_json is the configuration of a nested table (its derived
// tables, child keys and modes, the example record's type) as shape::NestedConfigToJson
// writes it; '' for a flat table.
constexpr const char* kMigrateV5 = R"sql(
ALTER TABLE tables ADD COLUMN nested_json TEXT NOT NULL DEFAULT '';
PRAGMA user_version = 5;
)sql";

// Version 6: hardening (issue 10).
//   files.load_attempts        loads begun and not finished (the poison-file guard: a file
//                              whose load a crash cut short too often fails instead)
//   credentials.expires_at     micros; 0: never. An expired key is refused like a revoked one
//   credentials.last_used_at   micros of the last request signed with the key; 0: never used
//   credentials.revoked_at     micros; 0: not revoked (active = 0 as well)
// files_retained no longer holds objects kept by the `store` policy (skipped with
// TABLE_NOT_CONFIGURED): retention purges what was ingested, not plain objects.
constexpr const char* kMigrateV6 = R"sql(
ALTER TABLE files ADD COLUMN load_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
DROP INDEX files_retained;
CREATE INDEX files_retained ON files(finished_at)
  WHERE purged_at = 0 AND (status = 'loaded' OR
                           (status = 'skipped' AND error_code != 'TABLE_NOT_CONFIGURED'));
PRAGMA user_version = 6;
)sql";

// Version 7: per-connection disk quotas (issue 10).
//   connections.quota_bytes  the bytes the connection may keep in the data directory; NULL:
//                            the server's --connection-quota; 0: no quota
// purged_at now means "the landed bytes are gone", whoever removed them: a delete of a loaded
// or skipped file removes its bytes, and from this version on records that like retention
// does. Earlier deletes are recorded here. (A file deleted while still queued and loaded
// afterwards kept its bytes; before this version the ledger cannot tell it from one deleted
// after loading, so it is recorded purged too: its bytes stay uncounted until the connection
// is deleted. Such files are rare: a delete of a key that had not loaded yet.)
// files_stored covers the start-up sum of the bytes each connection keeps (the quota's
// running counter starts from it) without reading the purged history.
constexpr const char* kMigrateV7 = R"sql(
ALTER TABLE connections ADD COLUMN quota_bytes INTEGER;
UPDATE files SET purged_at = max(finished_at, 1)
  WHERE deleted = 1 AND purged_at = 0 AND status IN ('loaded', 'skipped');
CREATE INDEX files_stored ON files(connection_id, size) WHERE purged_at = 0;
PRAGMA user_version = 7;
)sql";

// Version 11: multipart checksums. The columns are the same on PostgreSQL (pg_schema.cc, its
// version 5); '' is "none" (uploads and parts from before keep it).
constexpr const char* kMigrateV11 = R"sql(
ALTER TABLE uploads ADD COLUMN checksum_algorithm TEXT NOT NULL DEFAULT ''
  CHECK (checksum_algorithm IN ('', 'crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'));
ALTER TABLE uploads ADD COLUMN checksum_type TEXT NOT NULL DEFAULT ''
  CHECK (checksum_type IN ('', 'COMPOSITE', 'FULL_OBJECT'));
ALTER TABLE upload_parts ADD COLUMN checksum_algorithm TEXT NOT NULL DEFAULT '';
ALTER TABLE upload_parts ADD COLUMN checksum TEXT NOT NULL DEFAULT '';
PRAGMA user_version = 11;
)sql";

}  // namespace

Result<bool> EnsureSchema(sqlite::Db& db) {
  SLUICE_ASSIGN_OR_RETURN(int64_t version, db.QueryInt("PRAGMA user_version"));
  if (version > kSchemaVersion) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: catalog.db has schema version " + std::to_string(version) +
                   ", newer than this sluice understands (" + std::to_string(kSchemaVersion) +
                   "); use a newer sluice");
  }
  if (version == 0) SLUICE_RETURN_IF_ERROR(db.Exec(kSchemaV1));
  if (version < 2) SLUICE_RETURN_IF_ERROR(db.Exec(kMigrateV2));
  if (version < 3) SLUICE_RETURN_IF_ERROR(db.Exec(kMigrateV3));
  if (version < 4) SLUICE_RETURN_IF_ERROR(db.Exec(kMigrateV4));
  if (version < 5) SLUICE_RETURN_IF_ERROR(db.Exec(kMigrateV5));
  if (version < 6) SLUICE_RETURN_IF_ERROR(db.Exec(kMigrateV6));
  if (version < 7) SLUICE_RETURN_IF_ERROR(db.Exec(kMigrateV7));
  // Version 8: admin users and their sessions (admins_internal.h).
  if (version < 8) {
    SLUICE_RETURN_IF_ERROR(db.Exec(kAdminSchemaSql));
    SLUICE_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = 8"));
  }
  // Version 9: alert endpoints, their outbox and conditions (alerts_internal.h); loaded files
  // by finish time (shared_sql_internal.h).
  if (version < 9) {
    SLUICE_RETURN_IF_ERROR(db.Exec(kAlertSchemaSql));
    SLUICE_RETURN_IF_ERROR(db.Exec(kActivitySchemaSql));
    SLUICE_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = 9"));
  }
  // Version 10: whether a table loads its hidden keys (TableConfig::load_hidden_keys).
  if (version < 10) {
    SLUICE_RETURN_IF_ERROR(
        db.Exec("ALTER TABLE tables ADD COLUMN load_hidden_keys INTEGER NOT NULL DEFAULT 0 "
                "CHECK (load_hidden_keys IN (0, 1)); "
                "PRAGMA user_version = 10"));
  }
  // Version 11: multipart checksums (issue 14): an upload's algorithm and type
  // (UploadRecord::checksum_algorithm, checksum_type), each part's verified checksum.
  if (version < 11) SLUICE_RETURN_IF_ERROR(db.Exec(kMigrateV11));
  SLUICE_ASSIGN_OR_RETURN(int64_t credentials, db.QueryInt("SELECT count(*) FROM credentials"));
  return credentials > 0;
}

}  // namespace sluice::catalog
