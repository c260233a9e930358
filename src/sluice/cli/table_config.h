#pragma once
// cli/table_config: a table's configuration from `sluice table add|update` flags or from a
// configuration file (JSON, or YAML by extension; service/tables.h reads the document), and
// `sluice table show`. The file format is
// in docs/table-config.md. Private to cli/.

#include <optional>
#include <string>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"

namespace sluice::cli {

// The table flags as given (empty: not given).
struct TableFlags {
  std::string table;
  std::vector<std::string> pk;  // "a,b" or repeated
  std::string age_column;       // update: "-" removes
  std::string delete_column;    // update: "-" removes
  std::string on_error;
  bool nested = false;
  std::string example;                  // path of an example record (JSON)
  std::vector<std::string> child_pk;    // PATH=col[,col]
  std::vector<std::string> child_mode;  // PATH=replace|upsert
  std::vector<std::string> keep_json;   // PATH
  std::string config;                   // path of a configuration file
  std::string hidden_keys;              // "skip" or "load" (TableConfig::load_hidden_keys)
};

// The configuration `table add` (existing: none) or `table update` (existing: the stored one)
// writes. A nested table is checked in full (shape::CheckNestedConfig): a collision, a path
// that is not in the example or a key that is not a scalar is refused here, with the reason.
Result<catalog::TableConfig> BuildTableConfig(const TableFlags& flags,
                                              const std::string& connection,
                                              const std::optional<catalog::TableConfig>& existing);

// `table show`: every derived table, parent first, with its columns and types, primary key,
// foreign key and child mode (a flat table: its key columns). `json`: one JSON document
// (service::DescribeTable).
Result<std::string> ShowTable(const catalog::TableConfig& table, bool json);

}  // namespace sluice::cli
