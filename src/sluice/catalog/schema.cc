#include <string>

#include "sluice/catalog/catalog_impl.h"

namespace sluice::catalog {
namespace {

// PRAGMA user_version of the schema this code writes. A migration from version N to N+1 is
// added below as one more step; a database newer than this code is refused.
constexpr int64_t kSchemaVersion = 1;

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

}  // namespace

Result<bool> EnsureSchema(Db& db) {
  SLUICE_ASSIGN_OR_RETURN(int64_t version, db.PragmaInt("PRAGMA user_version"));
  if (version > kSchemaVersion) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: catalog.db has schema version " + std::to_string(version) +
                   ", newer than this sluice understands (" + std::to_string(kSchemaVersion) +
                   "); use a newer sluice");
  }
  if (version == 0) SLUICE_RETURN_IF_ERROR(db.Exec(kSchemaV1));
  SLUICE_ASSIGN_OR_RETURN(int64_t credentials, db.PragmaInt("SELECT count(*) FROM credentials"));
  return credentials > 0;
}

}  // namespace sluice::catalog
