// The nested load (sqlite_nested_internal.h; docs/design/pool.md, "Nested loads").
//
// Cost: per child row one upsert step, as for a flat table; per applied parent row of a
// kReplace child table one DELETE per table of that child's subtree (an index range scan on
// the foreign key, usually empty on a first load and skipped when the table began empty);
// per delete row the same cascade for every child table. Rows are grouped by parent row
// once per batch (a counting sort), so finding a parent's children costs nothing per row.

#include <string>
#include <unordered_set>
#include <vector>

#include "sluice/batch/keys.h"
#include "sluice/pool/sqlite/sqlite_load_internal.h"
#include "sluice/pool/sqlite/sqlite_nested_internal.h"
#include "sluice/pool/sqlite/type_map_internal.h"

namespace sluice::pool::sqlite {
namespace {

// Whether `prefix` is a leading part of `key` (case-insensitively): the key's index then
// serves lookups by the foreign key.
bool IsPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& key) {
  if (prefix.size() > key.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLowered(prefix[i]) != AsciiLowered(key[i])) return false;
  }
  return true;
}

std::string ColumnList(const std::vector<std::string>& columns, const std::string& qualifier) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    out += (i ? ", " : "") + qualifier + QuoteIdent(columns[i]);
  }
  return out;
}

class SqliteNestedLoad final : public NestedLoadTransaction {
 public:
  SqliteNestedLoad(Db* db, std::unique_lock<std::mutex> lock, WriteTransaction txn, NestedSpec spec,
                   int64_t seq, const Clock& clock)
      : db_(db), lock_(std::move(lock)), txn_(std::move(txn)), spec_(std::move(spec)), seq_(seq) {
    nodes_.resize(spec_.tables.size());
    for (size_t i = 0; i < spec_.tables.size(); ++i) {
      nodes_[i].writer = std::make_unique<TableWriter>(db, spec_.tables[i].table, seq, clock);
      if (spec_.tables[i].parent >= 0) {
        nodes_[static_cast<size_t>(spec_.tables[i].parent)].children.push_back(i);
      }
    }
    counts_.resize(nodes_.size());
  }

  // The statements go first, then the transaction rolls back (unless committed), then the
  // writer mutex is released: members are destroyed in reverse order.
  ~SqliteNestedLoad() override { ReleaseStatements(); }

  Status Apply(std::span<const DerivedBatch> batches) override {
    if (!failed_.ok()) return failed_;
    Status st = ApplyImpl(batches);
    for (size_t i = 0; i < nodes_.size(); ++i) counts_[i] = nodes_[i].writer->counts();
    if (!st.ok()) failed_ = st;
    return st;
  }

  const std::vector<ApplyCounts>& counts() const override { return counts_; }

  Status Commit(int64_t applied_at) override;

 private:
  struct Node {
    std::unique_ptr<TableWriter> writer;
    std::vector<size_t> children;
    bool prepared = false;        // foreign-key index and cascade statements made
    bool empty_at_start = false;  // the table held no rows when the load began
    // Deletes of this table's subtree under one parent key (bound ?1..?K), deepest first.
    std::vector<Statement> cascade;
    // The current batch: its rows grouped by parent row (rows of parent row p are
    // group_rows[group_start[p] .. group_start[p + 1])), and binders over the parent batch's
    // key columns (params 1..K) for the cascade.
    const DerivedBatch* part = nullptr;
    std::vector<int64_t> group_start;
    std::vector<int64_t> group_rows;
    std::vector<ColumnBinder> parent_key;
  };

  Status ApplyImpl(std::span<const DerivedBatch> batches);
  Status Prepare(size_t index);
  void Group(size_t index);
  Status Descend(size_t table, int64_t row, RowOutcome outcome);
  void Skip(size_t table, int64_t begin, int64_t end, RowOutcome as);
  Status Cascade(size_t table, int64_t parent_row);
  // The WHERE condition selecting the rows of `index` under one key of the subtree's top
  // table `top` (whose foreign key binds ?1..?K).
  std::string SubtreeCondition(size_t index, size_t top) const;
  void ReleaseStatements() {
    for (Node& n : nodes_) {
      n.writer->ReleaseStatements();
      n.cascade.clear();
    }
  }

  Db* db_;
  std::unique_lock<std::mutex> lock_;
  WriteTransaction txn_;
  NestedSpec spec_;
  int64_t seq_;
  std::vector<Node> nodes_;
  std::vector<ApplyCounts> counts_;
  Status failed_;
  bool committed_ = false;
};

std::string SqliteNestedLoad::SubtreeCondition(size_t index, size_t top) const {
  const DerivedTableSpec& d = spec_.tables[index];
  if (index == top) {
    std::string out;
    for (size_t k = 0; k < d.foreign_key.size(); ++k) {
      out += (k ? " AND " : "") + QuoteIdent(d.foreign_key[k]) + " = ?" + std::to_string(k + 1);
    }
    return out;
  }
  const size_t parent = static_cast<size_t>(d.parent);
  const std::string& parent_name = spec_.tables[parent].table.name;
  return "(" + ColumnList(d.foreign_key, "") + ") IN (SELECT " +
         ColumnList(d.parent_key, QuoteIdent(parent_name) + ".") + " FROM " +
         QuoteIdent(parent_name) + " WHERE " + SubtreeCondition(parent, top) + ")";
}

Status SqliteNestedLoad::Prepare(size_t index) {
  Node& n = nodes_[index];
  const DerivedTableSpec& d = spec_.tables[index];
  const std::string table = QuoteIdent(d.table.name);
  {
    SLUICE_ASSIGN_OR_RETURN(Statement any, db_->Prepare("SELECT 1 FROM " + table + " LIMIT 1"));
    const int rc = sqlite3_step(any.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db_->Error(rc, "reading table '" + d.table.name + "'");
    }
    n.empty_at_start = rc == SQLITE_DONE;
  }
  if (!IsPrefix(d.foreign_key, d.table.primary_key)) {
    SLUICE_RETURN_IF_ERROR(db_->Exec("CREATE INDEX IF NOT EXISTS " +
                                     QuoteIdent("_sluice_fk_" + d.table.name) + " ON " + table +
                                     "(" + ColumnList(d.foreign_key, "") + ")")
                               .WithContext("indexing the foreign key of '" + d.table.name + "'"));
  }
  // The subtree of `index` in pre-order (every table's descendants follow it).
  std::vector<size_t> subtree{index};
  for (size_t i = 0; i < subtree.size(); ++i) {
    for (size_t c : nodes_[subtree[i]].children) subtree.push_back(c);
  }
  // Deepest first: a table's rows are found through its ancestors' rows, which must still
  // be there. Breadth-first order reversed puts every table after its descendants.
  for (auto it = subtree.rbegin(); it != subtree.rend(); ++it) {
    const std::string sql = "DELETE FROM " + QuoteIdent(spec_.tables[*it].table.name) + " WHERE " +
                            SubtreeCondition(*it, index);
    SLUICE_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
    n.cascade.push_back(std::move(s));
  }
  n.prepared = true;
  return Status::Ok();
}

void SqliteNestedLoad::Group(size_t index) {
  Node& n = nodes_[index];
  const DerivedTableSpec& d = spec_.tables[index];
  const int64_t parents = nodes_[static_cast<size_t>(d.parent)].part->rows->num_rows;
  const std::span<const int64_t> parent_row = n.part->parent_row;
  n.group_start.assign(static_cast<size_t>(parents) + 1, 0);
  for (int64_t p : parent_row) ++n.group_start[static_cast<size_t>(p) + 1];
  for (size_t p = 0; p < static_cast<size_t>(parents); ++p) {
    n.group_start[p + 1] += n.group_start[p];
  }
  // A stable placement: rows of one parent keep their file order.
  n.group_rows.resize(parent_row.size());
  std::vector<int64_t> next(n.group_start.begin(), n.group_start.end() - 1);
  for (size_t r = 0; r < parent_row.size(); ++r) {
    n.group_rows[static_cast<size_t>(next[static_cast<size_t>(parent_row[r])]++)] =
        static_cast<int64_t>(r);
  }
}

Status SqliteNestedLoad::ApplyImpl(std::span<const DerivedBatch> batches) {
  SLUICE_RETURN_IF_ERROR(CheckNestedBatches(spec_, batches));
  // Every writer that began must end (its text bindings point into the batches).
  size_t begun = 0;
  struct EndAll {
    std::vector<Node>& nodes;
    size_t& begun;
    ~EndAll() {
      for (size_t i = 0; i < begun; ++i) nodes[i].writer->End();
    }
  } end_all{nodes_, begun};
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].part = &batches[i];
    Status st = nodes_[i].writer->Begin(*batches[i].rows);
    ++begun;
    if (!st.ok()) {
      // Flat messages name the table for schema mismatches; key errors name only the column.
      if (st.message().find("'" + spec_.tables[i].table.name + "'") != std::string::npos) {
        return st;
      }
      return Status(st.code(), "table '" + spec_.tables[i].table.name + "': " + st.message());
    }
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (!n.prepared) SLUICE_RETURN_IF_ERROR(Prepare(i));
    Group(i);
    const DerivedTableSpec& d = spec_.tables[i];
    const batch::Batch& parent = *nodes_[static_cast<size_t>(d.parent)].part->rows;
    n.parent_key.clear();
    for (size_t k = 0; k < d.parent_key.size(); ++k) {
      const int c =
          batch::FindField(*parent.schema, d.parent_key[k], batch::NameMatch::kIgnoreCase);
      if (c < 0) {
        return Err(ErrorCode::kPkNotFound,
                   "key column '" + d.parent_key[k] + "' of table '" +
                       spec_.tables[static_cast<size_t>(d.parent)].table.name +
                       "' is not in the file");
      }
      n.parent_key.push_back(
          MakeBinder(parent.columns[static_cast<size_t>(c)], static_cast<int>(k) + 1));
    }
  }
  Status st;
  const int64_t roots = batches[0].rows->num_rows;
  for (int64_t r = 0; r < roots && st.ok(); ++r) {
    RowOutcome outcome;
    st = nodes_[0].writer->Row(r, &outcome);
    if (st.ok()) st = Descend(0, r, outcome);
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    for (Statement& s : nodes_[i].cascade) sqlite3_clear_bindings(s.get());
  }
  return st;
}

Status SqliteNestedLoad::Descend(size_t table, int64_t row, RowOutcome outcome) {
  for (size_t c : nodes_[table].children) {
    Node& n = nodes_[c];
    const int64_t begin = n.group_start[static_cast<size_t>(row)];
    const int64_t end = n.group_start[static_cast<size_t>(row) + 1];
    switch (outcome) {
      case RowOutcome::kRefused:
        Skip(c, begin, end, RowOutcome::kRefused);
        continue;
      case RowOutcome::kDeleted:
        SLUICE_RETURN_IF_ERROR(Cascade(c, row));
        Skip(c, begin, end, RowOutcome::kDeleted);
        continue;
      case RowOutcome::kInserted:
      case RowOutcome::kUpdated:
        break;
    }
    if (spec_.tables[c].mode == ChildMode::kReplace &&
        !(outcome == RowOutcome::kInserted && n.empty_at_start)) {
      SLUICE_RETURN_IF_ERROR(Cascade(c, row));
    }
    for (int64_t k = begin; k < end; ++k) {
      const int64_t child_row = n.group_rows[static_cast<size_t>(k)];
      RowOutcome child_outcome;
      SLUICE_RETURN_IF_ERROR(n.writer->Row(child_row, &child_outcome));
      SLUICE_RETURN_IF_ERROR(Descend(c, child_row, child_outcome));
    }
  }
  return Status::Ok();
}

void SqliteNestedLoad::Skip(size_t table, int64_t begin, int64_t end, RowOutcome as) {
  Node& n = nodes_[table];
  n.writer->CountSkipped(as, end - begin);
  if (n.children.empty()) return;
  for (int64_t k = begin; k < end; ++k) {
    const size_t row = static_cast<size_t>(n.group_rows[static_cast<size_t>(k)]);
    for (size_t c : n.children) {
      Skip(c, nodes_[c].group_start[row], nodes_[c].group_start[row + 1], as);
    }
  }
}

Status SqliteNestedLoad::Cascade(size_t table, int64_t parent_row) {
  Node& n = nodes_[table];
  for (Statement& s : n.cascade) {
    for (ColumnBinder& b : n.parent_key) {
      const int rc = BindRow(s.get(), b, parent_row);
      if (rc != SQLITE_OK) {
        return db_->Error(
            rc, "binding the parent key of table '" + spec_.tables[table].table.name + "'");
      }
    }
    SLUICE_RETURN_IF_ERROR(s.Run("deleting the previous rows of '" +
                                 spec_.tables[table].table.name + "' under a parent"));
  }
  return Status::Ok();
}

Status SqliteNestedLoad::Commit(int64_t applied_at) {
  if (!failed_.ok()) return failed_;
  if (committed_) return Err(ErrorCode::kInvalidArgument, "the load is already committed");
  Status st = RecordApplied(db_, seq_, spec_.tables[0].table.name, counts_[0], applied_at);
  if (st.ok()) {
    auto insert = db_->Prepare(
        "INSERT INTO _sluice_applied_tables(seq, position, table_name, inserted, updated, "
        "refused, deleted) VALUES(?, ?, ?, ?, ?, ?, ?)");
    st = insert.status();
    for (size_t i = 0; st.ok() && i < counts_.size(); ++i) {
      sqlite3_stmt* s = insert->get();
      const std::string& name = spec_.tables[i].table.name;
      sqlite3_bind_int64(s, 1, seq_);
      sqlite3_bind_int64(s, 2, static_cast<int64_t>(i));
      sqlite3_bind_text(s, 3, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
      sqlite3_bind_int64(s, 4, counts_[i].inserted);
      sqlite3_bind_int64(s, 5, counts_[i].updated);
      sqlite3_bind_int64(s, 6, counts_[i].refused);
      sqlite3_bind_int64(s, 7, counts_[i].deleted);
      st = insert->Run("recording the counts of '" + name + "'");
    }
  }
  if (st.ok()) st = txn_.Commit();
  if (!st.ok()) {
    failed_ = st;
    return st;
  }
  committed_ = true;
  ReleaseStatements();
  lock_.unlock();
  return Status::Ok();
}

}  // namespace

std::unique_ptr<NestedLoadTransaction> NewNestedLoad(Db* db, std::unique_lock<std::mutex> lock,
                                                     WriteTransaction txn, NestedSpec spec,
                                                     int64_t seq, const Clock& clock) {
  return std::make_unique<SqliteNestedLoad>(db, std::move(lock), std::move(txn), std::move(spec),
                                            seq, clock);
}

}  // namespace sluice::pool::sqlite
