#include "sluice/postgres/postgres.h"

#include <libpq-fe.h>

#include <atomic>
#include <charconv>
#include <cstring>

#include "sluice/core/log.h"
#include "sluice/postgres/postgres_internal.h"

namespace sluice::postgres {
namespace {

// Statements are named in error messages; a schema script or a generated upsert is cut here.
constexpr size_t kMaxStatementInMessage = 160;

// What Open sets before the caller's setup: the text forms Rows::Text documents and the
// quoting QuoteLiteral relies on.
constexpr const char* kSessionSetup =
    "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD'; "
    "SET IntervalStyle = 'iso_8601'; SET TimeZone = 'UTC'; SET extra_float_digits = 1; "
    "SET standard_conforming_strings = on";

std::string Abbreviate(std::string_view sql) {
  if (sql.size() <= kMaxStatementInMessage) return std::string(sql);
  return std::string(sql.substr(0, kMaxStatementInMessage)) + "...";
}

// libpq's messages end in a newline (and may hold several lines); one line reads better.
std::string OneLine(const char* text) {
  std::string out = text != nullptr ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

ErrorCode CodeForSqlstate(std::string_view s) {
  if (s.size() != 5) return ErrorCode::kInternal;
  const std::string_view cls = s.substr(0, 2);
  if (s == "40001" || s == "40P01" || s == "55P03" || cls == "08" || s == "57014" ||
      StartsWith(s, "57P") || s == "53300" || s == "53200") {
    return ErrorCode::kUnavailable;
  }
  if (s == "23505" || s == "42P07" || s == "42P06") return ErrorCode::kAlreadyExists;
  if (s == "23503" || s == "42P01" || s == "3F000" || s == "42703" || s == "42883") {
    return ErrorCode::kNotFound;
  }
  if (cls == "22" || s == "42701" || s == "42804") return ErrorCode::kSchemaMismatch;
  if (cls == "54") return ErrorCode::kLimitExceeded;
  if (s == "53100" || cls == "58") return ErrorCode::kIoError;
  if (cls == "XX") return ErrorCode::kInternal;
  if (cls == "23" || cls == "42" || cls == "0A" || cls == "25" || cls == "2B" || cls == "3D" ||
      cls == "P0" || cls == "21" || cls == "2F" || cls == "28") {
    return ErrorCode::kInvalidArgument;
  }
  return ErrorCode::kInternal;
}

std::string QuoteIdent(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string RedactConninfo(std::string_view conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(conninfo).c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);  // it may quote the string, password and all
    return "(unparsable connection string)";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (!out.empty()) out += ' ';
    out += o->keyword;
    out += '=';
    const bool secret = std::strcmp(o->keyword, "password") == 0 || o->dispchar[0] == '*';
    out += secret ? "***" : QuoteLiteral(o->val);
  }
  PQconninfoFree(options);
  return out;
}

Result<std::string> WithDatabase(std::string_view conninfo, std::string_view dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(conninfo).c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return Err(ErrorCode::kInvalidArgument, "the PostgreSQL connection string does not parse");
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::strcmp(o->keyword, "dbname") == 0) continue;
    out += o->keyword;
    out += '=';
    out += QuoteLiteral(o->val);
    out += ' ';
  }
  PQconninfoFree(options);
  out += "dbname=" + QuoteLiteral(dbname);
  return out;
}

Params& Params::Null() {
  values_.push_back({.null = true});
  return *this;
}

Params& Params::Text(std::string_view value) {
  values_.push_back({.bytes = std::string(value)});
  return *this;
}

Params& Params::Int(int64_t value) {
  std::string bytes(8, '\0');
  const auto u = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(u >> (56 - 8 * i));
  return Binary(oid::kInt8, std::move(bytes));
}

Params& Params::Binary(uint32_t type_oid, std::string bytes) {
  values_.push_back({.type_oid = type_oid, .binary = true, .bytes = std::move(bytes)});
  return *this;
}

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}

int Rows::size() const { return result_ != nullptr ? PQntuples(result_) : 0; }
int Rows::columns() const { return result_ != nullptr ? PQnfields(result_) : 0; }
std::string_view Rows::ColumnName(int col) const { return PQfname(result_, col); }
bool Rows::IsNull(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }

std::string_view Rows::Text(int row, int col) const {
  return {PQgetvalue(result_, row, col), static_cast<size_t>(PQgetlength(result_, row, col))};
}

Result<int64_t> Rows::Int(int row, int col) const {
  const std::string_view text = Text(row, col);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || IsNull(row, col)) {
    return Err(ErrorCode::kInternal, "column '" + std::string(ColumnName(col)) + "' holds '" +
                                         std::string(text) + "', not an integer");
  }
  return v;
}

std::string_view Rows::command() const { return result_ != nullptr ? PQcmdStatus(result_) : ""; }

int64_t Rows::affected() const {
  const char* text = result_ != nullptr ? PQcmdTuples(result_) : "";
  int64_t v = 0;
  std::from_chars(text, text + std::strlen(text), v);
  return v;
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& conninfo, OpenOptions options) {
  PGconn* raw = PQconnectdb(conninfo.c_str());
  std::unique_ptr<Conn> conn(new Conn(raw, std::move(options.label)));  // PQfinish on failure
  if (raw == nullptr || PQstatus(raw) != CONNECTION_OK) {
    // libpq's connection errors name the host and the user, never the password.
    return Err(ErrorCode::kUnavailable,
               conn->label_ + ": cannot connect to PostgreSQL (" + RedactConninfo(conninfo) +
                   "): " + OneLine(raw != nullptr ? PQerrorMessage(raw) : "out of memory"));
  }
  // The server's notices ("schema ... already exists, skipping") would go to stderr: warnings
  // go to the log under the connection's label, the rest is dropped.
  PQsetNoticeReceiver(
      raw,
      [](void* label, const PGresult* result) {
        const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
        if (severity == nullptr || std::string_view(severity) != "WARNING") return;
        LogWarn("postgres", *static_cast<const std::string*>(label) + ": " +
                                OneLine(PQresultErrorMessage(result)));
      },
      &conn->label_);
  SLUICE_RETURN_IF_ERROR(conn->Exec(kSessionSetup));
  if (!options.setup.empty()) SLUICE_RETURN_IF_ERROR(conn->Exec(options.setup));
  return conn;
}

Conn::~Conn() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Conn::Idle() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

int Conn::BackendPid() const { return PQbackendPID(conn_); }

int Conn::Socket() const { return PQsocket(conn_); }

Result<std::vector<Conn::Notification>> Conn::ConsumeNotifications() {
  if (PQconsumeInput(conn_) != 1 || PQstatus(conn_) == CONNECTION_BAD) {
    return Error(nullptr, "reading notifications");
  }
  std::vector<Notification> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.push_back(Notification{n->relname, n->extra != nullptr ? n->extra : "", n->be_pid});
    PQfreemem(n);
  }
  return out;
}

Status Conn::Error(const PGresult* result, std::string_view what) const {
  std::string message = label_ + ": " + std::string(what) + ": ";
  if (PQstatus(conn_) == CONNECTION_BAD) {
    return Err(ErrorCode::kUnavailable,
               message + "the connection to PostgreSQL is lost: " + OneLine(PQerrorMessage(conn_)));
  }
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  message += primary != nullptr ? OneLine(primary) : OneLine(PQerrorMessage(conn_));
  if (detail != nullptr) message += " (" + OneLine(detail) + ")";
  // A COPY names the line and column of a bad value in its context.
  const char* context = result != nullptr ? PQresultErrorField(result, PG_DIAG_CONTEXT) : nullptr;
  if (context != nullptr && std::strncmp(context, "COPY ", 5) == 0) {
    message += " (" + OneLine(context) + ")";
  }
  if (state != nullptr) message += std::string(" [SQLSTATE ") + state + "]";
  return Err(state != nullptr ? CodeForSqlstate(state) : ErrorCode::kInternal, std::move(message));
}

Result<Rows> Conn::Check(PGresult* raw, std::string_view what) {
  Rows rows(raw);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    return rows;
  }
  return Error(raw, what);
}

namespace {
std::atomic<uint64_t> round_trips{0};
}  // namespace

uint64_t RoundTrips() { return round_trips.load(std::memory_order_relaxed); }
void CountRoundTrip() { round_trips.fetch_add(1, std::memory_order_relaxed); }

Status Conn::Exec(std::string_view sql) { return Run(sql).status(); }

Result<Rows> Conn::Run(std::string_view sql) {
  const std::string text(sql);
  CountRoundTrip();
  PGresult* raw = PQexec(conn_, text.c_str());
  // PQexec returns the last statement's result; an earlier failure stops there and is it.
  return Check(raw, Abbreviate(sql));
}

Result<Rows> Conn::Query(std::string_view sql, const Params& params, std::string_view what) {
  const std::string text(sql);
  const size_t n = params.values_.size();
  std::vector<Oid> types(n);
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  std::vector<int> formats(n);
  for (size_t i = 0; i < n; ++i) {
    const Params::Value& v = params.values_[i];
    types[i] = v.type_oid;
    values[i] = v.null ? nullptr : v.bytes.data();
    lengths[i] = static_cast<int>(v.bytes.size());
    formats[i] = v.binary ? 1 : 0;
  }
  CountRoundTrip();
  PGresult* raw = PQexecParams(conn_, text.c_str(), static_cast<int>(n), types.data(),
                               values.data(), lengths.data(), formats.data(), 0);
  return Check(raw, what.empty() ? Abbreviate(sql) : std::string(what));
}

Result<int64_t> Conn::QueryInt(std::string_view sql, const Params& params) {
  SLUICE_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  if (rows.size() < 1 || rows.columns() < 1) {
    return Err(ErrorCode::kInternal, label_ + ": no result from " + Abbreviate(sql));
  }
  return rows.Int(0, 0);
}

Result<std::vector<Rows>> Conn::Pipeline(std::span<const Statement> statements) {
  if (PQenterPipelineMode(conn_) != 1) return Error(nullptr, "enter pipeline mode");
  CountRoundTrip();
  Status send_error;
  size_t sent = 0;
  for (const Statement& s : statements) {
    const size_t n = s.params.values_.size();
    std::vector<Oid> types(n);
    std::vector<const char*> values(n);
    std::vector<int> lengths(n);
    std::vector<int> formats(n);
    for (size_t i = 0; i < n; ++i) {
      const Params::Value& v = s.params.values_[i];
      types[i] = v.type_oid;
      values[i] = v.null ? nullptr : v.bytes.data();
      lengths[i] = static_cast<int>(v.bytes.size());
      formats[i] = v.binary ? 1 : 0;
    }
    if (PQsendQueryParams(conn_, s.sql.c_str(), static_cast<int>(n), types.data(), values.data(),
                          lengths.data(), formats.data(), 0) != 1) {
      send_error = Error(nullptr, Abbreviate(s.sql));
      break;
    }
    ++sent;
  }
  if (PQpipelineSync(conn_) != 1 && send_error.ok()) send_error = Error(nullptr, "pipeline sync");
  std::vector<Rows> out;
  out.reserve(sent);
  Status first_error = send_error;
  // Each statement's results end with a null; then comes the sync's PGRES_PIPELINE_SYNC.
  for (size_t i = 0; i < sent; ++i) {
    Rows last;
    while (PGresult* raw = PQgetResult(conn_)) {
      const ExecStatusType status = PQresultStatus(raw);
      if (status == PGRES_FATAL_ERROR && first_error.ok()) {
        first_error = Error(raw, Abbreviate(statements[i].sql));
      }
      last = Rows(raw);
    }
    out.push_back(std::move(last));
  }
  while (PGresult* raw = PQgetResult(conn_)) {
    const ExecStatusType status = PQresultStatus(raw);
    PQclear(raw);
    if (status == PGRES_PIPELINE_SYNC) break;
  }
  if (PQexitPipelineMode(conn_) != 1 && first_error.ok()) {
    first_error = Error(nullptr, "exit pipeline mode");
  }
  if (!first_error.ok()) return first_error;
  return out;
}

namespace {

// What a COMMIT the server answered with ROLLBACK (the block had failed earlier) is: no commit.
Status RolledBack(const Conn& conn) {
  return Err(ErrorCode::kInternal,
             conn.label() + ": COMMIT rolled back: an earlier statement of the transaction failed");
}

}  // namespace

Transaction::~Transaction() { Rollback(); }

void Transaction::Rollback() {
  if (open_) conn_->Exec("ROLLBACK").IgnoreError();
  open_ = false;
}

Status Transaction::Begin(std::string_view begin) {
  SLUICE_RETURN_IF_ERROR(conn_->Exec(begin));
  open_ = true;
  return Status::Ok();
}

Result<Rows> Transaction::BeginWith(std::string_view then) {
  std::string sql = "BEGIN; ";
  sql += then;
  Result<Rows> rows = conn_->Run(sql);
  open_ = PQtransactionStatus(conn_->get()) != PQTRANS_IDLE;
  return rows;
}

Result<std::vector<Rows>> Transaction::BeginPipeline(std::span<const Statement> then) {
  std::vector<Statement> all;
  all.reserve(then.size() + 1);
  all.push_back({"BEGIN", {}});
  all.insert(all.end(), then.begin(), then.end());
  Result<std::vector<Rows>> rows = conn_->Pipeline(all);
  open_ = PQtransactionStatus(conn_->get()) != PQTRANS_IDLE;
  if (!rows.ok()) return rows.status();
  rows->erase(rows->begin());
  return rows;
}

Result<std::vector<Rows>> Transaction::BeginCommitPipeline(std::span<const Statement> then) {
  std::vector<Statement> all;
  all.reserve(then.size() + 2);
  all.push_back({"BEGIN", {}});
  all.insert(all.end(), then.begin(), then.end());
  all.push_back({"COMMIT", {}});
  open_ = false;
  Result<std::vector<Rows>> rows = conn_->Pipeline(all);
  // A failed statement makes the server skip the rest, COMMIT included: the block is still
  // open (failed); end it here.
  if (PQtransactionStatus(conn_->get()) != PQTRANS_IDLE) conn_->Exec("ROLLBACK").IgnoreError();
  if (!rows.ok()) return rows.status();
  if (rows->back().command() == "ROLLBACK") return RolledBack(*conn_);
  rows->pop_back();
  rows->erase(rows->begin());
  return rows;
}

Status Transaction::Commit(std::string_view before) {
  open_ = false;
  std::string sql(before);
  if (!sql.empty()) sql += "; ";
  sql += "COMMIT";
  Result<Rows> rows = conn_->Run(sql);
  if (!rows.ok()) {
    // `before` failed: the block is still open (failed); end it here.
    if (PQtransactionStatus(conn_->get()) != PQTRANS_IDLE) conn_->Exec("ROLLBACK").IgnoreError();
    return rows.status();
  }
  // COMMIT of a block that failed earlier succeeds as a ROLLBACK: that is no commit.
  if (rows->command() == "ROLLBACK") return RolledBack(*conn_);
  return Status::Ok();
}

}  // namespace sluice::postgres
