#pragma once
// postgres: the one layer over libpq that the PostgreSQL pool (and the PostgreSQL catalog after
// it) share; the sibling of sluice/sqlite. It opens a connection with a label and setup SQL,
// runs statements with text or binary parameters, sends several statements in one round trip
// (pipeline mode), writes rows with binary COPY, guards transactions and maps SQLSTATEs to
// Status in one place. It knows nothing of tables, batches or the ledger.
//
// Secrets: a connection string may carry a password. It is never put in a Status or a log
// line: errors name the connection by its label, and RedactConninfo is the one way to print a
// connection string.
//
// Thread-safety: none. A Conn is one libpq connection; its owner serialises every use of it and
// of the Rows, Transaction and CopyWriter made on it. Lifetimes: Rows own their PGresult and
// outlive the Conn safely; a Transaction or CopyWriter must not outlive its Conn.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/core.h"

// libpq's handles, declared as libpq-fe.h does, so that users of this header need not see
// libpq (it is linked PRIVATE).
typedef struct pg_conn PGconn;      // NOLINT(modernize-use-using)
typedef struct pg_result PGresult;  // NOLINT(modernize-use-using)

namespace sluice::postgres {

// The type oids sluice binds or copies (pg_type.dat); stable across PostgreSQL versions.
namespace oid {
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTime = 1083;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestamptz = 1184;
inline constexpr uint32_t kInterval = 1186;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kJsonb = 3802;
}  // namespace oid

// PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1) silently.
inline constexpr size_t kMaxIdentifierBytes = 63;

// `"name"` with embedded double quotes doubled: every identifier sluice writes into SQL goes
// through this. A NUL byte cannot be in an identifier; callers check names before (the pool
// refuses them as SCHEMA_MISMATCH).
std::string QuoteIdent(std::string_view name);
// `'text'` with embedded single quotes doubled (standard_conforming_strings is on since 9.1;
// Conn::Open insists on it). For DDL, where parameters cannot go; values go as parameters.
std::string QuoteLiteral(std::string_view text);

// The connection string with any password replaced by "***", for messages and logs. Accepts
// both forms libpq does (key=value and postgresql:// URIs); an unparsable string is shown as
// "(unparsable connection string)".
std::string RedactConninfo(std::string_view conninfo);

// The one mapping of a SQLSTATE (five characters) to a sluice code:
//   40001 serialization failure, 40P01 deadlock, 55P03 lock not available,
//   class 08 (connection exception), 57P01..57P05 (shutdown, cannot connect now),
//   57014 query canceled, 53300 too many connections, 53200 out of memory
//                                                   kUnavailable (transient: retry)
//   23505 unique violation, 42P07 duplicate table, 42P06 duplicate schema
//                                                   kAlreadyExists
//   23503 foreign key violation, 42P01 undefined table, 3F000 undefined schema,
//   42703 undefined column, 42883 undefined function
//                                                   kNotFound
//   class 22 (data exception: bad value, overflow, invalid text), 42701 duplicate column,
//   42804 datatype mismatch                         kSchemaMismatch
//   class 54 (program limit exceeded: too many columns, row too big)
//                                                   kLimitExceeded
//   53100 disk full, class 58 (system error: I/O)   kIoError
//   other classes 23 and 42 (constraint, syntax, access), 0A (not supported), 25, 2B, 3D ...
//                                                   kInvalidArgument (a refused statement)
//   XX (internal error) and anything else           kInternal
ErrorCode CodeForSqlstate(std::string_view sqlstate);

// Round trips to a server this process has made on every Conn so far (each Run, Query,
// Pipeline, COPY start and COPY end is one), for tests and metrics that count them.
uint64_t RoundTrips();

// Parameters of one statement, numbered $1.. in the order added. Text values let the server
// infer the type (or the statement casts: $1::int8); binary values carry their type oid.
class Params {
 public:
  Params& Null();
  Params& Text(std::string_view value);
  // int8 in binary.
  Params& Int(int64_t value);
  // Binary `bytes` of type `type_oid` (network byte order, as COPY BINARY and the binary
  // send functions define them).
  Params& Binary(uint32_t type_oid, std::string bytes);
  int size() const { return static_cast<int>(values_.size()); }
  bool empty() const { return values_.empty(); }

 private:
  friend class Conn;
  struct Value {
    uint32_t type_oid = 0;
    bool null = false;
    bool binary = false;
    std::string bytes;
  };
  std::vector<Value> values_;
};

// A statement's result, owned (PQclear on destruction). Values are in text format: numbers in
// decimal, bytea as "\x..." hex, timestamps in ISO form (DateStyle ISO, which Open sets).
class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* result) : result_(result) {}
  Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  int size() const;     // rows
  int columns() const;  // columns
  std::string_view ColumnName(int col) const;
  bool IsNull(int row, int col) const;
  // The value's text; empty for NULL. Valid while this Rows lives.
  std::string_view Text(int row, int col) const;
  // The value parsed as a decimal integer; kInternal naming the column when it is not one.
  Result<int64_t> Int(int row, int col) const;
  // Rows affected by an INSERT/UPDATE/DELETE/COPY (PQcmdTuples), 0 for other statements.
  int64_t affected() const;
  // The command tag ("INSERT 0 1", "COMMIT", "ROLLBACK").
  std::string_view command() const;

  PGresult* get() const { return result_; }

 private:
  PGresult* result_ = nullptr;
};

// One statement of a pipeline (Conn::Pipeline).
struct Statement {
  std::string sql;
  Params params;
};

struct OpenOptions {
  // Names the database in every error message ("pool", "catalog").
  std::string label;
  // Run once after connecting, before anything else (SET ...). Open always sets
  // client_encoding UTF8, DateStyle ISO, IntervalStyle iso_8601, TimeZone UTC,
  // extra_float_digits 1 and standard_conforming_strings on first.
  std::string setup;
};

class Conn {
 public:
  // Connects with `conninfo` (key=value or a postgresql:// URI). A failure is kUnavailable
  // (the server may come back) naming the label and the redacted connection string.
  static Result<std::unique_ptr<Conn>> Open(const std::string& conninfo, OpenOptions options);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one or more statements without parameters (schema, SET, BEGIN/COMMIT); rows are
  // discarded.
  Status Exec(std::string_view sql);
  // Like Exec (one or more statements, one round trip), but returns the last statement's rows.
  Result<Rows> Run(std::string_view sql);
  // Runs one statement with parameters; results in text format. An error names `what`, or
  // the statement's SQL when `what` is empty.
  Result<Rows> Query(std::string_view sql, const Params& params = {}, std::string_view what = {});
  // The single integer the first column of the first row holds.
  Result<int64_t> QueryInt(std::string_view sql, const Params& params = {});
  // Sends every statement, then one sync, then reads every result: one round trip for all of
  // them. Outside a transaction block the statements run in one implicit transaction (an
  // error rolls them all back); inside one, an error fails the block, as with Query. The
  // first error is returned (later statements are skipped by the server). Meant for a
  // handful of statements: libpq blocks on a full send buffer, and the server does not read
  // on while its results are unread.
  Result<std::vector<Rows>> Pipeline(std::span<const Statement> statements);

  // The Status for a failed `result` (or, when it is null, for the connection's last error):
  // "<label>: <what>: <primary message> [(<detail>)] [SQLSTATE xxxxx]", mapped by
  // CodeForSqlstate; a broken connection is kUnavailable.
  Status Error(const PGresult* result, std::string_view what) const;

  // True when the connection is healthy and not inside a transaction block.
  bool Idle() const;
  // The server process serving this connection (pg_backend_pid()): a NOTIFY names its sender
  // by it.
  int BackendPid() const;

  // Asynchronous notifications (LISTEN/NOTIFY). A listener waits until Socket() is readable
  // (poll/select), then calls ConsumeNotifications, which reads what arrived without
  // blocking and returns the notifications received, oldest first (possibly none).
  // kUnavailable when the connection is lost. The socket is the connection's; never close it.
  struct Notification {
    std::string channel;
    std::string payload;
    int sender_pid = 0;  // the BackendPid() of the connection that sent it
  };
  int Socket() const;
  Result<std::vector<Notification>> ConsumeNotifications();
  PGconn* get() const { return conn_; }
  const std::string& label() const { return label_; }

 private:
  Conn(PGconn* conn, std::string label) : conn_(conn), label_(std::move(label)) {}
  Result<Rows> Check(PGresult* result, std::string_view what);

  PGconn* conn_;
  std::string label_;
};

// BEGIN ... COMMIT, rolled back on destruction unless committed. Movable, so that whoever
// began it can hand it to the object that finishes it.
class Transaction {
 public:
  explicit Transaction(Conn& conn) : conn_(&conn) {}
  Transaction(Transaction&& other) noexcept : conn_(other.conn_), open_(other.open_) {
    other.open_ = false;
  }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // `begin` is the statement that opens the block ("BEGIN", "BEGIN ISOLATION LEVEL ...").
  Status Begin(std::string_view begin = "BEGIN");
  // BEGIN, then `then` (statements without parameters) in the same round trip; returns the
  // last statement's rows. The block is open (and rolled back by the guard) even when `then`
  // failed.
  Result<Rows> BeginWith(std::string_view then);
  // BEGIN, then `then` (statements with parameters), in one pipeline: one round trip. Returns
  // the rows of each statement of `then`. The block is open even when one failed.
  Result<std::vector<Rows>> BeginPipeline(std::span<const Statement> then);
  // BEGIN, then `then`, then COMMIT, in one pipeline: a whole transaction in one round trip.
  // Returns the rows of each statement of `then`. A failure rolls the block back; it is over
  // either way.
  Result<std::vector<Rows>> BeginCommitPipeline(std::span<const Statement> then);
  // Runs `before` (statements without parameters; may be empty), then COMMIT, in one round
  // trip. A failed COMMIT (serialization failure, lost connection) or a block that failed
  // earlier (its COMMIT turns into ROLLBACK) is an error; the block is over either way.
  Status Commit(std::string_view before = {});
  // Rolls back now (what destruction does), ignoring errors: the connection may be gone.
  void Rollback();
  bool open() const { return open_; }

 private:
  Conn* conn_;
  bool open_ = false;
};

// Binary COPY (`COPY t (a, b) FROM STDIN (FORMAT binary)`), a stream of tuples:
//
//   header   "PGCOPY\n\377\r\n\0"  int32 flags = 0  int32 extension length = 0
//   tuple    int16 field count, then per field: int32 byte length (-1: NULL) and the bytes
//   trailer  int16 -1
//
// Every integer is big-endian. A field's bytes are its type's binary send format:
//
//   bool         1 byte 0/1                 int2/int4/int8   2/4/8 bytes
//   float4/8     IEEE 754, 4/8 bytes        text, bytea      the bytes as they are
//   date         int32 days since 2000-01-01
//   timestamp, timestamptz   int64 microseconds since 2000-01-01 00:00 (UTC for tz)
//   time         int64 microseconds since midnight
//   interval     int64 microseconds, int32 days, int32 months
//   uuid         16 bytes               jsonb   version byte 1, then the JSON text
//   numeric      int16 ndigits, int16 weight, int16 sign (0 +, 0x4000 -), int16 dscale, then
//                ndigits int16 base-10000 digits, most significant first; the value is
//                sum(digit[i] * 10000^(weight - i)). Example: 1234567.5 at scale 2 ->
//                ndigits 3, weight 1, sign 0, dscale 2, digits 123 4567 5000.
//
// Tuples are encoded into a buffer that is handed to PQputCopyData whenever it passes
// kCopyChunkBytes, so a load streams a batch at a time and holds at most one chunk.
class CopyWriter {
 public:
  // What one PQputCopyData carries: large enough that the per-call cost vanishes, small
  // enough to stay in cache.
  static constexpr size_t kCopyChunkBytes = 1 << 20;
  // Days and microseconds between 1970-01-01 (sluice's epoch) and 2000-01-01 (PostgreSQL's).
  static constexpr int32_t kEpochDays = 10'957;
  static constexpr int64_t kEpochMicros = int64_t{kEpochDays} * 86'400'000'000;

  explicit CopyWriter(Conn& conn) : conn_(&conn) {}
  ~CopyWriter();  // ends an unfinished COPY with an error (nothing is copied)
  CopyWriter(const CopyWriter&) = delete;
  CopyWriter& operator=(const CopyWriter&) = delete;

  // Runs `copy_sql` (a COPY ... FROM STDIN (FORMAT binary)) and writes the header.
  Status Begin(std::string_view copy_sql);

  void BeginTuple(int16_t fields);
  void Null();
  void Bool(bool v);
  void Int2(int16_t v);
  void Int4(int32_t v);
  void Int8(int64_t v);
  void Float4(float v);
  void Float8(double v);
  void Text(std::string_view v);  // text, varchar and bytea alike
  // value = unscaled / 10^scale; dscale = scale.
  void Numeric(__int128 unscaled, int32_t scale);
  // "-123.4500" form (an optional sign, digits, an optional point and digits); dscale = the
  // digits after the point. kInvalidArgument for anything else.
  Status NumericText(std::string_view decimal);
  void Date(int32_t unix_days);
  void Timestamp(int64_t unix_micros);  // timestamp and timestamptz alike
  void Time(int64_t micros);
  void Interval(int32_t months, int32_t days, int64_t micros);
  void Uuid(const uint8_t* bytes16);
  void Jsonb(std::string_view json);
  // Ends a tuple; sends the buffer when it passed kCopyChunkBytes (after Begin).
  Status EndTuple();
  // Without Begin the writer only encodes: this hands over the tuples encoded so far. Each
  // field is framed as COPY frames it (int32 length, -1 for NULL, then the bytes), and those
  // bytes are exactly the field's value as a binary parameter.
  std::string TakeBuffer() { return std::exchange(buffer_, {}); }

  // Writes the trailer, ends the COPY and returns the rows copied.
  Result<int64_t> Finish();
  int64_t tuples() const { return tuples_; }

 private:
  Status Send();
  void Length(int32_t n);

  Conn* conn_;
  std::string buffer_;
  bool active_ = false;
  int64_t tuples_ = 0;
};

// A connection string whose dbname is `dbname` (the rest kept), in key=value form.
Result<std::string> WithDatabase(std::string_view conninfo, std::string_view dbname);

}  // namespace sluice::postgres
