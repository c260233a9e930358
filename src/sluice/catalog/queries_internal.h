#pragma once
// Private to catalog: the statements whose cost must stay bounded by what they return (the
// metrics page, listing pages), in one place so that catalog_test.cc checks the plan SQLite
// makes for exactly the text the catalog runs (EXPLAIN QUERY PLAN: a seek or a scan of a
// partial index, never a scan of the files table).

#include "sluice/catalog/catalog_internal.h"

namespace sluice::catalog {

// kCountPendingSql (rules_internal.h, the same text on both engines) is checked here too.

// The files of one table after a sequence: a seek on files_by_table, LIMIT rows read.
inline constexpr const char* kTableFilesPageSql = SLUICE_FILE_COLUMNS
    "WHERE connection_id = ?1 AND table_name = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4";

// The files of a connection after a sequence. No index leads with (connection_id, seq), so a
// page reads a window of at most kFileScanWindow ledger entries by sequence (rowid seeks: the
// window's end first, then its rows) and keeps the connection's: work per page is bounded by
// the window, and a page may come back short. The unary + keeps SQLite from walking the
// connection's whole files_by_key range instead and sorting it.
inline constexpr const char* kFilesWindowEndSql =
    "SELECT max(seq), count(*) FROM (SELECT seq FROM files WHERE seq > ?1 ORDER BY seq LIMIT ?2)";
inline constexpr const char* kConnectionFilesPageSql = SLUICE_FILE_COLUMNS
    "WHERE seq > ?1 AND seq <= ?2 AND +connection_id = ?3 ORDER BY seq LIMIT ?4";

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
    "SELECT part_number, size, md5_hex, uploaded_at FROM upload_parts "
    "WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3";

}  // namespace sluice::catalog
