#pragma once
// Private to catalog: Ledger::ListFilesPage, one algorithm for both engines. Each engine gives
// its statements (FilesPageSql: queries_internal.h for SQLite, pg_catalog_internal.h for
// PostgreSQL) and runs them for ReadFilesPage (ledger.cc, pg_ledger.cc).
//
// Bounded work. A page of one table with no other condition is one seek on files_by_table
// reading limit + 1 entries (the extra one says whether another page follows). Any other page
// is two statements:
//   1. The window: the next kFileScanWindow ledger entries in the page's order within its seq
//      bounds, read from an index alone (the table's entries on files_by_table; without a
//      table, every connection's on the primary key, since no index leads with
//      (connection_id, seq)): their lowest and highest seq and their count.
//   2. The window's files that pass the filter, in the page's order, at most limit + 1: a seek
//      into the same index between the window's ends, which stops once the page is full.
// So a page reads at most 2 x kFileScanWindow index entries and kFileScanWindow files, however
// long the ledger and however rare the files that pass. When the window ends before the page
// fills, the page is short, even empty, and its next bound is the window's far end. Statement 2
// is bounded by statement 1's ends, not by a count, so that a file appended between the two is
// left to a later page instead of being skipped.
//
// Order. Pages follow seq, which is the order files commit within a table (catalog.h,
// FileRecord::seq). Newest first walks the same windows from the other end.
//
// since/until. received_at is read as the upload lands, just before AppendFile's transaction
// draws the seq: uploads landing together (threads waiting for the SQLite catalog's lock,
// PostgreSQL nodes waiting for one table's counter row, each node with its own clock) and a
// clock stepped back commit out of received_at order, by no bound the catalog could rely on. So
// since/until cannot become a seq range without losing files: they are conditions on each
// entry a window reads, exact, but a listing bounded in time still pages (short pages) to the
// end of its seq bounds unless its reader stops.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "sluice/catalog/catalog.h"

namespace sluice::catalog {

// The filter's conditions in statement 2, the same text on both engines, parameters $1..$8:
// five statuses (the filter's, the first repeated to fill; every status when it names none),
// the error code ('' for any) and received_at's bounds [since, until) (the int64 extremes when
// open). It comes first in the WHERE: SQLite numbers $N parameters in the order they first
// appear, so every statement names its parameters in increasing order.
#define SLUICE_FILE_FILTER                                                                     \
  "status IN ($1, $2, $3, $4, $5) AND ($6 = '' OR error_code = $6) AND received_at >= $7 AND " \
  "received_at < $8 "

// Statement 1 without a table: the window on the primary key, the same on both engines.
inline constexpr const char* kFilesWindowSql[2] = {
    "SELECT min(seq), max(seq), count(*) FROM (SELECT seq FROM files WHERE seq > $1 AND "
    "seq < $2 ORDER BY seq LIMIT $3) AS w",
    "SELECT min(seq), max(seq), count(*) FROM (SELECT seq FROM files WHERE seq > $1 AND "
    "seq < $2 ORDER BY seq DESC LIMIT $3) AS w",
};

// One engine's statements, each [0] oldest first and [1] newest first. Their parameters:
//   table_seek    $1 connection, $2 table, $3 after, $4 before, $5 limit + 1
//   table_window  $1 connection, $2 table, $3 after, $4 before, $5 kFileScanWindow
//   table_rows    $1..$8 SLUICE_FILE_FILTER, $9 connection, $10 table, $11 window's lowest,
//                 $12 its highest, $13 limit + 1
//   window        $1 after, $2 before, $3 kFileScanWindow (kFilesWindowSql)
//   rows          $1..$8 SLUICE_FILE_FILTER, $9 connection, $10 window's lowest, $11 its
//                 highest, $12 limit + 1
// A window statement returns one row: min(seq), max(seq), count(*). The others return
// FileFromRow's columns.
struct FilesPageSql {
  const char* table_seek[2];
  const char* table_window[2];
  const char* table_rows[2];
  const char* window[2];
  const char* rows[2];
};

// A statement parameter.
using SqlValue = std::variant<int64_t, std::string>;

// Statement 1's answer.
struct FileWindow {
  int64_t lowest = 0;
  int64_t highest = 0;
  int64_t entries = 0;
};

// How an engine runs a statement with its parameters ($1 first), inside the caller's lock or
// transaction.
struct FilesPageRunner {
  std::function<Result<std::vector<FileRecord>>(const char* sql, std::span<const SqlValue>)> files;
  std::function<Result<FileWindow>(const char* sql, std::span<const SqlValue>)> window;
};

// The page of `connection_id`'s files that `filter` asks for, at most `limit` (clamped to
// 1..kMaxListPage). The caller has checked that the connection exists.
Result<FilePage> ReadFilesPage(const FilesPageSql& sql, const FilesPageRunner& run,
                               const std::string& connection_id, const FileFilter& filter,
                               size_t limit);

}  // namespace sluice::catalog
