// The PostgreSQL catalog's alert SQL (alerts.h): the shared statements run on a leased
// connection, in a transaction of their own that does not notify the loaders (an alert write
// changes nothing they wait for).
#include "sluice/catalog/alerts_internal.h"
#include "sluice/catalog/postgres/pg_catalog_internal.h"
#include "sluice/core/utf8.h"

namespace sluice::catalog {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

Result<SqlRows> PgSharedSql::Run(std::string_view sql, std::initializer_list<SqlArg> args) {
  Params params;
  for (const SqlArg& arg : args) {
    if (const auto* n = std::get_if<int64_t>(&arg)) {
      params.Int(*n);
    } else {
      // A message may quote a file's bytes: text PostgreSQL takes.
      params.Text(ToValidUtf8(std::get<std::string>(arg)));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(Rows rows, conn_.Query(std::string(sql), params));
  SqlRows out;
  out.rows.reserve(static_cast<size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) {
    std::vector<std::string>& row = out.rows.emplace_back();
    for (int c = 0; c < rows.columns(); ++c) row.emplace_back(rows.Text(r, c));
  }
  out.affected = rows.affected();
  return out;
}

Status PgCatalog::RunSharedSql(bool write, const std::function<Status(SharedSql&)>& body) {
  return Read([&](Conn& c) -> Status {
    PgSharedSql sql(c, box_);
    if (!write) return body(sql);
    postgres::Transaction txn(c);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    SLUICE_RETURN_IF_ERROR(body(sql));
    return txn.Commit();
  });
}

}  // namespace sluice::catalog
