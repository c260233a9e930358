// The nested load on PostgreSQL (docs/design/pool.md, "Nested loads"; "PostgreSQL storage").
//
// Per batch of records: every derived table's batch is checked, its table created or evolved,
// and its rows staged (binary COPY into a staging table of its own, keyed by _sluice_row). The
// root is applied as a flat batch by the plan (pg_load.cc), which also yields each root row's
// outcome. The child tables then follow the file's order exactly as the SQLite pool walks it
// (a root row, its children, theirs, the next root row): each applied parent row of a kReplace
// child deletes the parent's stored subtree first, each delete row deletes it, each child row
// is one INSERT ... SELECT from its staged row ... ON CONFLICT DO UPDATE. None of these
// statements needs an earlier one's result to be chosen (a child row applies whenever its
// parent did), so they go out in pipelines of kPipelineStatements, one round trip each, and
// the RETURNING (xmax = 0) of each upsert counts it as inserted or updated.

#include <algorithm>
#include <functional>

#include "sluice/batch/keys.h"
#include "sluice/pool/postgres/pg_internal.h"

namespace sluice::pool::postgres {
namespace {

using ::sluice::postgres::Statement;

// Statements per pipeline: enough to hide the round trip, few enough that the results the
// server writes while we still send never fill the socket buffers.
constexpr size_t kPipelineStatements = 256;

bool IsPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& key) {
  if (prefix.size() > key.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLowered(prefix[i]) != AsciiLowered(key[i])) return false;
  }
  return true;
}

class PgNestedLoad final : public NestedLoadTransaction {
 public:
  PgNestedLoad(std::unique_ptr<Session> session, ReleaseSession release, NestedSpec spec,
               int64_t seq, const Clock& clock)
      : session_(std::move(session)),
        release_(std::move(release)),
        txn_(*session_->conn),
        spec_(std::move(spec)),
        seq_(seq) {
    nodes_.resize(spec_.tables.size());
    for (size_t i = 0; i < spec_.tables.size(); ++i) {
      nodes_[i].writer =
          std::make_unique<TableWriter>(session_.get(), spec_.tables[i].table, seq, clock);
      if (spec_.tables[i].parent >= 0) {
        nodes_[static_cast<size_t>(spec_.tables[i].parent)].children.push_back(i);
      }
    }
    counts_.resize(nodes_.size());
  }

  ~PgNestedLoad() override {
    if (!committed_) {
      txn_.Rollback();
      session_->ForgetTempTables();
    }
    release_(std::move(session_));
  }

  Status Begin() { return BeginLoadTransaction(txn_, seq_); }

  Status Apply(std::span<const DerivedBatch> batches) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Err(ErrorCode::kInvalidArgument, "the load is already committed");
    Status st = ApplyImpl(batches);
    for (size_t i = 0; i < nodes_.size(); ++i) counts_[i] = nodes_[i].writer->counts();
    if (!st.ok()) {
      failed_ = st;  // the load is over: its locks go now (as in PgLoad::Apply)
      txn_.Rollback();
      session_->ForgetTempTables();
    }
    return st;
  }

  const std::vector<ApplyCounts>& counts() const override { return counts_; }

  Status Commit(int64_t applied_at) override { return CommitWith(applied_at, {}); }

  Status CommitWith(int64_t applied_at, const InTransactionWrite& write) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Err(ErrorCode::kInvalidArgument, "the load is already committed");
    std::vector<TableCounts> tables;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      tables.push_back({spec_.tables[i].table.name, counts_[i]});
    }
    const TableSpec& root = spec_.tables[0].table;
    Status st = CommitLoad(
        txn_, *session_, seq_,
        RecordAppliedSql(seq_, root.schema, root.name, counts_[0], applied_at, tables), write);
    if (!st.ok()) {
      failed_ = st;
      return st;
    }
    committed_ = true;
    return Status::Ok();
  }

 private:
  struct Node {
    std::unique_ptr<TableWriter> writer;
    std::vector<size_t> children;
    bool prepared = false;
    bool empty_at_start = false;
    // The current batch.
    const DerivedBatch* part = nullptr;
    std::vector<int> stored;
    std::string staging;
    std::string upsert;                // one staged row ($1 = its file row) into the table
    std::vector<std::string> cascade;  // this table's subtree under one parent row ($1)
    std::vector<int64_t> group_start;  // rows of parent row p: group_rows[start[p]..start[p+1])
    std::vector<int64_t> group_rows;
  };

  // One pending statement: which table's upsert it is (counted from its RETURNING), or -1.
  struct Pending {
    Statement statement;
    int upsert_of = -1;
  };

  Status ApplyImpl(std::span<const DerivedBatch> batches);
  Status PrepareNode(size_t index);
  std::string StagedColumn(size_t index, std::string_view name) const;
  std::string SubtreeCondition(size_t index, size_t top) const;
  void BuildStatements(size_t index);
  void Group(size_t index);
  Status Descend(size_t table, int64_t row, RowOutcome outcome);
  void Skip(size_t table, int64_t begin, int64_t end, RowOutcome as);
  Status Push(Statement statement, int upsert_of);
  Status Flush();

  std::unique_ptr<Session> session_;
  ReleaseSession release_;
  Transaction txn_;
  NestedSpec spec_;
  int64_t seq_;
  std::vector<Node> nodes_;
  std::vector<ApplyCounts> counts_;
  std::vector<Pending> pending_;
  Status failed_;
  bool committed_ = false;
};

// The staging column of `index`'s current batch that holds column `name`.
std::string PgNestedLoad::StagedColumn(size_t index, std::string_view name) const {
  const Node& n = nodes_[index];
  const auto& fields = n.part->rows->schema->fields;
  for (size_t j = 0; j < n.stored.size(); ++j) {
    if (AsciiLowered(fields[static_cast<size_t>(n.stored[j])].name) == AsciiLowered(name)) {
      return "c" + std::to_string(j);
    }
  }
  return {};
}

std::string PgNestedLoad::SubtreeCondition(size_t index, size_t top) const {
  const DerivedTableSpec& d = spec_.tables[index];
  TableWriter& w = *nodes_[index].writer;
  std::string fk;
  for (size_t k = 0; k < d.foreign_key.size(); ++k) {
    fk += (k ? ", " : "") + QuoteIdent(w.state().Find(d.foreign_key[k])->sql_name);
  }
  const size_t parent = static_cast<size_t>(d.parent);
  std::string keys;
  if (index == top) {
    // The parent's key of one staged parent row.
    for (size_t k = 0; k < d.parent_key.size(); ++k) {
      keys += (k ? ", " : "") + StagedColumn(parent, d.parent_key[k]);
    }
    return "(" + fk + ") IN (SELECT " + keys + " FROM " + nodes_[parent].staging +
           " WHERE _sluice_row = $1)";
  }
  TableWriter& pw = *nodes_[parent].writer;
  for (size_t k = 0; k < d.parent_key.size(); ++k) {
    keys += (k ? ", " : "") + QuoteIdent(pw.state().Find(d.parent_key[k])->sql_name);
  }
  return "(" + fk + ") IN (SELECT " + keys + " FROM " + pw.Qualified() + " WHERE " +
         SubtreeCondition(parent, top) + ")";
}

Status PgNestedLoad::PrepareNode(size_t index) {
  Node& n = nodes_[index];
  const DerivedTableSpec& d = spec_.tables[index];
  TableWriter& w = *n.writer;
  SLUICE_ASSIGN_OR_RETURN(
      int64_t any, session_->conn->QueryInt("SELECT count(*) FROM (SELECT 1 FROM " + w.Qualified() +
                                            " LIMIT 1) x"));
  n.empty_at_start = any == 0;
  if (!IsPrefix(d.foreign_key, d.table.primary_key)) {
    std::string cols;
    for (const std::string& f : d.foreign_key) {
      cols += (cols.empty() ? "" : ", ") + QuoteIdent(w.state().Find(f)->sql_name);
    }
    SLUICE_RETURN_IF_ERROR(session_->conn
                               ->Exec("CREATE INDEX IF NOT EXISTS " +
                                      QuoteIdent(SqlName("_sluice_fk_" + d.table.name)) + " ON " +
                                      w.Qualified() + "(" + cols + ")")
                               .WithContext("indexing the foreign key of '" + d.table.name + "'"));
  }
  n.prepared = true;
  return Status::Ok();
}

// The statements of `index` for the current batch (its columns and staging table may differ
// from the last batch's).
void PgNestedLoad::BuildStatements(size_t index) {
  Node& n = nodes_[index];
  TableWriter& w = *n.writer;
  const auto& fields = n.part->rows->schema->fields;
  std::string cols, select, sets, conflict;
  for (size_t j = 0; j < n.stored.size(); ++j) {
    const StoredColumn& c = *w.state().Find(fields[static_cast<size_t>(n.stored[j])].name);
    const std::string col = QuoteIdent(c.sql_name);
    cols += (j ? ", " : "") + col;
    select += (j ? ", c" : "c") + std::to_string(j);
    if (c.pk_position < 0) sets += (sets.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
  }
  for (const std::string& k : w.spec().primary_key) {
    conflict += (conflict.empty() ? "" : ", ") + QuoteIdent(w.state().Find(k)->sql_name);
  }
  if (sets.empty()) {
    const std::string first = QuoteIdent(w.state().Find(w.spec().primary_key[0])->sql_name);
    sets = first + " = EXCLUDED." + first;
  }
  n.upsert = "INSERT INTO " + w.Qualified() + " AS t(" + cols + ") SELECT " + select + " FROM " +
             n.staging + " WHERE _sluice_row = $1 ON CONFLICT (" + conflict + ") DO UPDATE SET " +
             sets + " RETURNING (t.xmax = 0)";
  // The subtree in pre-order, deleted deepest first: a table's rows are found through its
  // ancestors' rows, which must still be there.
  std::vector<size_t> subtree{index};
  for (size_t i = 0; i < subtree.size(); ++i) {
    for (size_t c : nodes_[subtree[i]].children) subtree.push_back(c);
  }
  n.cascade.clear();
  for (auto it = subtree.rbegin(); it != subtree.rend(); ++it) {
    n.cascade.push_back("DELETE FROM " + nodes_[*it].writer->Qualified() + " WHERE " +
                        SubtreeCondition(*it, index));
  }
}

void PgNestedLoad::Group(size_t index) {
  Node& n = nodes_[index];
  const DerivedTableSpec& d = spec_.tables[index];
  const int64_t parents = nodes_[static_cast<size_t>(d.parent)].part->rows->num_rows;
  const std::span<const int64_t> parent_row = n.part->parent_row;
  n.group_start.assign(static_cast<size_t>(parents) + 1, 0);
  for (int64_t p : parent_row) ++n.group_start[static_cast<size_t>(p) + 1];
  for (size_t p = 0; p < static_cast<size_t>(parents); ++p)
    n.group_start[p + 1] += n.group_start[p];
  n.group_rows.resize(parent_row.size());
  std::vector<int64_t> next(n.group_start.begin(), n.group_start.end() - 1);
  for (size_t r = 0; r < parent_row.size(); ++r) {
    n.group_rows[static_cast<size_t>(next[static_cast<size_t>(parent_row[r])]++)] =
        static_cast<int64_t>(r);
  }
}

Status PgNestedLoad::ApplyImpl(std::span<const DerivedBatch> batches) {
  SLUICE_RETURN_IF_ERROR(CheckNestedBatches(spec_, batches));
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    n.part = &batches[i];
    std::vector<uint8_t> deletes;
    bool any_delete = false;
    bool duplicate_keys = false;
    Status st = n.writer->Prepare(*batches[i].rows, &n.stored, &deletes, &any_delete);
    if (st.ok()) {
      st = n.writer->Stage(*batches[i].rows, n.stored, deletes, "n" + std::to_string(i),
                           /*indexed=*/i > 0 || !n.children.empty(), &n.staging, &duplicate_keys);
    }
    if (!st.ok()) {
      // Flat messages name the table for schema mismatches; key errors name only the column.
      if (st.message().find("'" + spec_.tables[i].table.name + "'") != std::string::npos) {
        return st;
      }
      return Status(st.code(), "table '" + spec_.tables[i].table.name + "': " + st.message());
    }
    if (i == 0) {
      if (batches[0].rows->num_rows > 0) {
        SLUICE_RETURN_IF_ERROR(n.writer->ApplyStaged(*batches[0].rows, n.stored, n.staging,
                                                     any_delete, duplicate_keys,
                                                     /*force_plan=*/true));
      }
      continue;
    }
    SLUICE_RETURN_IF_ERROR(n.writer->FlushSmallStage());
    if (!n.prepared) SLUICE_RETURN_IF_ERROR(PrepareNode(i));
    Group(i);
  }
  for (size_t i = 1; i < nodes_.size(); ++i) BuildStatements(i);
  const int64_t roots = batches[0].rows->num_rows;
  if (roots > 0) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<RowOutcome> outcomes,
                            nodes_[0].writer->PlannedOutcomes(roots));
    for (int64_t r = 0; r < roots; ++r) {
      SLUICE_RETURN_IF_ERROR(Descend(0, r, outcomes[static_cast<size_t>(r)]));
    }
    SLUICE_RETURN_IF_ERROR(Flush());
  }
  for (Node& n : nodes_) n.writer->Advance(n.part->rows->num_rows);
  return Status::Ok();
}

Status PgNestedLoad::Descend(size_t table, int64_t row, RowOutcome outcome) {
  const int64_t file_row = nodes_[table].writer->rows_seen() + row;
  for (size_t c : nodes_[table].children) {
    Node& n = nodes_[c];
    const int64_t begin = n.group_start[static_cast<size_t>(row)];
    const int64_t end = n.group_start[static_cast<size_t>(row) + 1];
    if (outcome == RowOutcome::kRefused || outcome == RowOutcome::kDeleted) {
      if (outcome == RowOutcome::kDeleted) {
        for (const std::string& sql : n.cascade) {
          SLUICE_RETURN_IF_ERROR(Push({sql, Params().Int(file_row)}, -1));
        }
      }
      Skip(c, begin, end, outcome);
      continue;
    }
    if (spec_.tables[c].mode == ChildMode::kReplace &&
        !(outcome == RowOutcome::kInserted && n.empty_at_start)) {
      for (const std::string& sql : n.cascade) {
        SLUICE_RETURN_IF_ERROR(Push({sql, Params().Int(file_row)}, -1));
      }
    }
    for (int64_t k = begin; k < end; ++k) {
      const int64_t child_row = n.group_rows[static_cast<size_t>(k)];
      SLUICE_RETURN_IF_ERROR(
          Push({n.upsert, Params().Int(n.writer->rows_seen() + child_row)}, static_cast<int>(c)));
      // A child row always applies (no age rule below the root): as updated or inserted, its
      // children follow alike.
      SLUICE_RETURN_IF_ERROR(Descend(c, child_row, RowOutcome::kUpdated));
    }
  }
  return Status::Ok();
}

void PgNestedLoad::Skip(size_t table, int64_t begin, int64_t end, RowOutcome as) {
  Node& n = nodes_[table];
  ApplyCounts& c = n.writer->mutable_counts();
  (as == RowOutcome::kRefused ? c.refused : c.deleted) += end - begin;
  if (n.children.empty()) return;
  for (int64_t k = begin; k < end; ++k) {
    const size_t row = static_cast<size_t>(n.group_rows[static_cast<size_t>(k)]);
    for (size_t child : n.children) {
      Skip(child, nodes_[child].group_start[row], nodes_[child].group_start[row + 1], as);
    }
  }
}

Status PgNestedLoad::Push(Statement statement, int upsert_of) {
  pending_.push_back({std::move(statement), upsert_of});
  if (pending_.size() < kPipelineStatements) return Status::Ok();
  return Flush();
}

Status PgNestedLoad::Flush() {
  if (pending_.empty()) return Status::Ok();
  std::vector<Statement> statements;
  statements.reserve(pending_.size());
  for (Pending& p : pending_) statements.push_back(std::move(p.statement));
  Result<std::vector<Rows>> results = session_->conn->Pipeline(statements);
  if (!results.ok()) {
    pending_.clear();
    return results.status();
  }
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].upsert_of < 0) continue;
    const Rows& r = (*results)[i];
    ApplyCounts& c = nodes_[static_cast<size_t>(pending_[i].upsert_of)].writer->mutable_counts();
    if (r.size() == 1 && r.Text(0, 0) == "t") {
      ++c.inserted;
    } else {
      ++c.updated;
    }
  }
  pending_.clear();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<NestedLoadTransaction>> BeginNestedLoad(std::unique_ptr<Session> session,
                                                               ReleaseSession release,
                                                               const NestedSpec& spec, int64_t seq,
                                                               const Clock& clock) {
  SLUICE_RETURN_IF_ERROR(CheckNestedSpec(spec));
  auto load =
      std::make_unique<PgNestedLoad>(std::move(session), std::move(release), spec, seq, clock);
  SLUICE_RETURN_IF_ERROR(load->Begin());
  return std::unique_ptr<NestedLoadTransaction>(std::move(load));
}

}  // namespace sluice::pool::postgres
