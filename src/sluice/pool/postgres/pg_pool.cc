// The PostgreSQL pool: a small set of writer connections (one per load in flight, kept for
// reuse with their staging tables) and one read connection for FindApplied, SchemaHistory,
// Query and ReadQuery. A load is one transaction on one writer connection: BeginLoad opens it
// and checks the file is not applied yet; Commit records the file in _sluice.applied, whose
// primary key on seq makes a second applier of the same file fail (and roll back) at its
// commit.

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/core/mutex.h"
#include "sluice/pool/pool.h"
#include "sluice/pool/postgres/pg_internal.h"

namespace sluice::pool {
namespace postgres {

const char* const kMetaDdl =
    "CREATE SCHEMA IF NOT EXISTS _sluice; "
    "CREATE TABLE IF NOT EXISTS _sluice.applied(seq bigint PRIMARY KEY, schema_name text NOT "
    "NULL, table_name text NOT NULL, inserted bigint NOT NULL, updated bigint NOT NULL, refused "
    "bigint NOT NULL, deleted bigint NOT NULL, applied_at bigint NOT NULL); "
    "CREATE TABLE IF NOT EXISTS _sluice.applied_tables(seq bigint NOT NULL, position int NOT "
    "NULL, table_name text NOT NULL, inserted bigint NOT NULL, updated bigint NOT NULL, refused "
    "bigint NOT NULL, deleted bigint NOT NULL, PRIMARY KEY(seq, position)); "
    "CREATE TABLE IF NOT EXISTS _sluice.tables(schema_name text, table_name text, sql_name text "
    "NOT NULL, tomb_sql_name text, PRIMARY KEY(schema_name, table_name)); "
    "CREATE TABLE IF NOT EXISTS _sluice.columns(schema_name text, table_name text, column_name "
    "text, sql_name text NOT NULL, position int NOT NULL, type_name text NOT NULL, type_key text "
    "NOT NULL, pg_type text NOT NULL, pk_position int, PRIMARY KEY(schema_name, table_name, "
    "column_name)); "
    "CREATE TABLE IF NOT EXISTS _sluice.schema_history(id bigserial PRIMARY KEY, schema_name "
    "text NOT NULL, table_name text NOT NULL, seq bigint NOT NULL, changed_at bigint NOT NULL, "
    "kind text NOT NULL, column_name text NOT NULL, old_type text NOT NULL, new_type text NOT "
    "NULL); "
    "CREATE INDEX IF NOT EXISTS schema_history_by_table ON _sluice.schema_history(schema_name, "
    "table_name, id); "
    // Fails the transaction it runs in: a guard that found its condition false (StateGuard).
    "CREATE OR REPLACE FUNCTION _sluice.refuse(message text) RETURNS boolean LANGUAGE plpgsql "
    "AS $$BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = message; "
    "END$$";

std::string RecordAppliedSql(int64_t seq, const std::string& schema, const std::string& table,
                             const ApplyCounts& c, int64_t applied_at,
                             const std::vector<TableCounts>& tables) {
  auto n = [](int64_t v) { return std::to_string(v); };
  std::string sql =
      "INSERT INTO _sluice.applied(seq, schema_name, table_name, inserted, updated, refused, "
      "deleted, applied_at) VALUES(" +
      n(seq) + ", " + QuoteLiteral(schema) + ", " + QuoteLiteral(table) + ", " + n(c.inserted) +
      ", " + n(c.updated) + ", " + n(c.refused) + ", " + n(c.deleted) + ", " + n(applied_at) + ")";
  for (size_t i = 0; i < tables.size(); ++i) {
    const ApplyCounts& t = tables[i].counts;
    sql += "; INSERT INTO _sluice.applied_tables VALUES(" + n(seq) + ", " +
           n(static_cast<int64_t>(i)) + ", " + QuoteLiteral(tables[i].table) + ", " +
           n(t.inserted) + ", " + n(t.updated) + ", " + n(t.refused) + ", " + n(t.deleted) + ")";
  }
  return sql;
}

Status BeginLoadTransaction(Transaction& txn, int64_t seq) {
  Result<Rows> applied =
      txn.BeginWith("SELECT count(*) FROM _sluice.applied WHERE seq = " + std::to_string(seq));
  if (!applied.ok()) return applied.status();
  SLUICE_ASSIGN_OR_RETURN(int64_t n, applied->Int(0, 0));
  if (n > 0) {
    return Err(ErrorCode::kAlreadyExists,
               "file seq " + std::to_string(seq) + " is already applied to the pool");
  }
  return Status::Ok();
}

std::string CountsQuery(int64_t seq) {
  return "(SELECT inserted, updated, refused, deleted FROM _sluice.applied WHERE seq = " +
         std::to_string(seq) + ")";
}

Status CommitLoad(Transaction& txn, Session& session, int64_t seq, const std::string& record,
                  const InTransactionWrite& write) {
  // One round trip: the record, the caller's write (which reads the counts the record holds)
  // and COMMIT.
  std::string before = record;
  if (write) before += "; " + write(CountsQuery(seq));
  Status st = txn.Commit(before);
  if (!st.ok()) {
    session.ForgetTempTables();
    if (st.code() == ErrorCode::kAlreadyExists && !write) {
      st = Err(ErrorCode::kAlreadyExists,
               "file seq " + std::to_string(seq) + " is already applied to the pool");
    }
    return st;
  }
  session.dirty.clear();
  return Status::Ok();
}

namespace {

// Rows a Query may return (as in the SQLite pool): the result is materialised as strings.
constexpr size_t kMaxQueryRows = 1'000'000;
// Idle writer connections kept for reuse (each with its staging tables).
constexpr size_t kMaxIdleSessions = 8;
// Tables whose layout the pool keeps (PostgresPool::Known); past it, it starts afresh.
constexpr size_t kMaxKnownTables = 10'000;

class PostgresPool;

// The rows of `r` as text, at most `max_rows` of them (`truncated` when it holds more).
QueryResult ResultOf(const Rows& r, size_t max_rows) {
  QueryResult out;
  for (int c = 0; c < r.columns(); ++c) out.columns.emplace_back(r.ColumnName(c));
  const size_t n = std::min(static_cast<size_t>(r.size()), max_rows);
  out.truncated = static_cast<size_t>(r.size()) > max_rows;
  out.rows.reserve(n);
  for (int i = 0; i < static_cast<int>(n); ++i) {
    auto& row = out.rows.emplace_back();
    row.reserve(static_cast<size_t>(r.columns()));
    for (int c = 0; c < r.columns(); ++c) {
      if (r.IsNull(i, c)) {
        row.emplace_back();
        continue;
      }
      std::string_view text = r.Text(i, c);
      // bytea prints as "\x0a1b": lower-case hex, as the SQLite pool prints blobs.
      if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') text.remove_prefix(2);
      row.emplace_back(std::string(text));
    }
  }
  return out;
}

// `sql` without the whitespace and semicolons that end it: it goes inside a DECLARE.
std::string_view WithoutTrailingSemicolons(std::string_view sql) {
  while (!sql.empty() && (IsAsciiSpace(sql.back()) || sql.back() == ';')) sql.remove_suffix(1);
  return sql;
}

// The first keyword of `sql` in lower case, after whitespace and comments (`--` to the end of
// the line, `/* */` nested as PostgreSQL nests them); "(" for a parenthesised query; empty
// when there is none. It refuses what is plainly no query early, with a clear message, and
// picks the EXPLAIN path; what may run is still decided by the server (a cursor takes
// queries only, the transaction is read-only).
std::string FirstKeyword(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (IsAsciiSpace(sql[i])) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      const size_t eol = sql.find('\n', i);
      i = eol == std::string_view::npos ? sql.size() : eol + 1;
    } else if (sql.substr(i, 2) == "/*") {
      int depth = 0;
      while (i < sql.size()) {
        if (sql.substr(i, 2) == "/*") {
          ++depth;
          i += 2;
        } else if (sql.substr(i, 2) == "*/") {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else {
      break;
    }
  }
  if (i < sql.size() && sql[i] == '(') return "(";
  size_t end = i;
  while (end < sql.size() && (IsAsciiAlpha(sql[end]) || sql[end] == '_')) ++end;
  return AsciiLowered(sql.substr(i, end - i));
}

// In a READ ONLY transaction that the caller ends: the search path and the timeout, then
// `body` as a cursor, read up to one row past limits.max_rows. EXPLAIN, which no cursor takes,
// runs as it is (its rows are the plan's lines). Every statement goes alone through the
// extended protocol, which refuses a second statement in one.
Result<Rows> RunReadOnly(Conn& conn, std::string_view body, bool explain,
                         const std::string& default_schema, const QueryLimits& limits) {
  std::vector<::sluice::postgres::Statement> setup;
  setup.push_back({"BEGIN READ ONLY", {}});
  setup.push_back(
      {"SELECT set_config('search_path', $1, true)",
       Params().Text(default_schema.empty() ? std::string() : QuoteIdent(default_schema))});
  if (limits.timeout_ms > 0) {
    setup.push_back({"SELECT set_config('statement_timeout', $1, true)",
                     Params().Text(std::to_string(limits.timeout_ms))});
  }
  SLUICE_RETURN_IF_ERROR(conn.Pipeline(setup).status());
  constexpr std::string_view kWhat = "the query";
  if (explain) return conn.Query(body, {}, kWhat);
  SLUICE_RETURN_IF_ERROR(
      conn.Query("DECLARE sluice_q NO SCROLL CURSOR FOR " + std::string(body), {}, kWhat).status());
  return conn.Query("FETCH FORWARD " + std::to_string(limits.max_rows + 1) + " FROM sluice_q", {},
                    kWhat);
}

// ReadQuery's Status for a failure of its statement: the timeout (SQLSTATE 57014, query
// canceled, which the postgres layer calls transient) is kLimitExceeded; a statement the
// server refuses for its text or its values is kInvalidArgument, as SQLite's are.
Status ReadQueryError(const Status& st, const QueryLimits& limits) {
  if (limits.timeout_ms > 0 && st.message().find("[SQLSTATE 57014]") != std::string::npos) {
    return Err(ErrorCode::kLimitExceeded,
               "the query ran longer than " + std::to_string(limits.timeout_ms) + " ms");
  }
  switch (st.code()) {
    case ErrorCode::kNotFound:        // an unknown table, column or function
    case ErrorCode::kSchemaMismatch:  // a bad value, a division by zero
      return Err(ErrorCode::kInvalidArgument, st.message());
    default:
      return st;
  }
}

// Creates the connection's schema, in a transaction of its own that commits at once: inside
// the load's transaction, a second load creating a table of the same new schema would wait
// for the first load's commit (and a thread holding both would wait forever). An empty schema
// left by a load that rolled back is harmless. Two sessions creating it at once: one fails on
// the catalog's unique index, and the schema then exists.
Status EnsureSchema(Session& session, const std::string& schema) {
  for (const std::string& s : session.schemas) {
    if (s == schema) return Status::Ok();
  }
  Status st = session.conn->Exec("CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(schema));
  if (!st.ok() && st.code() != ErrorCode::kAlreadyExists) {
    return st.WithContext("creating schema '" + schema + "'");
  }
  session.schemas.push_back(schema);
  return Status::Ok();
}

// One file's load into one table. Begun (Begin) it holds its transaction from the start:
// BEGIN, the applied check and the table's reads in one round trip, then a round trip or
// more per batch, then the commit's. Deferred (Defer: the pool knows the table from an
// earlier load) it sends nothing until CommitWith, and a small file (one batch of at most
// TableWriter::kSmallBatchRows rows that changes nothing of the table) then goes in one
// round trip: BEGIN, the guard that the table is still as known, the upsert with the
// record of the file, the caller's write and COMMIT. Whatever does not fit that form, and
// any failure of that round trip (the table changed meanwhile, a refused value, a guard),
// turns the load into a begun one: it starts over from the reads, so it applies and reports
// exactly what the ordinary way does.
class PgLoad final : public LoadTransaction {
 public:
  PgLoad(PostgresPool* pool, std::unique_ptr<Session> session, TableSpec spec, int64_t seq,
         const Clock& clock)
      : pool_(pool),
        session_(std::move(session)),
        txn_(*session_->conn),
        seq_(seq),
        writer_(session_.get(), std::move(spec), seq, clock) {}
  ~PgLoad() override;

  Status Begin();
  void Defer(CachedTable cached) {
    deferred_ = true;
    fingerprint_ = std::move(cached.fingerprint);
    writer_.UseCachedState(std::move(cached.state));
  }

  Status Apply(const batch::Batch& batch) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Err(ErrorCode::kInvalidArgument, "the load is already committed");
    Status st = ApplyNow(batch);
    if (!st.ok()) Fail(st);
    return st;
  }

  const ApplyCounts& counts() const override { return writer_.counts(); }

  Status Commit(int64_t applied_at) override { return CommitWith(applied_at, {}); }

  Status CommitWith(int64_t applied_at, const InTransactionWrite& write) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Err(ErrorCode::kInvalidArgument, "the load is already committed");
    if (deferred_) {
      if (CommitInOneRoundTrip(applied_at, write).ok()) {
        committed_ = true;
        return Status::Ok();
      }
      Status st = Undefer();
      if (!st.ok()) {
        Fail(st);
        return st;
      }
    }
    const TableSpec& spec = writer_.spec();
    Status st = CommitLoad(
        txn_, *session_, seq_,
        RecordAppliedSql(seq_, spec.schema, spec.name, writer_.counts(), applied_at, {}), write);
    if (!st.ok()) {
      failed_ = st;
      return st;
    }
    committed_ = true;
    AfterCommit();
    return Status::Ok();
  }

 private:
  Status ApplyNow(const batch::Batch& batch) {
    if (deferred_) {
      if (!held_) {
        ::sluice::postgres::Statement upsert;
        SLUICE_ASSIGN_OR_RETURN(bool fits, writer_.Defer(batch, &upsert));
        if (fits) {
          if (!upsert.sql.empty()) held_ = Held{std::move(upsert), batch};
          return Status::Ok();
        }
      }
      SLUICE_RETURN_IF_ERROR(Undefer());
    }
    return writer_.ApplyBatch(batch);
  }

  // The load is over: roll back now, so that its locks (a table it created, rows it wrote) do
  // not wait for the object's destruction.
  void Fail(const Status& st) {
    failed_ = st;
    txn_.Rollback();
    session_->ForgetTempTables();
  }

  // From a deferred load to a begun one: the transaction opens, the table is read afresh,
  // and the batch held back is applied the ordinary way.
  Status Undefer();
  Status CommitInOneRoundTrip(int64_t applied_at, const InTransactionWrite& write);
  // Keeps the pool's knowledge of the table true after a commit of the ordinary way.
  void AfterCommit();

  PostgresPool* pool_;
  std::unique_ptr<Session> session_;
  Transaction txn_;
  int64_t seq_;
  TableWriter writer_;
  Status failed_;
  bool committed_ = false;
  // Deferred: the known table's fingerprint, and the one batch held back with its upsert
  // (the batch itself for Undefer, which applies it the ordinary way).
  struct Held {
    ::sluice::postgres::Statement upsert;
    batch::Batch batch;
  };
  bool deferred_ = false;
  std::string fingerprint_;
  std::optional<Held> held_;
};

class PostgresPool final : public Pool {
 public:
  PostgresPool(std::string conninfo, std::unique_ptr<Session> reader, const Clock& clock)
      : conninfo_(std::move(conninfo)), reader_(std::move(reader)), clock_(clock) {}

  // An idle session if there is one (`*reused`), else a new connection.
  Result<std::unique_ptr<Session>> Acquire(bool* reused) {
    {
      MutexLock lock(&idle_mutex_);
      *reused = !idle_.empty();
      if (*reused) {
        std::unique_ptr<Session> s = std::move(idle_.back());
        idle_.pop_back();
        return s;
      }
    }
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Conn::Open(conninfo_, {.label = "pool"}));
    auto s = std::make_unique<Session>();
    s->conn = std::move(conn);
    return s;
  }

  void Release(std::unique_ptr<Session> s) {
    if (s == nullptr || !s->conn->Idle()) return;  // broken or stuck: closed with it
    MutexLock lock(&idle_mutex_);
    if (idle_.size() < kMaxIdleSessions) idle_.push_back(std::move(s));
  }

  Result<std::unique_ptr<LoadTransaction>> BeginLoad(const TableSpec& table, int64_t seq) override {
    SLUICE_RETURN_IF_ERROR(CheckTableSpec(table));
    while (true) {
      bool reused = false;
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Acquire(&reused));
      Status st = EnsureSchema(*session, table.schema);
      std::unique_ptr<PgLoad> load;
      if (st.ok()) {
        // From here the load owns the session: dropping it rolls back and releases it.
        load = std::make_unique<PgLoad>(this, std::move(session), table, seq, clock_);
        std::optional<CachedTable> known = Known(table);
        if (known) {
          load->Defer(std::move(*known));
          return std::unique_ptr<LoadTransaction>(std::move(load));
        }
        st = load->Begin();
      }
      if (st.ok()) return std::unique_ptr<LoadTransaction>(std::move(load));
      // An idle connection the server closed meanwhile (a restart, an idle timeout) shows
      // only now: nothing was done on it, so the next one may try (it is closed, not kept).
      if (!(reused && st.code() == ErrorCode::kUnavailable)) return st;
    }
  }

  Result<std::unique_ptr<NestedLoadTransaction>> BeginNestedLoad(const NestedSpec& spec,
                                                                 int64_t seq) override {
    if (spec.tables.empty()) {
      return Err(ErrorCode::kInvalidArgument, "a nested plan has no tables");
    }
    for (const DerivedTableSpec& d : spec.tables) SLUICE_RETURN_IF_ERROR(CheckTableSpec(d.table));
    while (true) {  // as in BeginLoad: a dead idle connection makes way for the next
      bool reused = false;
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Acquire(&reused));
      Status st = EnsureSchema(*session, spec.tables[0].table.schema);
      if (st.ok()) {
        auto load = postgres::BeginNestedLoad(
            std::move(session), [this](std::unique_ptr<Session> s) { Release(std::move(s)); }, spec,
            seq, clock_);
        if (load.ok()) return load;
        st = load.status();
      }
      if (!(reused && st.code() == ErrorCode::kUnavailable)) return st;
    }
  }

  // The table as a load read it last (CachedTable), if this pool knows it.
  std::optional<CachedTable> Known(const TableSpec& table) {
    MutexLock lock(&known_mutex_);
    auto it = known_.find({table.schema, table.name});
    if (it == known_.end()) return std::nullopt;
    return it->second;
  }
  void Remember(const TableSpec& table, CachedTable cached) {
    MutexLock lock(&known_mutex_);
    if (known_.size() >= kMaxKnownTables) known_.clear();
    known_[{table.schema, table.name}] = std::move(cached);
  }
  void Forget(const TableSpec& table) {
    MutexLock lock(&known_mutex_);
    known_.erase({table.schema, table.name});
  }

  Result<std::optional<AppliedFile>> FindApplied(const std::string& schema, int64_t seq) override {
    MutexLock lock(&reader_mutex_);
    SLUICE_RETURN_IF_ERROR(ReaderReady());
    const std::vector<::sluice::postgres::Statement> reads = {
        {"SELECT table_name, inserted, updated, refused, applied_at, deleted FROM "
         "_sluice.applied WHERE seq = $1 AND schema_name = $2",
         Params().Int(seq).Text(schema)},
        {"SELECT table_name, inserted, updated, refused, deleted FROM _sluice.applied_tables "
         "WHERE seq = $1 ORDER BY position",
         Params().Int(seq)},
    };
    SLUICE_ASSIGN_OR_RETURN(std::vector<Rows> rows, reader_->conn->Pipeline(reads));
    if (rows[0].size() == 0) return std::optional<AppliedFile>();
    AppliedFile f;
    f.seq = seq;
    f.table = std::string(rows[0].Text(0, 0));
    SLUICE_ASSIGN_OR_RETURN(f.counts.inserted, rows[0].Int(0, 1));
    SLUICE_ASSIGN_OR_RETURN(f.counts.updated, rows[0].Int(0, 2));
    SLUICE_ASSIGN_OR_RETURN(f.counts.refused, rows[0].Int(0, 3));
    SLUICE_ASSIGN_OR_RETURN(f.applied_at, rows[0].Int(0, 4));
    SLUICE_ASSIGN_OR_RETURN(f.counts.deleted, rows[0].Int(0, 5));
    for (int r = 0; r < rows[1].size(); ++r) {
      TableCounts& c = f.tables.emplace_back();
      c.table = std::string(rows[1].Text(r, 0));
      SLUICE_ASSIGN_OR_RETURN(c.counts.inserted, rows[1].Int(r, 1));
      SLUICE_ASSIGN_OR_RETURN(c.counts.updated, rows[1].Int(r, 2));
      SLUICE_ASSIGN_OR_RETURN(c.counts.refused, rows[1].Int(r, 3));
      SLUICE_ASSIGN_OR_RETURN(c.counts.deleted, rows[1].Int(r, 4));
    }
    return std::optional<AppliedFile>(std::move(f));
  }

  Result<std::vector<SchemaChange>> SchemaHistory(const std::string& schema,
                                                  const std::string& table) override {
    MutexLock lock(&reader_mutex_);
    SLUICE_RETURN_IF_ERROR(ReaderReady());
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        reader_->conn->Query("SELECT seq, changed_at, kind, column_name, old_type, new_type FROM "
                             "_sluice.schema_history WHERE schema_name = $1 AND table_name = $2 "
                             "ORDER BY id",
                             Params().Text(schema).Text(table), "reading the schema history"));
    std::vector<SchemaChange> out;
    for (int r = 0; r < rows.size(); ++r) {
      SchemaChange& c = out.emplace_back();
      c.table = table;
      SLUICE_ASSIGN_OR_RETURN(c.seq, rows.Int(r, 0));
      SLUICE_ASSIGN_OR_RETURN(c.changed_at, rows.Int(r, 1));
      const std::string_view kind = rows.Text(r, 2);
      c.kind = kind == "add"     ? SchemaChangeKind::kAdd
               : kind == "widen" ? SchemaChangeKind::kWiden
                                 : SchemaChangeKind::kCreate;
      c.column = std::string(rows.Text(r, 3));
      c.old_type = std::string(rows.Text(r, 4));
      c.new_type = std::string(rows.Text(r, 5));
    }
    return out;
  }

  Result<QueryResult> Query(const std::string& sql, const std::string& default_schema) override {
    MutexLock lock(&reader_mutex_);
    SLUICE_RETURN_IF_ERROR(ReaderReady());
    // Statements up to the pipeline's sync run in one transaction, so a search_path set
    // locally there holds for the query and ends with it.
    // Without a default schema only qualified names resolve (the contract): an empty path.
    std::vector<::sluice::postgres::Statement> statements;
    statements.push_back(
        {"SELECT set_config('search_path', $1, true)",
         Params().Text(default_schema.empty() ? std::string() : QuoteIdent(default_schema))});
    statements.push_back({sql, {}});
    Result<std::vector<Rows>> rows = reader_->conn->Pipeline(statements);
    if (!reader_->conn->Idle()) reader_->conn->Exec("ROLLBACK").IgnoreError();
    if (!rows.ok()) return rows.status();
    const Rows& r = rows->back();
    if (static_cast<size_t>(r.size()) > kMaxQueryRows) {
      return Err(
          ErrorCode::kInvalidArgument,
          "the query returns more than " + std::to_string(kMaxQueryRows) + " rows; add a LIMIT");
    }
    return ResultOf(r, kMaxQueryRows);
  }

  // On the read connection, in a READ ONLY transaction that is always rolled back: a cursor
  // over the statement (RunReadOnly), read up to one row past the limit, under
  // statement_timeout. A DECLARE takes only a query (SELECT, VALUES, TABLE, WITH without
  // data-modifying parts), one statement; the read-only transaction refuses what a query's
  // functions would write (nextval, SELECT FOR UPDATE ...); settings a query changes with
  // set_config end with the rollback.
  Result<QueryResult> ReadQuery(const std::string& sql, const std::string& default_schema,
                                const QueryLimits& limits) override {
    SLUICE_RETURN_IF_ERROR(CheckQueryLimits(limits));
    if (!default_schema.empty()) SLUICE_RETURN_IF_ERROR(CheckSchemaName(default_schema));
    const std::string_view body = WithoutTrailingSemicolons(sql);
    const std::string keyword = FirstKeyword(body);
    if (keyword.empty()) return Err(ErrorCode::kInvalidArgument, "the SQL holds no statement");
    if (keyword != "select" && keyword != "with" && keyword != "values" && keyword != "table" &&
        keyword != "explain" && keyword != "(") {
      const std::string what = AsciiUppered(keyword);
      return Err(ErrorCode::kInvalidArgument,
                 "only a read-only query (SELECT, WITH, VALUES, TABLE or EXPLAIN) may run here, "
                 "not " +
                     what);
    }
    // A connection of its own: a console query may take its whole timeout, and the loader's
    // reads (FindApplied, SchemaHistory) must not wait behind it.
    MutexLock lock(&console_mutex_);
    if (console_ == nullptr || !console_->Idle()) {
      SLUICE_ASSIGN_OR_RETURN(console_, Conn::Open(conninfo_, {.label = "pool console"}));
    }
    Conn& conn = *console_;
    Result<Rows> rows = RunReadOnly(conn, body, keyword == "explain", default_schema, limits);
    // The rollback ends the cursor, the settings and any transaction-level lock; a
    // session-level advisory lock the query took (pg_advisory_lock) would outlive it and could
    // block whoever waits for that lock, so it goes too. A broken connection fails here and is
    // opened again by the next reader.
    conn.Exec("ROLLBACK; SELECT pg_advisory_unlock_all()").IgnoreError();
    if (!rows.ok()) return ReadQueryError(rows.status(), limits);
    return ResultOf(*rows, limits.max_rows);
  }

 private:
  // A read connection that broke (server restart, network) is opened again.
  Status ReaderReady() REQUIRES(reader_mutex_) {
    if (reader_->conn->Idle()) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(reader_->conn, Conn::Open(conninfo_, {.label = "pool"}));
    return Status::Ok();
  }

  std::string conninfo_;
  Mutex known_mutex_;
  std::map<std::pair<std::string, std::string>, CachedTable> known_ GUARDED_BY(known_mutex_);
  Mutex idle_mutex_;
  std::vector<std::unique_ptr<Session>> idle_ GUARDED_BY(idle_mutex_);
  Mutex reader_mutex_;
  std::unique_ptr<Session> reader_ GUARDED_BY(reader_mutex_);
  Mutex console_mutex_;
  std::unique_ptr<Conn> console_ GUARDED_BY(console_mutex_);  // ReadQuery's, opened at first use
  const Clock& clock_;
};

// BEGIN, the applied check and the reads of the stored table: one round trip.
Status PgLoad::Begin() {
  std::vector<::sluice::postgres::Statement> reads = writer_.StateReads();
  reads.insert(reads.begin(),
               {"SELECT count(*) FROM _sluice.applied WHERE seq = $1", Params().Int(seq_)});
  SLUICE_ASSIGN_OR_RETURN(std::vector<Rows> rows, txn_.BeginPipeline(reads));
  SLUICE_ASSIGN_OR_RETURN(int64_t n, rows[0].Int(0, 0));
  if (n > 0) {
    return Err(ErrorCode::kAlreadyExists,
               "file seq " + std::to_string(seq_) + " is already applied to the pool");
  }
  SLUICE_RETURN_IF_ERROR(writer_.UseState(rows[2], rows[3]));
  if (writer_.state().exists) {
    pool_->Remember(writer_.spec(), {std::string(rows[1].Text(0, 0)), writer_.state()});
  }
  return Status::Ok();
}

Status PgLoad::Undefer() {
  deferred_ = false;
  // What the deferred attempt believed of the table may be what failed it.
  pool_->Forget(writer_.spec());
  SLUICE_RETURN_IF_ERROR(Begin());
  if (!held_) return Status::Ok();
  const Held held = std::move(*held_);
  held_.reset();
  return writer_.ApplyBatch(held.batch);
}

Status PgLoad::CommitInOneRoundTrip(int64_t applied_at, const InTransactionWrite& write) {
  const TableSpec& spec = writer_.spec();
  std::vector<::sluice::postgres::Statement> statements;
  if (held_) {
    statements.push_back(StateGuard(spec.schema, spec.name, fingerprint_));
    const int64_t rows = held_->batch.num_rows;
    statements.push_back(
        {"WITH u AS (" + held_->upsert.sql +
             "), c AS (SELECT count(*) FILTER (WHERE inserted) AS i, count(*) FILTER (WHERE NOT "
             "inserted) AS u FROM u) INSERT INTO _sluice.applied(seq, schema_name, table_name, "
             "inserted, updated, refused, deleted, applied_at) SELECT " +
             std::to_string(seq_) + ", " + QuoteLiteral(spec.schema) + ", " +
             QuoteLiteral(spec.name) + ", i, u, " + std::to_string(rows) + " - i - u, 0, " +
             std::to_string(applied_at) + " FROM c RETURNING inserted, updated, refused",
         held_->upsert.params});
  } else {
    statements.push_back(
        {RecordAppliedSql(seq_, spec.schema, spec.name, {}, applied_at, {}), Params()});
  }
  if (write) statements.push_back({write(CountsQuery(seq_)), Params()});
  SLUICE_ASSIGN_OR_RETURN(std::vector<Rows> results, txn_.BeginCommitPipeline(statements));
  if (held_) {
    const Rows& counted = results[1];
    ApplyCounts& counts = writer_.mutable_counts();
    SLUICE_ASSIGN_OR_RETURN(counts.inserted, counted.Int(0, 0));
    SLUICE_ASSIGN_OR_RETURN(counts.updated, counted.Int(0, 1));
    SLUICE_ASSIGN_OR_RETURN(counts.refused, counted.Int(0, 2));
  }
  return Status::Ok();
}

void PgLoad::AfterCommit() {
  // The next load of a table this one created or changed reads it afresh.
  if (writer_.layout_changed()) pool_->Forget(writer_.spec());
}

PgLoad::~PgLoad() {
  if (!committed_) {
    txn_.Rollback();
    // The transaction took the temp tables it created with it.
    session_->ForgetTempTables();
  }
  pool_->Release(std::move(session_));
}

}  // namespace
}  // namespace postgres

Result<std::unique_ptr<Pool>> OpenPostgresPool(const std::string& conninfo, const Clock& clock) {
  using ::sluice::postgres::Conn;
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Conn::Open(conninfo, {.label = "pool"}));
  {
    ::sluice::postgres::Transaction txn(*conn);
    // Nodes starting together: one creates the metadata, the others wait and find it.
    SLUICE_RETURN_IF_ERROR(
        txn.Begin("BEGIN; SELECT pg_advisory_xact_lock(hashtext('sluice pool metadata'))"));
    SLUICE_RETURN_IF_ERROR(conn->Exec(postgres::kMetaDdl).WithContext("creating pool metadata"));
    SLUICE_RETURN_IF_ERROR(txn.Commit());
  }
  auto reader = std::make_unique<postgres::Session>();
  reader->conn = std::move(conn);
  return std::unique_ptr<Pool>(
      std::make_unique<postgres::PostgresPool>(conninfo, std::move(reader), clock));
}

}  // namespace sluice::pool
