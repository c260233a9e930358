// Unnest (nested.h): one batch of records -> one batch per derived table.
//
// Each table's rows are positions in its "row column": the record batch itself for the root,
// the element column of its array for a child (a map's entries struct; a list's element).
// A child's rows are found from its parent's: for parent row i at position e, the array at
// list_path below the parent's row column holds positions [offsets[e], offsets[e+1]) of the
// child's row column, unless the array or a struct on the way is null. Output columns are
// then gathers by position: fixed-width values copied by width, strings in two passes (size,
// then copy), a validity byte only when some column on the way has nulls. The root's value
// columns without structs on the way are copied whole.
#include <cstring>

#include "sluice/shape/nested.h"

namespace sluice::shape {
namespace {

using batch::Column;
using batch::TypeId;
using Source = DerivedTable::ColumnSource;

// A value's column and the columns above it whose nulls make it null (structs on the way,
// and the element itself for a child table's row column).
struct Chain {
  std::vector<const Column*> columns;  // outermost first; back() holds the values
  bool has_nulls = false;

  const Column& leaf() const { return *columns.back(); }
  bool Valid(int64_t pos) const {
    for (const Column* c : columns) {
      if (c->type.id == TypeId::kNull || !c->IsValid(pos)) return false;
    }
    return true;
  }
};

// `base` is the table's row column, or null for the root (path[0] is then a record field).
Chain Resolve(const batch::Batch& records, const Column* base, const std::vector<int>& path) {
  Chain chain;
  const Column* c = base;
  if (c != nullptr) chain.columns.push_back(c);
  for (size_t k = 0; k < path.size(); ++k) {
    const auto i = static_cast<size_t>(path[k]);
    c = c == nullptr ? &records.columns[i] : &c->children[i];
    chain.columns.push_back(c);
  }
  for (const Column* col : chain.columns) {
    if (col->type.id == TypeId::kNull || col->HasNulls()) chain.has_nulls = true;
  }
  return chain;
}

template <size_t W>
void GatherFixed(const uint8_t* src, const int64_t* pos, int64_t n, uint8_t* dst) {
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + static_cast<size_t>(i) * W, src + static_cast<size_t>(pos[i]) * W, W);
  }
}

void GatherFixedAny(const uint8_t* src, const int64_t* pos, int64_t n, size_t w, uint8_t* dst) {
  switch (w) {
    case 1:
      return GatherFixed<1>(src, pos, n, dst);
    case 4:
      return GatherFixed<4>(src, pos, n, dst);
    case 8:
      return GatherFixed<8>(src, pos, n, dst);
    case 16:
      return GatherFixed<16>(src, pos, n, dst);
    default:
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(dst + static_cast<size_t>(i) * w, src + static_cast<size_t>(pos[i]) * w, w);
      }
  }
}

// Values of a scalar chain at positions `pos` (null `pos`: positions 0..n-1).
Column Gather(const Chain& chain, const int64_t* pos, int64_t n) {
  const Column& src = chain.leaf();
  Column out = batch::MakeColumn(src.type);
  out.length = n;
  if (src.type.id == TypeId::kNull) return out;
  if (pos == nullptr && chain.columns.size() == 1) {
    // The root's own column: the same rows.
    out.validity = src.validity;
    out.fixed = src.fixed;
    out.offsets = src.offsets;
    out.chars = src.chars;
    return out;
  }
  std::vector<int64_t> identity;
  if (pos == nullptr) {
    identity.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) identity[static_cast<size_t>(i)] = i;
    pos = identity.data();
  }
  if (chain.has_nulls) {
    out.validity.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out.validity[static_cast<size_t>(i)] = chain.Valid(pos[i]);
  }
  const size_t w = batch::FixedWidth(src.type.id);
  if (w > 0) {
    out.fixed.resize(static_cast<size_t>(n) * w);
    GatherFixedAny(src.fixed.data(), pos, n, w, out.fixed.data());
    return out;
  }
  // Strings: sizes, then bytes. A null row gets an empty slot.
  out.offsets.resize(static_cast<size_t>(n) + 1);
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    out.offsets[static_cast<size_t>(i)] = total;
    if (!out.validity.empty() && out.validity[static_cast<size_t>(i)] == 0) continue;
    total +=
        src.offsets[static_cast<size_t>(pos[i]) + 1] - src.offsets[static_cast<size_t>(pos[i])];
  }
  out.offsets[static_cast<size_t>(n)] = total;
  out.chars.resize(static_cast<size_t>(total));
  char* dst = out.chars.data();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t len =
        out.offsets[static_cast<size_t>(i) + 1] - out.offsets[static_cast<size_t>(i)];
    if (len == 0) continue;
    std::memcpy(dst + out.offsets[static_cast<size_t>(i)],
                src.chars.data() + src.offsets[static_cast<size_t>(pos[i])],
                static_cast<size_t>(len));
  }
  return out;
}

Column GatherJson(const Chain& chain, const int64_t* pos, int64_t n) {
  Column out = batch::MakeColumn(batch::DataType(TypeId::kJson));
  out.length = n;
  if (chain.has_nulls) out.validity.resize(static_cast<size_t>(n));
  std::string text;
  out.offsets.resize(static_cast<size_t>(n) + 1);
  out.offsets[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = pos == nullptr ? i : pos[i];
    const bool valid = !chain.has_nulls || chain.Valid(p);
    if (chain.has_nulls) out.validity[static_cast<size_t>(i)] = valid;
    if (valid) {
      text.clear();
      batch::AppendCanonicalValue(chain.leaf(), p, &text);
      out.chars.insert(out.chars.end(), text.begin(), text.end());
    }
    out.offsets[static_cast<size_t>(i) + 1] = static_cast<int64_t>(out.chars.size());
  }
  return out;
}

Column GatherIndex(const std::vector<int64_t>& index) {
  Column out = batch::MakeColumn(batch::DataType(TypeId::kInt64));
  out.length = static_cast<int64_t>(index.size());
  out.fixed.resize(index.size() * sizeof(int64_t));
  if (!index.empty()) std::memcpy(out.fixed.data(), index.data(), out.fixed.size());
  return out;
}

// Per table while unnesting: where its rows sit in its row column.
struct TableRows {
  const Column* row_column = nullptr;  // null for the root: the record batch
  std::vector<int64_t> positions;      // empty for the root: 0..n-1
  std::vector<int64_t> index;          // position within the parent's array
};

int64_t RootRow(const std::vector<UnnestedBatch>& out, const NestedPlan& plan, size_t table,
                int64_t row) {
  while (plan.tables[table].parent >= 0) {
    row = out[table].parent_row[static_cast<size_t>(row)];
    table = static_cast<size_t>(plan.tables[table].parent);
  }
  return row;
}

}  // namespace

Result<std::vector<UnnestedBatch>> Unnest(const NestedPlan& plan, const batch::Batch& records,
                                          int64_t first_row) {
  if (records.columns.size() != plan.record_fields) {
    return Err(ErrorCode::kInternal,
               "nested: a batch of " + std::to_string(records.columns.size()) +
                   " fields for a plan made for " + std::to_string(plan.record_fields));
  }
  std::vector<UnnestedBatch> out(plan.tables.size());
  std::vector<TableRows> rows(plan.tables.size());
  for (size_t t = 0; t < plan.tables.size(); ++t) {
    const DerivedTable& d = plan.tables[t];
    TableRows& tr = rows[t];
    UnnestedBatch& ub = out[t];
    int64_t n = records.num_rows;
    if (d.parent >= 0) {
      const auto parent = static_cast<size_t>(d.parent);
      const TableRows& pr = rows[parent];
      const int64_t parent_rows = out[parent].rows.num_rows;
      const Chain list = Resolve(records, pr.row_column, d.list_path);
      const Column& l = list.leaf();
      tr.row_column = &l.children[0];
      // A null struct or list element has nothing to store: no row (its position still counts
      // in its siblings' _index). A null scalar element is a row with a null value.
      const Column& element = *tr.row_column;
      const bool skip_nulls = element.HasNulls() &&
                              (element.type.id == TypeId::kStruct ||
                               element.type.id == TypeId::kList || element.type.id == TypeId::kMap);
      tr.positions.reserve(static_cast<size_t>(element.length));
      tr.index.reserve(static_cast<size_t>(element.length));
      ub.parent_row.reserve(static_cast<size_t>(element.length));
      for (int64_t i = 0; i < parent_rows; ++i) {
        const int64_t e = pr.row_column == nullptr ? i : pr.positions[static_cast<size_t>(i)];
        if (list.has_nulls && !list.Valid(e)) continue;
        const int64_t begin = l.offsets[static_cast<size_t>(e)];
        const int64_t end = l.offsets[static_cast<size_t>(e) + 1];
        for (int64_t j = begin; j < end; ++j) {
          if (skip_nulls && !element.IsValid(j)) continue;
          tr.positions.push_back(j);
          tr.index.push_back(j - begin);
          ub.parent_row.push_back(i);
        }
      }
      n = static_cast<int64_t>(tr.positions.size());
    }
    const int64_t* pos = d.parent >= 0 ? tr.positions.data() : nullptr;
    ub.rows.schema = d.schema;
    ub.rows.num_rows = n;
    ub.rows.columns.reserve(d.columns.size());
    for (size_t c = 0; c < d.columns.size(); ++c) {
      const Source& s = d.sources[c];
      switch (s.kind) {
        case Source::Kind::kForeignKey: {
          const Column& parent_col =
              out[static_cast<size_t>(d.parent)].rows.columns[static_cast<size_t>(s.index)];
          Chain chain;
          chain.columns.push_back(&parent_col);
          chain.has_nulls = parent_col.HasNulls();
          ub.rows.columns.push_back(Gather(chain, ub.parent_row.data(), n));
          break;
        }
        case Source::Kind::kIndex:
          ub.rows.columns.push_back(GatherIndex(tr.index));
          break;
        case Source::Kind::kValue:
          ub.rows.columns.push_back(Gather(Resolve(records, tr.row_column, s.path), pos, n));
          break;
        case Source::Kind::kJson:
          ub.rows.columns.push_back(GatherJson(Resolve(records, tr.row_column, s.path), pos, n));
          break;
      }
      ub.rows.columns.back().type = d.columns[c].type;
    }
    // Keys: the foreign key was checked in the parent; own key columns here.
    for (size_t k = d.foreign_key.size(); k < d.primary_key.size(); ++k) {
      const int idx = d.schema->FieldIndex(d.primary_key[k]);
      const Column& col = ub.rows.columns[static_cast<size_t>(idx)];
      const bool all_null = col.type.id == TypeId::kNull;
      if (!all_null && !col.HasNulls()) continue;
      for (int64_t r = 0; r < n; ++r) {
        if (all_null || !col.IsValid(r)) {
          return Err(
              ErrorCode::kPkNull,
              "table " + d.name + ": primary key column '" + d.primary_key[k] +
                  "' is null in row " + std::to_string(first_row + RootRow(out, plan, t, r)) +
                  (d.parent >= 0 ? " (element " + std::to_string(tr.index[static_cast<size_t>(r)]) +
                                       " of '" + d.path + "')"
                                 : std::string()));
        }
      }
    }
  }
  return out;
}

}  // namespace sluice::shape
