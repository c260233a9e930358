#pragma once
// Private to cli: the file ledger as people and scripts read it (`sluice files`,
// `sluice files show`). Times are ISO-8601 UTC; a time that has not happened yet is null.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/cli/output.h"

namespace sluice::cli {

// One row per file: seq, table, key, size, status, inserted, updated, deleted, refused,
// error_code, error_message (for a skipped duplicate: why it was skipped), duplicate_of
// (null unless a duplicate), received_at.
Table FilesTable(const std::vector<catalog::FileRecord>& files);

// The whole record. checksums and metadata are JSON objects; unset values are null.
nlohmann::ordered_json FileJson(const catalog::FileRecord& file);

// The whole record as "name: value" lines for a person.
std::string FileText(const catalog::FileRecord& file);

}  // namespace sluice::cli
