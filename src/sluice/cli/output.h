#pragma once
// Rendering of tabular results for the terminal (aligned), for scripts (JSON) and for
// spreadsheets (CSV, RFC 4180).

#include <optional>
#include <string>
#include <vector>

namespace sluice::cli {

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

enum class Format { kAligned, kJson, kCsv };

// Aligned: header, a rule, rows; NULL for missing values; numbers right-aligned.
// JSON: an array of objects, values as JSON numbers when they are plain numbers, else strings.
// CSV: header line then rows; empty field for NULL.
std::string Render(const Table& table, Format format);

}  // namespace sluice::cli
