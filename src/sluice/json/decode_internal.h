#pragma once
// Private to json: one record at a time into the columns of a batch (conversions in json.h).
// A Decoder is built once per schema; it keeps per-struct lookup tables (field name -> child,
// with the previous record's field order as the first guess, so the common case of records
// with the same key order costs one string compare per field, no hashing).

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/json/walk_internal.h"

namespace sluice::json {

class Decoder {
 public:
  // `schema` must outlive the decoder. A record's list and map entries may take at most
  // `max_entry_bytes` of slots (batch::RowSlotBytes of each entry): `[{},{},...]` is three
  // bytes of JSON per entry and a slot in every field of the element struct.
  Decoder(const batch::Schema& schema, uint64_t max_entry_bytes);
  ~Decoder();

  // Appends one row to `columns` (one per schema field). On error the columns are left
  // inconsistent: the batch is abandoned. kSchemaMismatch / kCorruptFile name the path;
  // kLimitExceeded names it when the record's entries pass max_entry_bytes.
  Status Append(od::object record, std::vector<batch::Column>* columns);
  // The slot bytes of the list and map entries of the record Append took last.
  uint64_t entry_bytes() const { return meter_.used; }

  struct Node;
  struct Meter {
    uint64_t used = 0;
    uint64_t limit = 0;
  };

 private:
  Meter meter_;
  batch::DataType root_type_;  // the record as a struct; Node keeps views into its names
  std::unique_ptr<Node> root_;
};

// Appends a null row to `column` (recursively for structs).
void AppendNull(batch::Column* column);

}  // namespace sluice::json
