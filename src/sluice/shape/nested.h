#pragma once
// shape/nested: a nested table (DESIGN.md, "Nested tables"). A record type (from an example
// record or a file's schema) and the user's choices become a plan of derived SQL tables,
// parent first; each batch of records is then unnested into one batch per derived table.
//
// Naming (DESIGN.md): the root table is the configured name; a struct field is flattened into
// columns `<field>_<subfield>` (recursively); an array field `f` of a table `t` becomes the
// child table `t_f`, whose rows carry one foreign-key column `<t>_<pkcol>` per key column of
// `t` (the seed: `nested` + `line_items` -> `nested_line_items` with `nested_order_id`). An
// array of scalars becomes a child with a `value` column; a map a child with `key` and
// `value`. A child's key is configured (element fields) or synthetic: the foreign key plus
// `_index`, the element's 0-based position. Identifiers: characters outside [A-Za-z0-9_]
// become `_`; a name longer than the pool's identifier limit is cut and given a hash suffix
// (deterministic); two paths that map to one name are a configuration error naming both.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::shape {

// How a parent's children are written when the parent row is applied.
enum class ChildMode {
  kUpsert,   // upsert on the child key; children absent from the file stay
  kReplace,  // delete the parent's previous children first (the default with synthetic keys)
};

// What the user configures (CLI flags, or a JSON/YAML file).
struct NestedConfig {
  std::string table;                     // the root table's name
  std::vector<std::string> primary_key;  // root key columns (after flattening)
  std::string age_column;                // root; empty: none
  std::string delete_column;             // root; empty: none
  // The record's type from the example record (InferRecordSchema): what `table show` previews
  // and how JSON input is typed. A loaded file is planned with its own schema.
  batch::Schema example;
  // Dotted path of an array field ("line_items", "line_items.serials") -> its key columns
  // (names of element fields, after flattening). Arrays not listed get the synthetic key.
  std::map<std::string, std::vector<std::string>> child_keys;
  // Dotted path of an array field -> mode; arrays not listed: kReplace with a synthetic key,
  // kUpsert with a configured one.
  std::map<std::string, ChildMode> child_modes;
  // Dotted paths of fields (structs, arrays, maps) kept as one JSON text column instead of
  // being flattened or unnested.
  std::set<std::string> keep_as_json;
};

// One derived SQL table.
struct DerivedTable {
  std::string name;                   // SQL identifier (sanitised, shortened)
  std::string path;                   // dotted path of its array in the record; "" for the root
  int parent = -1;                    // index of the parent in NestedPlan::tables; -1 for the root
  std::vector<batch::Field> columns;  // foreign-key columns first, then own columns
  std::vector<std::string> primary_key;  // columns of this table
  std::vector<std::string> foreign_key;  // columns of this table referencing the parent...
  std::vector<std::string> parent_key;   // ...key columns of the parent, same order
  ChildMode mode = ChildMode::kUpsert;   // how rows replace earlier ones under one parent
  std::string age_column;                // root only
  std::string delete_column;             // root only
};

struct NestedPlan {
  std::vector<DerivedTable> tables;  // pre-order: every parent before its children
};

// Plans the derived tables for records of type `record` (config.example for a preview, a
// file's schema for a load: a file may bring fields the example lacked, which become columns
// or child tables; fields it lacks are simply absent). kInvalidArgument naming the path for: a
// key column that is not a scalar field of its table, a child key on a path that is not an
// array, a name collision (naming both paths); at load time these become kPkNotFound /
// kSchemaMismatch for the file. `identifier_limit` is the pool's maximum identifier length in
// bytes (PostgreSQL: 63; SQLite: none, pass 0).
Result<NestedPlan> PlanNested(const NestedConfig& config, const batch::Schema& record,
                              size_t identifier_limit);

// The type of a record, inferred from one example JSON record (an object) as a user would
// paste it: integers BIGINT (UBIGINT/DECIMAL(38,0) beyond), numbers with a fraction or
// exponent DOUBLE, strings VARCHAR (ISO-8601 dates DATE, timestamps TIMESTAMP), booleans,
// objects STRUCT, arrays LIST of the merged element type, null -> VARCHAR. kInvalidArgument
// naming the path for what cannot be typed (an empty array: give a non-empty example).
Result<batch::Schema> InferRecordSchema(std::string_view example_json);

// One derived table's rows from one batch of records. `parent_row[i]` is the row of the
// parent's UnnestedBatch that row i belongs to (empty for the root), so that a sink can apply
// a parent row and then its children in order.
struct UnnestedBatch {
  batch::Batch rows;  // schema = the DerivedTable's columns
  std::vector<int64_t> parent_row;
};

// Unnests `records` (a batch of the `record` schema the plan was made for) into one
// UnnestedBatch per derived table, in plan order. Key columns must be non-null: kPkNull naming
// table, column and the file row (`first_row` is the file row of the batch's row 0).
Result<std::vector<UnnestedBatch>> Unnest(const NestedPlan& plan, const batch::Batch& records,
                                          int64_t first_row);

}  // namespace sluice::shape
