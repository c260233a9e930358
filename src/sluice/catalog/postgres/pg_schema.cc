// The PostgreSQL catalog's schema and its opening.
#include <charconv>

#include "sluice/catalog/admins_internal.h"
#include "sluice/catalog/alerts_internal.h"
#include "sluice/catalog/postgres/pg_catalog_internal.h"
#include "sluice/core/text.h"

namespace sluice::catalog {
namespace {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

// The version of the schema below, kept in meta; a database newer than this code is refused.
// A migration from version N to N+1 is added as one more step, as in schema.cc.
constexpr int64_t kPgSchemaVersion = 5;

// Taken (pg_advisory_xact_lock) by every process creating or migrating the schema, so that
// nodes starting together do not race on CREATE ... IF NOT EXISTS (which is not safe against a
// concurrent creation). The number is arbitrary and fixed: "sluicecs" in ASCII.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(8319381690306519923)";

// The same tables and columns as the SQLite catalog's schema version 7 (schema.cc), in
// PostgreSQL's types: times and counts bigint micros, booleans 0/1 integers (one row reader
// for both engines), secrets bytea. Key columns compare in byte order (COLLATE "C"), S3's
// order, whatever the database's collation. The tables of several nodes come on top:
//   table_counters   the last seq each table drew: the row an upload locks so that a table's
//                    seq order is its commit order (pg_catalog_internal.h)
//   table_claims     a row per table a loader claimed (FOR UPDATE SKIP LOCKED)
//   table_positions  the highest seq of each table recorded loaded (the in-pool write's guard)
//   secret_check     a value sealed with the first node's secret key (CheckSecretKey)
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE connections (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  unconfigured text NOT NULL CHECK (unconfigured IN ('hold', 'refuse', 'store')),
  created_at bigint NOT NULL,
  quota_bytes bigint
);
CREATE TABLE credentials (
  access_key text COLLATE "C" PRIMARY KEY,
  connection_id text COLLATE "C" REFERENCES connections(id),
  ciphertext bytea NOT NULL,
  nonce bytea NOT NULL,
  active integer NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL DEFAULT 0,
  last_used_at bigint NOT NULL DEFAULT 0,
  revoked_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX credentials_by_connection ON credentials(connection_id);
CREATE TABLE tables (
  connection_id text COLLATE "C" NOT NULL REFERENCES connections(id),
  name text COLLATE "C" NOT NULL,
  primary_key text NOT NULL,
  age_column text NOT NULL,
  on_error text NOT NULL CHECK (on_error IN ('block', 'skip')),
  delete_column text NOT NULL DEFAULT '',
  nested_json text NOT NULL DEFAULT '',
  PRIMARY KEY (connection_id, name)
);
CREATE SEQUENCE files_seq;
CREATE TABLE files (
  seq bigint PRIMARY KEY,
  connection_id text COLLATE "C" NOT NULL REFERENCES connections(id),
  table_name text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  landed_id text COLLATE "C" NOT NULL,
  size bigint NOT NULL,
  md5_hex text NOT NULL,
  sha256_hex text NOT NULL,
  content_type text NOT NULL,
  metadata_json text NOT NULL,
  received_at bigint NOT NULL,
  started_at bigint NOT NULL,
  finished_at bigint NOT NULL,
  status text NOT NULL
    CHECK (status IN ('queued', 'loading', 'loaded', 'failed', 'skipped')),
  rows_inserted bigint NOT NULL,
  rows_updated bigint NOT NULL,
  rows_refused bigint NOT NULL,
  error_code text NOT NULL,
  error_message text NOT NULL,
  etag text NOT NULL DEFAULT '',
  deleted integer NOT NULL DEFAULT 0,
  rows_deleted bigint NOT NULL DEFAULT 0,
  checksums_json text NOT NULL DEFAULT '{}',
  duplicate_of bigint NOT NULL DEFAULT 0,
  purged_at bigint NOT NULL DEFAULT 0,
  passed integer NOT NULL DEFAULT 0,
  forced integer NOT NULL DEFAULT 0,
  load_attempts bigint NOT NULL DEFAULT 0
);
CREATE INDEX files_by_table ON files(connection_id, table_name, seq);
CREATE INDEX files_by_key ON files(connection_id, key, seq);
CREATE INDEX files_pending ON files(connection_id, table_name, seq)
  WHERE status IN ('queued', 'loading') OR (status = 'failed' AND passed = 0);
CREATE INDEX files_unfinished ON files(seq) WHERE status IN ('queued', 'loading');
CREATE INDEX files_with_work ON files(connection_id, table_name)
  WHERE status IN ('queued', 'loading');
CREATE INDEX files_by_content ON files(connection_id, table_name, md5_hex, size)
  WHERE status = 'loaded';
CREATE INDEX files_retained ON files(finished_at)
  WHERE purged_at = 0 AND (status = 'loaded' OR
                           (status = 'skipped' AND error_code != 'TABLE_NOT_CONFIGURED'));
CREATE INDEX files_stored ON files(connection_id, size) WHERE purged_at = 0;
-- NotInLedger asks about landed ids a batch at a time.
CREATE INDEX files_by_landed ON files(landed_id);
CREATE TABLE uploads (
  upload_id text COLLATE "C" PRIMARY KEY,
  connection_id text COLLATE "C" NOT NULL REFERENCES connections(id),
  key text COLLATE "C" NOT NULL,
  table_name text COLLATE "C" NOT NULL,
  content_type text NOT NULL,
  metadata_json text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'failed', 'skipped')),
  error_code text NOT NULL,
  error_message text NOT NULL,
  initiated_at bigint NOT NULL,
  touched_at bigint NOT NULL,
  -- Breaks ties of initiated_at in S3's listing order (SQLite's rowid).
  ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX uploads_by_key ON uploads(connection_id, key, initiated_at, ord);
CREATE INDEX uploads_by_touch ON uploads(touched_at);
CREATE TABLE upload_parts (
  upload_id text COLLATE "C" NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
  part_number integer NOT NULL,
  size bigint NOT NULL,
  md5_hex text NOT NULL,
  uploaded_at bigint NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE completed_uploads (
  upload_id text COLLATE "C" PRIMARY KEY,
  connection_id text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  etag text NOT NULL,
  parts text NOT NULL,
  completed_at bigint NOT NULL
);
CREATE INDEX completed_uploads_by_time ON completed_uploads(completed_at);
CREATE INDEX completed_uploads_by_connection ON completed_uploads(connection_id);
CREATE TABLE table_counters (
  connection_id text COLLATE "C" NOT NULL,
  table_name text COLLATE "C" NOT NULL,
  last_seq bigint NOT NULL,
  PRIMARY KEY (connection_id, table_name)
);
CREATE TABLE table_claims (
  connection_id text COLLATE "C" NOT NULL,
  table_name text COLLATE "C" NOT NULL,
  PRIMARY KEY (connection_id, table_name)
);
CREATE TABLE table_positions (
  connection_id text COLLATE "C" NOT NULL,
  table_name text COLLATE "C" NOT NULL,
  applied_seq bigint NOT NULL,
  PRIMARY KEY (connection_id, table_name)
);
CREATE TABLE secret_check (
  id integer PRIMARY KEY CHECK (id = 1),
  ciphertext bytea NOT NULL,
  nonce bytea NOT NULL
);
)sql";

// Version 5: multipart checksums: an upload's algorithm and type, each part's verified
// checksum; '' is "none" (schema.cc, version 11).
constexpr const char* kMigrateV5 = R"sql(
ALTER TABLE uploads ADD COLUMN checksum_algorithm text NOT NULL DEFAULT ''
  CHECK (checksum_algorithm IN ('', 'crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'));
ALTER TABLE uploads ADD COLUMN checksum_type text NOT NULL DEFAULT ''
  CHECK (checksum_type IN ('', 'COMPOSITE', 'FULL_OBJECT'));
ALTER TABLE upload_parts ADD COLUMN checksum_algorithm text NOT NULL DEFAULT '';
ALTER TABLE upload_parts ADD COLUMN checksum text NOT NULL DEFAULT '';
)sql";

// What the key check seals: nothing secret, only proof of the key.
constexpr std::string_view kKeyCheckText = "sluice catalog secret key check";

}  // namespace

int64_t PgRow::Int(int col) const {
  const std::string_view text = rows_.Text(row_, col);
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);  // NULL and "" read as 0
  return v;
}

std::string PgRow::HexBytes(int col) const {
  const std::string_view hex = rows_.Text(row_, col);
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(HexDigitValue(hex[i]) * 16 + HexDigitValue(hex[i + 1])));
  }
  return out;
}

// Functions, replaced at every start (a newer sluice brings newer bodies):
//   refuse(message)  raises unique_violation with `message`: how a guarded statement that
//                    found its guard false fails its transaction (LoadedInPool).
constexpr const char* kFunctions =
    "CREATE OR REPLACE FUNCTION _sluice_catalog.refuse(message text) RETURNS boolean "
    "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION USING ERRCODE = 'unique_violation', "
    "MESSAGE = message; END$$";

Result<bool> EnsurePgSchema(Conn& conn) {
  postgres::Transaction txn(conn);
  SLUICE_RETURN_IF_ERROR(txn.Begin());
  SLUICE_RETURN_IF_ERROR(conn.Exec(std::string(kSchemaLock) +
                                   "; CREATE SCHEMA IF NOT EXISTS _sluice_catalog; "
                                   "CREATE TABLE IF NOT EXISTS meta (name text PRIMARY KEY, "
                                   "value bigint NOT NULL)"));
  SLUICE_ASSIGN_OR_RETURN(Rows rows,
                          conn.Query("SELECT value FROM meta WHERE name = 'schema_version'"));
  const int64_t version = rows.size() == 0 ? 0 : PgRow(rows, 0).Int(0);
  if (version > kPgSchemaVersion) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: schema _sluice_catalog has version " + std::to_string(version) +
                   ", newer than this sluice understands (" + std::to_string(kPgSchemaVersion) +
                   "); use a newer sluice");
  }
  if (version == 0) SLUICE_RETURN_IF_ERROR(conn.Exec(kSchemaV1));
  // Version 2: admin users and their sessions (admins_internal.h).
  if (version < 2) SLUICE_RETURN_IF_ERROR(conn.Exec(kAdminSchemaSql));
  // Version 3: alert endpoints, their outbox and conditions (alerts_internal.h).
  if (version < 3) {
    SLUICE_RETURN_IF_ERROR(conn.Exec(kAlertSchemaSql));
    SLUICE_RETURN_IF_ERROR(conn.Exec(kActivitySchemaSql));
  }
  // Version 4: whether a table loads its hidden keys (TableConfig::load_hidden_keys).
  if (version < 4) {
    SLUICE_RETURN_IF_ERROR(
        conn.Exec("ALTER TABLE tables ADD COLUMN load_hidden_keys integer NOT NULL DEFAULT 0 "
                  "CHECK (load_hidden_keys IN (0, 1))"));
  }
  // Version 5: multipart checksums (issue 14), as the SQLite catalog's version 11.
  if (version < 5) SLUICE_RETURN_IF_ERROR(conn.Exec(kMigrateV5));
  SLUICE_RETURN_IF_ERROR(conn.Exec(kFunctions));
  if (version < kPgSchemaVersion) {
    SLUICE_RETURN_IF_ERROR(
        conn.Query("INSERT INTO meta VALUES ('schema_version', $1) ON CONFLICT (name) DO UPDATE "
                   "SET value = excluded.value",
                   Params().Int(kPgSchemaVersion))
            .status());
  }
  SLUICE_ASSIGN_OR_RETURN(
      int64_t credentials,
      conn.QueryInt("SELECT count(*) FROM (SELECT 1 FROM credentials LIMIT 1) c"));
  SLUICE_RETURN_IF_ERROR(txn.Commit());
  return credentials > 0;
}

Status CheckSecretKey(Conn& conn, const SecretBox& box, const std::string& key_path) {
  SLUICE_ASSIGN_OR_RETURN(Sealed sealed, box.Seal(Secret(std::string(kKeyCheckText)), "check"));
  // The first node's check stays; later ones only read it.
  SLUICE_RETURN_IF_ERROR(conn.Query("INSERT INTO secret_check VALUES (1, $1, $2) "
                                    "ON CONFLICT (id) DO NOTHING",
                                    Params()
                                        .Binary(postgres::oid::kBytea, sealed.ciphertext)
                                        .Binary(postgres::oid::kBytea, sealed.nonce))
                             .status());
  SLUICE_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Query("SELECT encode(ciphertext, 'hex'), encode(nonce, 'hex') FROM secret_check"));
  if (rows.size() != 1) return Err(ErrorCode::kInternal, "catalog: the secret key check is gone");
  const Sealed stored{PgRow(rows, 0).HexBytes(1), PgRow(rows, 0).HexBytes(0)};
  if (!box.Open(stored, "check").ok()) {
    return Err(ErrorCode::kInvalidArgument,
               "catalog: the secret key in " + key_path +
                   " is not the key this catalog's secrets are sealed with: every node sharing "
                   "the PostgreSQL catalog must use the same key file (copy it from the first "
                   "node)");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& conninfo,
                                                     const std::string& secret_key_path,
                                                     FileSystem& fs, const Clock& clock) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn,
                          Conn::Open(conninfo, {.label = "catalog", .setup = kPgSetup}));
  SLUICE_ASSIGN_OR_RETURN(bool has_credentials, EnsurePgSchema(*conn));
  // As in Catalog::Open: a missing key file is created only while no secret is sealed yet.
  SLUICE_ASSIGN_OR_RETURN(SecretBox box,
                          SecretBox::LoadOrCreate(fs, secret_key_path,
                                                  /*create_if_missing=*/!has_credentials));
  SLUICE_RETURN_IF_ERROR(CheckSecretKey(*conn, box, secret_key_path));
  return std::unique_ptr<Catalog>(new PgCatalog(conninfo, box, clock));
}

}  // namespace sluice::catalog
