#pragma once
// Private to pool/sqlite: how logical batch types are stored in SQLite, and the per-column
// binders that move values from batch buffers into statement parameters. The mapping is
// documented (and justified) in docs/design/pool.md, "SQLite storage"; this file is its
// implementation.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::pool::sqlite {

// The declared SQLite type of a column (what CREATE TABLE / ADD COLUMN writes). Chosen for
// its affinity as much as for its name: see the table in docs/design/pool.md.
std::string DeclaredType(const batch::DataType& type);

// Two logical types with the same key are stored identically and may share a column;
// different keys are a SCHEMA_MISMATCH. Millis and micros timestamps (and times) share a key
// because both are written with 6 fraction digits.
std::string TypeKey(const batch::DataType& type);

// How a file's column type relates to the type a pool column is stored as.
enum class TypeChange {
  kFits,          // every value of the file's type is stored as-is in the column
  kWiden,         // safe widening: the column's logical type becomes `*widened`
  kIncompatible,  // SCHEMA_MISMATCH
};
// The safe paths, chosen so that the SQLite column's declared type (and with it its
// affinity and the decimal scale Query prints) never has to change: integers to wider
// integers, integers and FLOAT to DOUBLE (not for key columns: a rowid key holds integers
// only), DECIMAL precision up at the same scale within one affinity class, and DATE to
// TIMESTAMP (the caller rewrites the stored dates: see MidnightSuffix). A DATE file into a
// TIMESTAMP column fits (its values are bound as midnight timestamps). Everything else (scale
// changes, timestamp units, any -> text) fails; `*reason` then says why when there is more to
// say than "it could lose data", else stays empty.
TypeChange ClassifyTypeChange(std::string_view stored_key, const batch::DataType& file,
                              bool key_column, std::string* widened, std::string* reason);

// True for the storage keys of timestamps ("TIMESTAMP", "TIMESTAMP_NS", "... UTC").
bool IsTimestampKey(std::string_view key);

// What turns a stored date 'YYYY-MM-DD' into the text of that day's midnight in a timestamp
// column of `timestamp_key`: "T00:00:00.000000" (9 fraction digits for nanoseconds) plus "Z"
// for UTC. batch::FormatDate and batch::FormatTimestamp share their date text for every year,
// so date text + suffix is exactly FormatTimestamp of that midnight.
std::string MidnightSuffix(std::string_view timestamp_key);

// Fails with SCHEMA_MISMATCH if a value of `column` cannot be stored without loss (UBIGINT
// above INT64_MAX). `first_row` is the file-level row number of the batch's row 0. Runs once
// per column per batch, before any row is written.
Status CheckStorable(const batch::Column& column, std::string_view name, int64_t first_row);

// How one batch column is bound; the switch on `kind` is resolved per column, the row loop
// only dispatches on it.
enum class BindKind : uint8_t {
  kNull,
  kBool,
  kInt64,  // every integer type except UBIGINT (widened to int64 in the batch)
  kUInt64,
  kFloat,
  kDouble,
  kDecimal,
  kText,  // VARCHAR, JSON: bound in place (SQLITE_STATIC)
  kBlob,
  kUuid,
  kDate,
  kDateAsTimestamp,  // a DATE bound into a TIMESTAMP column: date text + MidnightSuffix
  kTime,
  kTimestamp,
  kCanonicalJson,  // INTERVAL, LIST, STRUCT, MAP
};

struct ColumnBinder {
  const batch::Column* column = nullptr;
  BindKind kind = BindKind::kNull;
  int param = 0;        // 1-based statement parameter
  std::string scratch;  // reused text buffer for formatted values (bound SQLITE_TRANSIENT)
  std::string suffix;   // kDateAsTimestamp: the MidnightSuffix of the stored column
};

// `stored_key` is the storage key of the pool column the values go to: a DATE column bound
// into a TIMESTAMP column is written in timestamp form. Empty: the column's own type.
ColumnBinder MakeBinder(const batch::Column& column, int param, std::string_view stored_key = {});

// Binds row `row` of the binder's column (NULL when the row is null). Returns an SQLite code.
int BindRow(sqlite3_stmt* stmt, ColumnBinder& binder, int64_t row);

// The decimal's binding rule, exposed for tests: exact INTEGER when the scale is 0 and the
// value fits int64; REAL when the unscaled value has at most 15 significant digits (binary64
// round-trips every such decimal); otherwise the canonical decimal text.
int BindDecimal(sqlite3_stmt* stmt, int param, __int128 unscaled, int32_t scale,
                std::string* scratch);

// batch::FormatTimestamp's text for years 0..9999, written to `out` without allocating;
// returns its length, or -1 (nothing written) for other years, which take the slow path.
inline constexpr int kMaxTimestampChars = 30;  // "YYYY-MM-DDTHH:MM:SS.fffffffffZ"
int FormatTimestampFast(int64_t value, batch::TimeUnit unit, bool utc, char* out);

// Parses the scale out of a declared decimal type ("DECIMAL(18,2)", "DECIMAL_BLOB(38,10)"),
// or -1 if `declared` is not one. Query uses it to print REAL decimals with their scale.
int DeclaredDecimalScale(std::string_view declared);

// Largest unscaled magnitude stored as REAL: 10^15 - 1 has 15 significant digits, all of
// which binary64 preserves (DBL_DIG == 15).
inline constexpr int64_t kMaxExactRealUnscaled = 999'999'999'999'999;

}  // namespace sluice::pool::sqlite
