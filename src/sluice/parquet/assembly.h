#pragma once
// Record assembly: from the levels and dense values of a column's leaves (LeafBatch, one per
// leaf, all covering the same rows) to one batch::Column in the nested layout of batch.h.
//
// Each ShapeNode (schema.h) is one column. Reading the levels of the node's first leaf, an
// entry i is a slot of the node (a row of its column) iff rep[i] <= rep_ctx and
// def[i] >= def_ctx; the slot is valid iff def[i] >= def_valid. For the level table of
// levels.h (a: optional LIST of optional int32; list: rep_ctx 0, def_ctx 0, def_valid 1;
// element: rep_ctx 1, def_ctx 2, def_valid 3):
//
//   entries (rep,def)        list slot   list valid   element slots   column a
//   (0,0)                    yes         no           -               null
//   (0,1)                    yes         yes          -               []
//   (0,2)                    yes         yes          one, null       [null]
//   (0,3) (1,3)              yes (one)   yes          two, valid      [1, 2]
//
// A list's offsets count its child's slots between two of its own slots; a struct's fields
// are assembled from their own leaves and must yield as many slots as the struct (a field
// takes the struct's def_ctx: batch.h gives every field a row for each row of the struct, a
// null struct's fields being null); a leaf's valid slots take the dense values in order.
//
// A flat column (a leaf at the top, no repetition) takes its leaf's values as they are, with
// the definition levels as validity.

#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/parquet/column_chunk_reader.h"
#include "sluice/parquet/schema.h"

namespace sluice::parquet {

// Assembles `node` from `leaves` (indexed by ShapeNode::first_leaf) into `out` (replaced).
// kCorruptFile when the leaves disagree (different row or slot counts).
Status AssembleColumn(const ShapeNode& node, std::vector<LeafBatch>& leaves,
                      const std::vector<LeafColumn>& leaf_columns, batch::Column* out);

}  // namespace sluice::parquet
