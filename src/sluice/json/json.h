#pragma once
// json: sluice's JSON reader. Reads JSON records through the RandomAccessFile seam and yields
// columnar batch::Batches, like the parquet reader; it knows nothing of SQL, tables or keys.
//
// Input forms, decided by content, not by the key's extension:
//   - JSON Lines / NDJSON: objects one after another, normally one per line (a single object
//     per file and pretty-printed objects are the same form);
//   - one top-level JSON array of objects;
//   - either of them gzip-wrapped (first bytes 1f 8b; concatenated members are read in turn).
// Every record must be a JSON object. An optional UTF-8 byte-order mark is skipped.
//
// Streaming: the file is read in chunks (gzip inflated on the fly); a small scanner that
// tracks only strings, escapes and bracket depth cuts records out of a window (splitter_internal.h)
// and simdjson's On-Demand parser decodes each record straight into the batch's column
// buffers. Memory is one window (1 MiB, growing to hold one record up to kMaxRecordBytes)
// plus the batch being built; never the file.
//
// Types. With ReaderOptions::schema, a field the target names gets the target's type; a
// field it does not name is inferred. Otherwise every field is inferred from the first
// ReaderOptions::infer_records records (a first pass over them; the file is then read from
// the start). The schema holds the fields those records carry, in order of first appearance.
// Inference rules, merging every value seen at one path:
//   null only -> "NULL" (the pool gives the column a type later); true/false -> BOOLEAN;
//   integers -> BIGINT, or DECIMAL(38,0) when one is beyond the int64 range (exact; up to 38
//   digits, beyond that VARCHAR with the digits); any number with a fraction or exponent ->
//   DOUBLE (integers with it too); strings -> VARCHAR, except when every string is an ISO-8601
//   date (DATE), or dates and timestamps without a zone (TIMESTAMP), or timestamps with a zone
//   (Z or +hh:mm: TIMESTAMP WITH TIME ZONE, in UTC); a timestamp with more than 6 fraction
//   digits makes the column TIMESTAMP_NS; objects -> STRUCT of the union of their fields;
//   arrays -> LIST of the merged element type; any other mixture (a number and a string, an
//   object and a scalar) -> VARCHAR holding each value's JSON text (strings unquoted).
// Conversions into a column's type (target or inferred), exact, never through a double where
// the column is not a float: integers (int64 and uint64 exact, also from a string of digits)
// into integer columns with a range check; any number into FLOAT/DOUBLE; a number's text or a
// string into DECIMAL(p,s) at the column's scale (no rounding: digits beyond the scale must
// be zeros); ISO-8601 strings into DATE, TIME and TIMESTAMP (a zone offset is applied; a
// naive value is taken as it is); UUID text into UUID; any value into VARCHAR (JSON text for
// non-strings) and JSON (the value's JSON text); arrays into LIST; objects into STRUCT (a
// missing field is null) and into MAP (keys as the key type, VARCHAR or integers). A missing
// top-level field is null.
//
// Errors (messages start with the file's name()):
//   - kUnsupportedFormat: the (inflated) data starts with neither '{' nor '[';
//   - kCorruptFile: malformed JSON, a truncated file or gzip stream, a record that is not an
//     object, a key repeated in one object: naming the line (1-based) and the byte offset in
//     the (inflated) data;
//   - kSchemaMismatch: a value that does not fit its column, or a field that is not in the
//     schema (one first seen after the inference window): naming the record (line for JSON
//     Lines, element index and line for an array) and the path, e.g. `line_items[2].qty`.
//
// Thread-safety: one reader per thread; different readers may run concurrently.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "sluice/batch/batch.h"
#include "sluice/batch/limits.h"
#include "sluice/core/core.h"

namespace sluice::json {

struct ReaderOptions {
  // The target types (a nested table's example record, a flat table's known columns).
  std::optional<batch::Schema> schema;
  // Records read to infer the schema; 0 reads the whole file (two full passes).
  int64_t infer_records = batch::kBatchRows;
  // Rows per batch (at most batch::kBatchRows; smaller in tests).
  int64_t batch_rows = batch::kBatchRows;
  // The initial window in bytes (tests use tiny windows to split records across reads).
  size_t window_bytes = 1 << 20;
  // Memory budgets (batch/limits.h): a batch is cut by bytes as well as rows, and one record
  // larger than the batch budget (or kMaxRecordBytes) fails LIMIT_EXCEEDED.
  batch::ReadLimits limits;
};

// The target type of a column from the name of its logical type (batch::TypeName), as the pool
// records a table's columns: scalar types only; nullopt for nested types and "NULL", which are
// left to inference. TIMESTAMP_NS and TIME_NS read as without a time zone (the name does not
// say).
std::optional<batch::DataType> ScalarTypeFromName(std::string_view name);

// Opens `file`, reads its first bytes and infers the schema. The returned reader yields
// batches of at most options.batch_rows rows, in file order; batches own their data.
Result<std::unique_ptr<batch::BatchReader>> OpenJson(std::unique_ptr<RandomAccessFile> file,
                                                     const ReaderOptions& options = {});

}  // namespace sluice::json
