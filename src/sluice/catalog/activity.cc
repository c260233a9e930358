// What the ledger did lately (catalog.h, "activity"), once for both engines through SharedSql:
// the console's overview numbers and charts.
#include <algorithm>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/shared_sql_internal.h"

namespace sluice::catalog {

namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kMaxMinutes = 24 * 60;

}  // namespace

Result<std::vector<Catalog::TableActivity>> Catalog::LoadedSince(int64_t since) {
  std::vector<TableActivity> out;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    // The condition repeats files_finished_at's WHERE word for word, so that SQLite can prove
    // the partial index applies.
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r,
        sql.Run("SELECT connection_id, table_name, status, count(*), "
                "sum(rows_inserted + rows_updated + rows_deleted), max(finished_at) FROM files "
                "WHERE status IN ('loaded', 'failed') AND finished_at >= $1 "
                "GROUP BY connection_id, table_name, status ORDER BY connection_id, table_name",
                {since}));
    for (const auto& row : r.rows) {
      const TableKey key{row[0], row[1]};
      if (out.empty() || out.back().table != key) out.push_back({key});
      TableActivity& a = out.back();
      if (row[2] == "failed") {
        a.failed = SqlInt(row[3]);
      } else {
        a.files = SqlInt(row[3]);
        a.rows = SqlInt(row[4]);
        a.last_loaded_at = SqlInt(row[5]);
      }
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Catalog::MinuteActivity>> Catalog::ActivitySince(int64_t since, int64_t now,
                                                                    size_t max_files,
                                                                    bool* complete) {
  since = since - since % kMinute;
  const int64_t minutes = std::clamp<int64_t>((now - since) / kMinute + 1, 1, kMaxMinutes);
  std::vector<MinuteActivity> out(static_cast<size_t>(minutes));
  for (int64_t i = 0; i < minutes; ++i) out[static_cast<size_t>(i)].minute = since + i * kMinute;
  const auto bucket = [&](int64_t t) {
    return static_cast<size_t>(std::clamp<int64_t>((t - since) / kMinute, 0, minutes - 1));
  };
  // Backlog by difference: +1 where a file arrived (the first minute for one that arrived
  // before the window), -1 where it loaded or failed; a file that finished in a minute is not
  // part of that minute's closing backlog. Files skipped in the window are not read (no index
  // finds them cheaply): the backlog before they ended is undercounted.
  std::vector<int64_t> delta(static_cast<size_t>(minutes) + 1, 0);
  size_t read = 0;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r,
        sql.Run("SELECT received_at, finished_at, rows_inserted + rows_updated + rows_deleted, "
                "status FROM files WHERE status IN ('loaded', 'failed') AND finished_at >= $1 "
                "UNION ALL SELECT received_at, 0, 0, status FROM files "
                "WHERE status IN ('queued', 'loading') LIMIT $2",
                {since, static_cast<int64_t>(max_files)}));
    read = r.rows.size();
    for (const auto& row : r.rows) {
      const int64_t received = SqlInt(row[0]);
      const int64_t finished = SqlInt(row[1]);
      if (received > now) continue;
      ++delta[bucket(received)];
      if (finished == 0) continue;
      --delta[bucket(finished)];
      if (row[3] != "loaded") continue;
      MinuteActivity& m = out[bucket(finished)];
      ++m.files_loaded;
      m.rows += SqlInt(row[2]);
    }
    return Status::Ok();
  }));
  int64_t backlog = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    backlog += delta[i];
    out[i].backlog_files = std::max<int64_t>(backlog, 0);
  }
  if (complete != nullptr) *complete = read < max_files;
  return out;
}

}  // namespace sluice::catalog
