// The versions of keys on the PostgreSQL catalog: versions.cc's statements
// (versions_internal.h), run on one leased connection per call.
#include <limits>

#include "sluice/catalog/postgres/pg_catalog_internal.h"
#include "sluice/catalog/versions_internal.h"
#include "sluice/core/utf8.h"

namespace sluice::catalog {
namespace {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

class PgVersionStatements final : public VersionStatements {
 public:
  PgVersionStatements(Conn& c, const std::string& connection_id, const PgKeyRange& range)
      : c_(c), connection_id_(connection_id), range_(range) {}

  Result<std::vector<VersionRow>> KeyRows(const std::string& key, int64_t before_seq,
                                          int64_t window, int64_t limit) override {
    if (!IsValidUtf8(key)) return std::vector<VersionRow>();  // no key is: PostgreSQL refuses it
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c_.Query(kPgVersionSql.key_versions,
                 Params().Text(connection_id_).Text(key).Int(before_seq).Int(window).Int(limit),
                 "listing versions"));
    return ReadAll(rows, VersionRowFromRow<PgRow>);
  }

  Result<std::vector<VersionRow>> ForwardRows(int64_t window, int64_t limit) override {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c_.Query(kPgVersionSql.forward, Range().Int(window).Int(limit), "listing versions"));
    return ReadAll(rows, VersionRowFromRow<PgRow>);
  }

  Result<std::optional<std::string>> NextKey() override {
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c_.Query(kPgVersionSql.next_key, Range(), "listing versions"));
    if (rows.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(rows.Text(0, 0)));
  }

 private:
  Params Range() const {
    return Params()
        .Text(connection_id_)
        .Text(range_.after)
        .Text(range_.from)
        .Int(range_.before ? 1 : 0)
        .Text(range_.before ? *range_.before : std::string());
  }

  Conn& c_;
  const std::string& connection_id_;
  const PgKeyRange& range_;
};

}  // namespace

Result<FileVersionPage> PgCatalog::ListVersions(const std::string& connection_id,
                                                const std::string& prefix,
                                                const std::string& after_key, int64_t before_seq,
                                                size_t limit) {
  FileVersionPage page;
  const PgKeyRange range = MakePgKeyRange(prefix, after_key);
  if (range.empty) return page;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    PgVersionStatements statements(c, connection_id, range);
    SLUICE_ASSIGN_OR_RETURN(page,
                            ReadVersionPage(statements, prefix, after_key, before_seq, limit));
    return Status::Ok();
  }));
  return page;
}

Result<std::optional<FileVersion>> PgCatalog::GetVersion(const std::string& connection_id,
                                                         const std::string& key, int64_t seq) {
  std::optional<FileVersion> out;
  if (!IsValidUtf8(key)) return out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    Params params = Params().Text(connection_id).Text(key);
    if (seq != 0) params.Int(seq);
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(seq == 0 ? kPgVersionSql.newest : kPgVersionSql.get,
                                               params, "reading a version"));
    SLUICE_ASSIGN_OR_RETURN(std::optional<VersionRow> row, ReadOne(rows, VersionRowFromRow<PgRow>));
    out.reset();
    if (row) out = std::move(row->version);
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<FileVersion>> PgCatalog::DeleteVersion(const std::string& connection_id,
                                                            const std::string& key, int64_t seq) {
  std::optional<FileVersion> out;
  if (!IsValidUtf8(key)) return out;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    out.reset();
    SLUICE_ASSIGN_OR_RETURN(
        Rows done, c.Query(kPgVersionSql.delete_version,
                           Params().Text(connection_id).Text(key).Int(seq), "deleting a version"));
    if (done.affected() == 0) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query(kPgVersionSql.get, Params().Text(connection_id).Text(key).Int(seq)));
    SLUICE_ASSIGN_OR_RETURN(std::optional<VersionRow> row, ReadOne(rows, VersionRowFromRow<PgRow>));
    if (row) out = std::move(row->version);
    return Status::Ok();
  }));
  return out;
}

Result<bool> PgCatalog::RemoveDeleteMarker(const std::string& connection_id, const std::string& key,
                                           int64_t seq) {
  bool removed = false;
  if (!IsValidUtf8(key)) return removed;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows done, c.Query(kPgVersionSql.remove_marker,
                                               Params().Text(connection_id).Text(key).Int(seq),
                                               "removing a delete marker"));
    removed = done.affected() > 0;
    return Status::Ok();
  }));
  return removed;
}

}  // namespace sluice::catalog
