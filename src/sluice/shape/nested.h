#pragma once
// shape/nested: a nested table (DESIGN.md, "Nested tables"). A record type (from an example
// record or a file's schema) and the user's choices become a plan of derived SQL tables,
// parent first; each batch of records is then unnested into one batch per derived table.
// It knows no SQL and no file format: the loader writes the batches, readers produce records.
//
// The rules, all implemented by PlanNested (docs/table-config.md, "What a nested record
// becomes", has worked examples):
//
// - Paths. A field is named by its dotted path from the record root through structs and
//   arrays: `customer.address.city`, `line_items` (the array), `line_items.serials` (an array
//   inside each line item). An array's element that is not a struct is the field `value`
//   (`tags.value`, `score_matrix.value` for a list of lists); a map's entries are the fields
//   `key` and `value` (`attributes.value`).
// - Root table. Named as configured; gets the record's scalar fields. A struct field is
//   flattened into columns `<field>_<subfield>` (recursively; a null struct makes all its
//   columns null). A field listed in keep_as_json becomes one JSON column (canonical JSON
//   text, batch::AppendCanonicalValue) named like a flattened scalar.
// - Child tables. Every array (and map) field of a table `t` at flattened name `f` becomes the
//   child table `t_f` (the seed: `nested` + `line_items` -> `nested_line_items`; an array in a
//   struct: `nested_customer_phones`), to any depth (`nested_line_items_serials`). Its element
//   becomes the child's columns: a struct's fields flattened as above, a scalar one `value`, a
//   map entry `key` and `value`; a list element (list of lists) the grandchild `t_f_value`.
// - Foreign keys. A child carries the key of its parent, first among its columns: for each
//   primary-key column `c` of the parent, in order, a column named `<parent>_<c>` — except that
//   a column the parent itself carries as a foreign key keeps its name. So every descendant
//   carries the root's key under the same name, and a grandchild carries its parent's own key
//   prefixed: `nested_line_items_serials` has `nested_order_id`,
//   `nested_line_items_order_line_id` (the child's columns keep the parent's types).
// - Child keys. A child's primary key is its foreign-key columns plus its own key: the
//   configured element columns (child_keys, e.g. `order_line_id`), or else `_index`, the
//   element's 0-based position in its array (BIGINT). Configured keys thus identify an element
//   within its parent (line numbers 1, 2, ... repeat across orders). Every table's key columns
//   must be scalars; they may not be null in the data (kPkNull).
// - Nulls. A null or empty array gives no child rows; a null struct element or list element
//   of an array gives no row either (nothing to store; its position still counts in its
//   siblings' `_index`); a null scalar element is a row with a null `value`.
// - Modes. A child with a synthetic key defaults to kReplace, one with a configured key to
//   kUpsert; child_modes overrides either.
// - Identifiers. Every character outside [A-Za-z0-9_] becomes `_` (one `_` per UTF-8
//   character). A table or column name longer than `identifier_limit` bytes (0: no limit) is
//   cut to limit-9 bytes and given `_` plus 8 lower-case hex digits: the top 32 bits of the
//   64-bit FNV-1a hash of the uncut name (deterministic, and distinct uncut names rarely share
//   a suffix). Names are compared case-insensitively (SQL
//   folds case): two paths that map to one table or column name are a configuration error
//   naming both paths.
//
// Pure functions; thread-safe. A NestedPlan is immutable once made and may be shared.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::shape {

// The identifier limit `sluice table add|show` plan with: PostgreSQL's 63 bytes, the
// strictest pool. The loader does not pass it: the SQLite pool has no identifier limit and
// load/load_nested.cc passes 0, so a derived name longer than 63 bytes, which `table show`
// previews cut, reaches the SQLite pool whole.
inline constexpr size_t kPortableIdentifierLimit = 63;

// How a parent's children are written when the parent row is applied.
enum class ChildMode {
  kUpsert,   // upsert on the child key; children absent from the file stay
  kReplace,  // delete the parent's previous children first (the default with synthetic keys)
};

std::string_view ChildModeName(ChildMode mode);  // "upsert", "replace"

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
  // (names of element columns, after flattening). Arrays not listed get the synthetic key.
  std::map<std::string, std::vector<std::string>> child_keys;
  // Dotted path of an array field -> mode; arrays not listed: kReplace with a synthetic key,
  // kUpsert with a configured one.
  std::map<std::string, ChildMode> child_modes;
  // Dotted paths of fields (structs, arrays, maps) kept as one JSON text column instead of
  // being flattened or unnested.
  std::set<std::string> keep_as_json;
};

// The stored form (catalog TableConfig::nested_json) and the configuration-file form:
//   {"table": "nested", "primary_key": ["order_id"], "age_column": "", "delete_column": "",
//    "schema": [{"name": "order_id", "type": "BIGINT"},
//               {"name": "line_items", "type": {"list": {"struct": [
//                   {"name": "order_line_id", "type": "BIGINT"}, ...]}}}],
//    "children": {"line_items": {"primary_key": ["order_line_id"], "mode": "upsert"}},
//    "keep_as_json": ["customer.address"]}
// Scalar types are batch::TypeName's names (TIMESTAMP_MS / TIMESTAMP_NS / TIME_MS / TIME_NS
// and " WITH TIME ZONE" spell every unit and zone); nested ones {"list": T}, {"struct":
// [fields]}, {"map": [K, V]}; a field may say "nullable": false. NestedConfigFromJson also
// accepts, instead of "schema", "example": an example record (a JSON object) typed by
// InferRecordSchema. Unknown keys are refused (a typo must not silently do nothing).
std::string NestedConfigToJson(const NestedConfig& config);
Result<NestedConfig> NestedConfigFromJson(std::string_view text);

// One derived SQL table.
struct DerivedTable {
  // Where one output column's values come from (Unnest's recipe; indices into the record
  // schema the plan was made for).
  struct ColumnSource {
    enum class Kind : uint8_t {
      kForeignKey,  // the parent's output column `index`, at the row's parent row
      kIndex,       // the element's position in its array
      kValue,       // the scalar at `path` below the table's row column
      kJson,        // the nested value at `path`, as canonical JSON text
    };
    Kind kind = Kind::kValue;
    int index = 0;
    std::vector<int> path;  // struct child indices; for the root, path[0] is a record field
  };

  std::string name;                   // SQL identifier (sanitised, shortened)
  std::string path;                   // dotted path of its array in the record; "" for the root
  int parent = -1;                    // index of the parent in NestedPlan::tables; -1 for the root
  std::vector<batch::Field> columns;  // foreign-key columns first, then own columns
  std::vector<std::string> primary_key;  // columns of this table: foreign key, then own key
  std::vector<std::string> foreign_key;  // columns of this table referencing the parent...
  std::vector<std::string> parent_key;   // ...key columns of the parent, same order
  // The columns holding the root row's key, in the root key's order (the root: its key).
  // Deleting a root row deletes every descendant whose root_key matches.
  std::vector<std::string> root_key;
  bool synthetic_key = false;           // own key is `_index`
  ChildMode mode = ChildMode::kUpsert;  // how rows replace earlier ones under one parent
  std::string age_column;               // root only
  std::string delete_column;            // root only

  // Unnest's recipe: the struct-child indices from the parent's row column to this table's
  // array (for a child of the root, list_path[0] is a record field), and one source per
  // column.
  std::vector<int> list_path;
  std::vector<ColumnSource> sources;
  std::shared_ptr<const batch::Schema> schema;  // = columns, shared by every output batch
};

struct NestedPlan {
  std::vector<DerivedTable> tables;  // pre-order: every parent before its children
  size_t record_fields = 0;          // fields of the record schema planned for
};

// Plans the derived tables for records of type `record` (config.example for a preview, a
// file's schema for a load: a file may bring fields the example lacked, which become columns
// or child tables; fields it lacks are simply absent, and configured paths it lacks are
// ignored). Errors name the path: kPkNotFound for a key column that is not a column of its
// table, kAgeColumnNotFound likewise, kSchemaMismatch for a key column that is not a scalar,
// a child key or mode on a field that is not an array, or a name collision (naming both
// paths). `identifier_limit` is the pool's maximum identifier length in bytes (PostgreSQL:
// 63; SQLite: none, pass 0).
Result<NestedPlan> PlanNested(const NestedConfig& config, const batch::Schema& record,
                              size_t identifier_limit);

// What `table add` checks: PlanNested over config.example, plus that every configured path
// (child keys, modes, keep_as_json) exists in the example, and the table name is valid.
// kInvalidArgument with PlanNested's message otherwise.
Result<NestedPlan> CheckNestedConfig(const NestedConfig& config, size_t identifier_limit);

// The type of a record, inferred from one example JSON record (an object) as a user would
// paste it: integers BIGINT (UBIGINT/DECIMAL(38,0) beyond), numbers with a fraction or
// exponent DOUBLE, strings VARCHAR (ISO-8601 dates DATE, date-times TIMESTAMP, with a zone
// TIMESTAMP WITH TIME ZONE), booleans BOOLEAN, objects STRUCT, arrays LIST of the merged
// element type (objects merge field by field, BIGINT and DOUBLE give DOUBLE, DATE and
// TIMESTAMP give TIMESTAMP, a null takes the other's type), null -> VARCHAR.
// kInvalidArgument naming the path for what cannot be typed (an array whose elements are all
// empty arrays: give a non-empty example; elements of incompatible types).
Result<batch::Schema> InferRecordSchema(std::string_view example_json);

// One derived table's rows from one batch of records. `parent_row[i]` is the row of the
// parent's UnnestedBatch that row i belongs to (empty for the root), so that a sink can apply
// a parent row and then its children in order. Rows of a table are grouped by parent row, in
// order.
struct UnnestedBatch {
  batch::Batch rows;  // schema = the DerivedTable's columns
  std::vector<int64_t> parent_row;
};

// Unnests `records` (a batch of the `record` schema the plan was made for) into one
// UnnestedBatch per derived table, in plan order. A null or empty array gives no child rows.
// Key columns must be non-null: kPkNull naming table, column and the file row (`first_row` is
// the file row of the batch's row 0).
Result<std::vector<UnnestedBatch>> Unnest(const NestedPlan& plan, const batch::Batch& records,
                                          int64_t first_row);

}  // namespace sluice::shape
