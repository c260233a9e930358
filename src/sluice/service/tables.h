#pragma once
// service: tables. A table's configuration as one JSON document (docs/table-config.md: the
// keys of a configuration file, with `example` inline), what it derives (tables, columns,
// types, keys and physical names), the checks a configuration passes before it is stored, and
// storing it. `sluice table add|update|show|remove` and the admin API's table routes call
// these, so that a table configured either way is the same table.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"

namespace sluice::service {

Result<catalog::OnError> ParseOnError(std::string_view text);  // "block", "skip"
// "a,b" -> {"a", "b"}: a list of columns as the documents and flags write it (empty parts
// dropped).
std::vector<std::string> SplitColumnList(const std::string& text);
std::string_view OnErrorName(catalog::OnError on_error);

// The configuration a table document describes, for connection `connection`. A flat table
// takes `table`, `primary_key` (a string "a,b" or an array), `age_column`, `delete_column` and
// `on_error`; a document with `example` (a record as JSON), `schema`, `children` or
// `keep_as_json` describes a nested table, checked in full (shape::CheckNestedConfig): a
// collision, a path that is not in the example or a key that is not a scalar is refused here
// with the reason (kInvalidArgument). An unknown key is refused. The names are not checked
// against the connection's other tables (CheckTableNamesFree).
Result<catalog::TableConfig> TableFromDocument(nlohmann::ordered_json document,
                                               const std::string& connection);

// The document of a stored configuration (TableFromDocument's inverse; a nested table's
// example is given as its `schema`).
nlohmann::ordered_json TableDocument(const catalog::TableConfig& table);

// The SQL tables a configuration makes: its name, and for a nested table every derived table
// the configuration plans (parent first). A file may later bring arrays the example lacked;
// their tables are not known here.
Result<std::vector<std::string>> TableNames(const catalog::TableConfig& table);

// kAlreadyExists unless every table name of `table` differs, ignoring case, from the names of
// every other configured table of its connection (a connection is one namespace in the pool,
// and SQLite compares identifiers without case), and from its own other derived names.
// Other connections may use the same names.
Status CheckTableNamesFree(catalog::Tables& tables, const catalog::TableConfig& table);

// What a configuration derives, as `table show --json` prints it: connection, table, nested,
// on_error, and `tables`, every derived table parent first with its name (the physical name in
// the pool), path, columns and types, primary key, foreign key, parent and child mode (a flat
// table: its key columns; its columns are learned from its first file). `record`, when given,
// is the type of a file's records (a preview from a landed file): the tables are planned for
// it rather than for the configured example, and a flat table lists its columns.
Result<nlohmann::ordered_json> DescribeTable(const catalog::TableConfig& table,
                                             const batch::Schema* record = nullptr);

enum class TableWrite { kAdd, kUpdate };

// Checks the names (CheckTableNamesFree) and stores the configuration: kAlreadyExists for an
// add of a taken name, kNotFound for an update of an unknown table (or connection).
Status SaveTable(catalog::Catalog& catalog, const catalog::TableConfig& table, TableWrite write);

}  // namespace sluice::service
