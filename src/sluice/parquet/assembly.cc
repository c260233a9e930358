#include "sluice/parquet/assembly.h"

#include <string>

#include "sluice/parquet/column_builder.h"

namespace sluice::parquet {
namespace {

// The levels of one leaf; empty arrays stand for all-zero repetition / all-maximum definition.
struct Levels {
  const uint8_t* rep = nullptr;
  const uint8_t* def = nullptr;
  uint8_t max_def = 0;
  int64_t entries = 0;

  int Rep(int64_t i) const { return rep ? rep[i] : 0; }
  int Def(int64_t i) const { return def ? def[i] : max_def; }
};

Levels LevelsOf(const LeafBatch& leaf, const LeafColumn& column) {
  Levels l;
  l.rep = leaf.rep.empty() ? nullptr : leaf.rep.data();
  l.def = leaf.def.empty() ? nullptr : leaf.def.data();
  l.max_def = static_cast<uint8_t>(column.max_definition_level);
  l.entries = leaf.entries;
  return l;
}

class Assembler {
 public:
  Assembler(std::vector<LeafBatch>& leaves, const std::vector<LeafColumn>& columns)
      : leaves_(leaves), columns_(columns) {}

  // `def_ctx` is the node's own, except for a struct's fields, which take the struct's: they
  // have a row for every row of the struct, null ones included.
  Status Build(const ShapeNode& node, int def_ctx, batch::Column* out) {
    *out = batch::MakeColumn(node.type);
    const size_t leaf = static_cast<size_t>(node.first_leaf);
    if (node.first_leaf < 0 || leaf >= leaves_.size()) {
      return Err(ErrorCode::kInternal, "shape without a leaf");
    }
    const Levels l = LevelsOf(leaves_[leaf], columns_[leaf]);
    // The node's slots, and their validity.
    std::vector<int64_t> slots;
    for (int64_t i = 0; i < l.entries; ++i) {
      if (l.Rep(i) <= node.rep_ctx && l.Def(i) >= def_ctx) slots.push_back(i);
    }
    const int64_t n = static_cast<int64_t>(slots.size());
    std::vector<uint8_t> valid(static_cast<size_t>(n));
    int64_t num_valid = 0;
    for (int64_t k = 0; k < n; ++k) {
      valid[static_cast<size_t>(k)] = l.Def(slots[static_cast<size_t>(k)]) >= node.def_valid;
      num_valid += valid[static_cast<size_t>(k)];
    }
    switch (node.kind) {
      case ShapeKind::kLeaf: {
        batch::Column& values = leaves_[leaf].values;
        if (values.length != num_valid) {
          return Err(ErrorCode::kCorruptFile,
                     "column '" + columns_[leaf].name + "': " + std::to_string(values.length) +
                         " values for " + std::to_string(num_valid) + " defined slots");
        }
        if (num_valid == n) {
          *out = std::move(values);
        } else {
          AppendWithNulls(values, valid.data(), n, out);
        }
        return Status::Ok();
      }
      case ShapeKind::kStruct: {
        out->children.resize(node.children.size());
        for (size_t c = 0; c < node.children.size(); ++c) {
          SLUICE_RETURN_IF_ERROR(Build(node.children[c], def_ctx, &out->children[c]));
          if (out->children[c].length != n) return Mismatch(node, out->children[c].length, n);
        }
        break;
      }
      case ShapeKind::kList:
      case ShapeKind::kMap: {
        const ShapeNode& child = node.children[0];
        out->offsets.resize(static_cast<size_t>(n) + 1);
        int64_t count = 0;
        for (int64_t k = 0; k < n; ++k) {
          out->offsets[static_cast<size_t>(k)] = count;
          const int64_t end = k + 1 < n ? slots[static_cast<size_t>(k) + 1] : l.entries;
          for (int64_t j = slots[static_cast<size_t>(k)]; j < end; ++j) {
            count += (l.Rep(j) <= child.rep_ctx && l.Def(j) >= child.def_ctx) ? 1 : 0;
          }
        }
        out->offsets[static_cast<size_t>(n)] = count;
        SLUICE_RETURN_IF_ERROR(Build(child, child.def_ctx, &out->children[0]));
        if (out->children[0].length != count) {
          return Mismatch(child, out->children[0].length, count);
        }
        break;
      }
      case ShapeKind::kNullFill:
        break;
    }
    out->length = n;
    if (num_valid != n) out->validity = std::move(valid);
    return Status::Ok();
  }

 private:
  Status Mismatch(const ShapeNode& node, int64_t got, int64_t want) {
    return Err(ErrorCode::kCorruptFile,
               "nested column '" + columns_[static_cast<size_t>(node.first_leaf)].name +
                   "': its leaves disagree (" + std::to_string(got) + " rows where " +
                   std::to_string(want) + " were expected)");
  }

  std::vector<LeafBatch>& leaves_;
  const std::vector<LeafColumn>& columns_;
};

}  // namespace

Status AssembleColumn(const ShapeNode& node, std::vector<LeafBatch>& leaves,
                      const std::vector<LeafColumn>& leaf_columns, batch::Column* out) {
  const size_t leaf = static_cast<size_t>(node.first_leaf);
  if (node.kind == ShapeKind::kLeaf && node.rep_ctx == 0 && leaf < leaves.size() &&
      leaf_columns[leaf].max_repetition_level == 0) {
    // Flat: every entry is a row; the definition levels are the validity.
    LeafBatch& l = leaves[leaf];
    const int max_def = leaf_columns[leaf].max_definition_level;
    if (l.values.length == l.entries) {
      *out = std::move(l.values);
      return Status::Ok();
    }
    if (max_def == 0 || static_cast<int64_t>(l.def.size()) != l.entries) {
      return Err(ErrorCode::kCorruptFile, "column '" + leaf_columns[leaf].name +
                                              "': " + std::to_string(l.values.length) +
                                              " values for " + std::to_string(l.entries) + " rows");
    }
    *out = batch::MakeColumn(node.type);
    for (uint8_t& d : l.def) d = d == max_def ? 1 : 0;
    AppendWithNulls(l.values, l.def.data(), l.entries, out);
    return Status::Ok();
  }
  Assembler assembler(leaves, leaf_columns);
  return assembler.Build(node, node.def_ctx, out);
}

}  // namespace sluice::parquet
