// Ledger::ListFilesPage on either engine (files_page_internal.h).
#include <algorithm>
#include <limits>

#include "sluice/catalog/files_page_internal.h"

namespace sluice::catalog {
namespace {

// The open ends of the seq and received_at bounds.
constexpr int64_t kNoUpperBound = std::numeric_limits<int64_t>::max();
constexpr int64_t kNoLowerBound = std::numeric_limits<int64_t>::min();

// Whether the filter has a condition beyond the table and the seq bounds.
bool HasConditions(const FileFilter& f) {
  return !f.statuses.empty() || !f.error_code.empty() || f.since != 0 || f.until != 0;
}

// SLUICE_FILE_FILTER's parameters.
std::vector<SqlValue> FilterValues(const FileFilter& f) {
  std::vector<SqlValue> values;
  for (FileStatus s : kFileStatuses) {
    if (f.statuses.empty() ||
        std::find(f.statuses.begin(), f.statuses.end(), s) != f.statuses.end()) {
      values.emplace_back(std::string(FileStatusName(s)));
    }
  }
  if (values.empty()) values.emplace_back(std::string());  // no valid status: nothing passes
  while (values.size() < std::size(kFileStatuses)) values.push_back(values.front());
  values.emplace_back(f.error_code);
  values.emplace_back(f.since != 0 ? f.since : kNoLowerBound);
  values.emplace_back(f.until != 0 ? f.until : kNoUpperBound);
  return values;
}

// Where the page's successor starts: after `seq` (oldest first) or before it.
void SetNext(FilePage& page, int64_t seq, bool newest_first) {
  (newest_first ? page.next_before : page.next_after) = seq;
}

// A page read with `limit` + 1 files: when the extra one came, drops it and continues from the
// last file kept. Returns whether it came.
bool CutPage(FilePage& page, size_t limit, bool newest_first) {
  if (page.files.size() <= limit) return false;
  page.files.resize(limit);
  SetNext(page, page.files.back().seq, newest_first);
  return true;
}

}  // namespace

Result<FilePage> ReadFilesPage(const FilesPageSql& sql, const FilesPageRunner& run,
                               const std::string& connection_id, const FileFilter& filter,
                               size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kMaxListPage);
  const bool desc = filter.newest_first;
  const int order = desc ? 1 : 0;
  const int64_t after = filter.after_seq;
  const int64_t before = filter.before_seq != 0 ? filter.before_seq : kNoUpperBound;
  const auto wanted = static_cast<int64_t>(limit + 1);
  const auto window_size = static_cast<int64_t>(kFileScanWindow);
  const bool one_table = !filter.table.empty();
  FilePage page;
  if (filter.since != 0 && filter.until != 0 && filter.since >= filter.until) return page;

  if (one_table && !HasConditions(filter)) {  // every entry passes: the seek is the page
    const SqlValue values[] = {connection_id, filter.table, after, before, wanted};
    SLUICE_ASSIGN_OR_RETURN(page.files, run.files(sql.table_seek[order], values));
    CutPage(page, limit, desc);
    return page;
  }

  FileWindow window;
  if (one_table) {
    const SqlValue values[] = {connection_id, filter.table, after, before, window_size};
    SLUICE_ASSIGN_OR_RETURN(window, run.window(sql.table_window[order], values));
  } else {
    const SqlValue values[] = {after, before, window_size};
    SLUICE_ASSIGN_OR_RETURN(window, run.window(sql.window[order], values));
  }
  if (window.entries == 0) return page;  // nothing left within the bounds

  std::vector<SqlValue> values = FilterValues(filter);
  values.emplace_back(connection_id);
  if (one_table) values.emplace_back(filter.table);
  values.emplace_back(window.lowest);
  values.emplace_back(window.highest);
  values.emplace_back(wanted);
  SLUICE_ASSIGN_OR_RETURN(page.files,
                          run.files(one_table ? sql.table_rows[order] : sql.rows[order], values));
  if (!CutPage(page, limit, desc) && window.entries == window_size) {
    // The window ended before the page filled: the next one starts past its far end.
    SetNext(page, desc ? window.lowest : window.highest, desc);
  }
  return page;
}

}  // namespace sluice::catalog
