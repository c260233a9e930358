#pragma once
// Private to catalog: the versions of keys (Ledger::ListVersions, GetVersion, DeleteVersion,
// RemoveDeleteMarker). The statements are written once for both engines, with $N parameters
// that first appear in order (SQLite numbers "$N" by first appearance, so a text binds alike
// on both), but for the walk of one key's files, which each engine needs written its own way
// (VersionSql); each engine runs them (versions.cc, postgres/pg_versions.cc) and
// ReadVersionPage puts a listing page together from them the same way on both.
//
// The `deleted` column keeps two bits: kDeletedWithKey (DeleteKey, a plain S3 delete: S3's
// delete marker when it is on the key's newest file) and kDeletedAsVersion (DeleteVersion).
// Every reader that asks `deleted = 0` or reads it as a boolean sees either as deleted.
//
// Listing order is S3's: keys ascending, each key's files newest first. The index
// files_by_key (connection_id, key, seq) is walked one way only, so a page is read in two
// shapes, each a bounded window of index entries:
// - key_versions: one key's files below a seq, newest first (a backward walk of that key's
//   range). Used to go on inside a key (the version-id-marker), and for a key whose files fill
//   a whole forward window.
// - forward: the entries after a key, ascending; each key whose files the window
//   holds entirely is kept (its newest is the last of its run), the key the window cut short is
//   left for the next call, which starts at it.
// Both filter in SQL to the files that matter (versions, and each key's newest file), from a
// window of narrow index-and-flag rows, and join the full rows of those only.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/rules_internal.h"

namespace sluice::catalog {

// The bits of the `deleted` column.
inline constexpr int64_t kDeletedWithKey = 1;
inline constexpr int64_t kDeletedAsVersion = 2;

// The version statements' rows: the file's columns, then newest (0/1), the window's entry
// count and (key_versions) the lowest seq the window read.
struct VersionRow {
  FileVersion version;
  int64_t window_rows = 0;
  int64_t window_end = 0;
};

template <class Row>
Result<VersionRow> VersionRowFromRow(const Row& q) {
  VersionRow r;
  SLUICE_ASSIGN_OR_RETURN(r.version.file, FileFromRow(q));
  const int64_t deleted = q.Int(20);  // FileFromRow's `deleted` column
  r.version.marked = (deleted & kDeletedWithKey) != 0;
  r.version.removed = (deleted & kDeletedAsVersion) != 0;
  r.version.newest = q.Int(28) != 0;
  r.window_rows = q.Int(29);
  r.window_end = q.Int(30);
  return r;
}

// One key's entries of files_by_key below a seq, newest first. The engines want it written
// differently to walk only that range of the index:
// - SQLite: equalities on (connection_id, key) and a bound on seq, a backward range seek. It
//   uses a row comparison (connection_id, key, seq) < (...) only on its leading columns, and
//   then walks every newer entry of the key before the bound.
// - PostgreSQL: row comparisons on (connection_id, key, seq), ordered as the index, an order
//   only files_by_key gives. With equalities on (connection_id, key), PostgreSQL may walk the
//   primary key backwards instead, filtering on the key, for as long as it takes to meet the
//   LIMIT: most of the ledger when the key is frequent and its files old.
#define SLUICE_LITE_KEY_BELOW(alias, conn, key, below)                                  \
  alias "connection_id = " conn " AND " alias "key = " key " AND " alias "seq < " below \
        " ORDER BY " alias "seq DESC"
#define SLUICE_PG_KEY_BELOW(alias, conn, key, below)                                            \
  "(" alias "connection_id, " alias "key, " alias "seq) > (" conn ", " key ", 0) AND (" alias   \
  "connection_id, " alias "key, " alias "seq) < (" conn ", " key ", " below ") ORDER BY " alias \
  "connection_id DESC, " alias "key DESC, " alias "seq DESC"
// The seq of key $2's newest file in connection $1.
#define SLUICE_NEWEST_SEQ(BELOW) \
  "(SELECT g.seq FROM files g WHERE " BELOW("g.", "$1", "$2", "9223372036854775807") " LIMIT 1)"

// The statements of ReadVersionPage, GetVersion, DeleteVersion and RemoveDeleteMarker.
struct VersionSql {
  // One key's files below a seq, newest first: $1 connection, $2 key, $3 before (exclusive),
  // $4 the window (entries read), $5 rows returned at most. Returns the versions, the key's
  // newest file and the window's last entry (window_end: where a next call goes on).
  const char* key_versions;
  // The files of the keys after $2 in the range key >= $3 AND ($4 = 0 OR key < $5) that the
  // window of $6 entries holds entirely, keys ascending and each key's files newest first, at
  // most $7 rows. A key's newest file is the last entry of its run (lead(key) differs); the run
  // the window cut short (the window is full and it is the window's last key) is left out. The
  // window is ListVisible's walk of files_by_key (objects.cc).
  const char* forward;
  // The first key of the range (the one a forward window that held nothing whole was full of).
  const char* next_key;
  // File $3 of key $2 in connection $1, and whether it is the key's newest; the newest.
  const char* get;
  const char* newest;
  // DeleteVersion and RemoveDeleteMarker: one row each, by primary key, checked against the key.
  const char* delete_version;
  const char* remove_marker;
};

// The statements an engine's BELOW changes.
#define SLUICE_KEY_VERSIONS_SQL(BELOW) \
  SLUICE_FILE_COLUMN_LIST              \
  ", v.newest, v.window_rows, v.window_end FROM (SELECT s, newest, window_rows, "          \
  "window_end FROM (SELECT s, d, p, CASE WHEN s = " SLUICE_NEWEST_SEQ(BELOW) " THEN 1 "    \
  "ELSE 0 END AS newest, count(*) OVER () AS window_rows, min(s) OVER () AS window_end "   \
  "FROM (SELECT seq AS s, deleted AS d, purged_at AS p FROM files WHERE " BELOW(           \
      "", "$1", "$2", "$3") " LIMIT $4) AS w) AS x WHERE (p = 0 AND (d & 2) = 0) OR "      \
  "newest = 1 OR s = window_end ORDER BY s DESC LIMIT $5) AS v JOIN files ON "             \
  "files.seq = v.s ORDER BY files.seq DESC"
#define SLUICE_GET_VERSION_SQL(BELOW) \
  SLUICE_FILE_COLUMN_LIST ", CASE WHEN seq = " SLUICE_NEWEST_SEQ(BELOW) " THEN 1 ELSE " \
  "0 END, 0, 0 FROM files WHERE connection_id = $1 AND key = $2 AND seq = $3"
#define SLUICE_NEWEST_VERSION_SQL(BELOW) \
  SLUICE_FILE_COLUMN_LIST                \
  ", 1, 0, 0 FROM files WHERE " BELOW("", "$1", "$2", "9223372036854775807") " LIMIT 1"
#define SLUICE_REMOVE_MARKER_SQL(BELOW)                                                   \
  "UPDATE files SET deleted = deleted - 1 WHERE connection_id = $1 AND key = $2 AND seq " \
  "= $3 AND (deleted & 1) = 1 AND seq = " SLUICE_NEWEST_SEQ(BELOW)

// The statements both engines run as written.
inline constexpr const char* kForwardVersionsSql = SLUICE_FILE_COLUMN_LIST
    ", v.newest, v.window_rows, 0 FROM (SELECT s, k, newest, window_rows FROM (SELECT s, k, d, "
    "p, CASE WHEN lead(k) OVER (ORDER BY k, s) = k THEN 0 ELSE 1 END AS newest, count(*) OVER () "
    "AS window_rows, max(k) OVER () AS window_last FROM (SELECT seq AS s, key AS k, deleted AS "
    "d, purged_at AS p FROM files WHERE connection_id = $1 AND key > $2 AND key >= $3 AND "
    "($4 = 0 OR key < $5) ORDER BY key, seq LIMIT $6) AS w) AS x WHERE ((p = 0 AND (d & 2) = 0) "
    "OR newest = 1) AND NOT (window_rows = $6 AND k = window_last) ORDER BY k, s DESC LIMIT $7) "
    "AS v JOIN files ON files.seq = v.s ORDER BY files.key, files.seq DESC";
inline constexpr const char* kNextVersionKeySql =
    "SELECT key FROM files WHERE connection_id = $1 AND key > $2 AND key >= $3 AND "
    "($4 = 0 OR key < $5) ORDER BY key LIMIT 1";
inline constexpr const char* kDeleteVersionSql =
    "UPDATE files SET deleted = deleted | 2 WHERE connection_id = $1 AND key = $2 AND seq = $3";

inline constexpr VersionSql kSqliteVersionSql = {
    .key_versions = SLUICE_KEY_VERSIONS_SQL(SLUICE_LITE_KEY_BELOW),
    .forward = kForwardVersionsSql,
    .next_key = kNextVersionKeySql,
    .get = SLUICE_GET_VERSION_SQL(SLUICE_LITE_KEY_BELOW),
    .newest = SLUICE_NEWEST_VERSION_SQL(SLUICE_LITE_KEY_BELOW),
    .delete_version = kDeleteVersionSql,
    .remove_marker = SLUICE_REMOVE_MARKER_SQL(SLUICE_LITE_KEY_BELOW),
};
inline constexpr VersionSql kPgVersionSql = {
    .key_versions = SLUICE_KEY_VERSIONS_SQL(SLUICE_PG_KEY_BELOW),
    .forward = kForwardVersionsSql,
    .next_key = kNextVersionKeySql,
    .get = SLUICE_GET_VERSION_SQL(SLUICE_PG_KEY_BELOW),
    .newest = SLUICE_NEWEST_VERSION_SQL(SLUICE_PG_KEY_BELOW),
    .delete_version = kDeleteVersionSql,
    .remove_marker = SLUICE_REMOVE_MARKER_SQL(SLUICE_PG_KEY_BELOW),
};

#undef SLUICE_REMOVE_MARKER_SQL
#undef SLUICE_NEWEST_VERSION_SQL
#undef SLUICE_GET_VERSION_SQL
#undef SLUICE_KEY_VERSIONS_SQL
#undef SLUICE_NEWEST_SEQ
#undef SLUICE_PG_KEY_BELOW
#undef SLUICE_LITE_KEY_BELOW

// What ReadVersionPage asks of an engine: the statements above, for one connection and one
// key range (key > after AND key >= from AND (no before OR key < before)) bound by the engine.
class VersionStatements {
 public:
  virtual ~VersionStatements() = default;
  // key_versions; no rows for a key that cannot exist (PostgreSQL: not valid UTF-8).
  virtual Result<std::vector<VersionRow>> KeyRows(const std::string& key, int64_t before_seq,
                                                  int64_t window, int64_t limit) = 0;
  // forward over the range.
  virtual Result<std::vector<VersionRow>> ForwardRows(int64_t window, int64_t limit) = 0;
  // next_key over the range.
  virtual Result<std::optional<std::string>> NextKey() = 0;
};

// Ledger::ListVersions over an engine's statements: at most four statements (the rest of
// after_key's files, a forward window, and when that held no key whole, the first key of the
// range and its newest files), each reading at most ListScanWindow(limit) index entries.
Result<FileVersionPage> ReadVersionPage(VersionStatements& statements, const std::string& prefix,
                                        const std::string& after_key, int64_t before_seq,
                                        size_t limit);

}  // namespace sluice::catalog
