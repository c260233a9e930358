#pragma once
// Private to catalog: the statements whose cost must stay bounded by what they return (the
// metrics page, listing pages), in one place so that catalog_test.cc checks the plan SQLite
// makes for exactly the text the catalog runs (EXPLAIN QUERY PLAN: a seek or a scan of a
// partial index, never a scan of the files table).

#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/files_page_internal.h"

namespace sluice::catalog {

// kCountPendingSql (rules_internal.h, the same text on both engines) is checked here too.

// Ledger::ListFilesPage (files_page_internal.h has the algorithm and the parameters).
// - One table: seeks on files_by_table (connection_id, table_name, seq), in either direction;
//   the window reads the index alone.
// - Every table: no index leads with (connection_id, seq), so the window is a range of the
//   primary key (rowid seeks) and the rows are that range's, of which the connection's are
//   kept. The unary + keeps SQLite from walking the connection's whole files_by_key range
//   instead and sorting it.
// The filter's statuses are an IN list of parameters, which matches no partial index's WHERE
// (files_by_content's status = 'loaded', say): SQLite never walks one of those instead.
inline constexpr FilesPageSql kSqliteFilesPage = {
    .table_seek = {SLUICE_FILE_COLUMNS
                   "WHERE connection_id = $1 AND table_name = $2 AND seq > $3 AND "
                   "seq < $4 ORDER BY seq LIMIT $5",
                   SLUICE_FILE_COLUMNS
                   "WHERE connection_id = $1 AND table_name = $2 AND seq > $3 AND "
                   "seq < $4 ORDER BY seq DESC LIMIT $5"},
    .table_window =
        {"SELECT min(seq), max(seq), count(*) FROM (SELECT seq FROM files WHERE connection_id = "
         "$1 AND table_name = $2 AND seq > $3 AND seq < $4 ORDER BY seq LIMIT $5) AS w",
         "SELECT min(seq), max(seq), count(*) FROM (SELECT seq FROM files WHERE connection_id = "
         "$1 AND table_name = $2 AND seq > $3 AND seq < $4 ORDER BY seq DESC LIMIT $5) AS w"},
    .table_rows = {SLUICE_FILE_COLUMNS "WHERE " SLUICE_FILE_FILTER
                                       "AND connection_id = $9 AND table_name = $10 AND seq >= "
                                       "$11 AND seq <= $12 ORDER BY seq LIMIT $13",
                   SLUICE_FILE_COLUMNS "WHERE " SLUICE_FILE_FILTER
                                       "AND connection_id = $9 AND table_name = $10 AND seq >= "
                                       "$11 AND seq <= $12 ORDER BY seq DESC LIMIT $13"},
    .window = {kFilesWindowSql[0], kFilesWindowSql[1]},
    .rows = {SLUICE_FILE_COLUMNS "WHERE " SLUICE_FILE_FILTER
                                 "AND +connection_id = $9 AND seq >= $10 AND seq <= $11 "
                                 "ORDER BY seq LIMIT $12",
             SLUICE_FILE_COLUMNS "WHERE " SLUICE_FILE_FILTER
                                 "AND +connection_id = $9 AND seq >= $10 AND seq <= $11 "
                                 "ORDER BY seq DESC LIMIT $12"},
};

// Visible keys after a key: the newest version of each, not deleted or purged. The window
// subquery walks files_by_key lazily (a co-routine: the outer LIMIT stops it once the page is
// full) and never past ?6 index entries, however sparse the visible keys are; the correlated
// max(seq) is one index probe per row. The outer query has no ORDER BY of its own: that would
// sort the whole window first; the co-routine already yields in key order.
inline constexpr const char* kVisiblePageSql = SLUICE_FILE_COLUMN_LIST
    "FROM (SELECT * FROM files WHERE connection_id = ?1 AND key > ?2 AND key >= ?3 "
    "AND (?4 = 0 OR key < ?5) ORDER BY key LIMIT ?6) AS files "
    "WHERE deleted = 0 AND purged_at = 0 AND seq = (SELECT max(g.seq) FROM files g "
    "WHERE g.connection_id = files.connection_id AND g.key = files.key) LIMIT ?7";
// The key of the window's last entry (read only when a page came back short): a walk of the
// covering index files_by_key.
inline constexpr const char* kVisibleWindowEndSql =
    "SELECT key FROM files WHERE connection_id = ?1 AND key > ?2 AND key >= ?3 "
    "AND (?4 = 0 OR key < ?5) ORDER BY key LIMIT 1 OFFSET ?6";

// Uploads in progress, S3's order (key, then initiation; rowid breaks ties), after a key: a
// seek on uploads_by_key (connection_id, key, initiated_at), LIMIT rows read.
inline constexpr const char* kUploadsAfterKeySql = SLUICE_UPLOAD_COLUMNS
    "WHERE connection_id = ?1 AND key > ?2 AND key >= ?3 AND (?4 = 0 OR key < ?5) "
    "ORDER BY key, initiated_at, rowid LIMIT ?6";
// The uploads of one key that follow a given upload (the upload-id-marker).
inline constexpr const char* kUploadsOfKeyAfterSql = SLUICE_UPLOAD_COLUMNS
    "WHERE connection_id = ?1 AND key = ?2 AND (initiated_at, rowid) > (?3, ?4) "
    "ORDER BY initiated_at, rowid LIMIT ?5";

// The parts of an upload after a part number: a seek on the primary key.
inline constexpr const char* kPartsAfterSql =
    "SELECT part_number, size, md5_hex, uploaded_at, checksum_algorithm, checksum FROM "
    "upload_parts "
    "WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3";

}  // namespace sluice::catalog
