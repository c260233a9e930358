// The ceiling of the PostgreSQL bulk-upsert benchmark (bench/pg_upsert/bench.py): the work the
// PostgreSQL pool does for a file, done with libpq and nothing else in the way. Each FILE is
// decoded (sluice's Parquet reader) and encoded as one binary COPY stream in memory before its
// clock starts (pg_copy.h); then, timed from BEGIN to the end of COMMIT, in one transaction:
//
//   COPY <stage> (<file's columns>, _row) FROM STDIN (FORMAT binary)  (big PQputCopyData chunks)
//   INSERT INTO <table> (<columns>) SELECT DISTINCT ON (<pk>) <columns> FROM <stage>
//     ORDER BY <pk>, _row DESC                         (the last row of a key wins)
//     ON CONFLICT (<pk>) DO UPDATE SET <every non-key column> = EXCLUDED.<column>
//   -- or, when no key repeats in the file (checked before the clock, as the encoding is),
//   -- the same INSERT from the plain SELECT: no sort (--always-distinct keeps DISTINCT ON)
//   COMMIT                                             (synchronous_commit = on: durable)
//
// The stage is created once per session, as the pool reuses its own: an UNLOGGED table emptied
// by TRUNCATE in the transaction, or with --stage temp a TEMP table (ON COMMIT DELETE ROWS,
// local buffers sized by --temp-buffers). UNLOGGED is the default because it was faster here:
// binary COPY of 5M `orders` rows took 4.7-6.2 s into it against 7.3-13.1 s into a TEMP table
// with 1 GB of temp_buffers (2026-12, the shared 2-vCPU VM, two runs each; the upsert after it
// took the same time either way). The sort behind DISTINCT ON gets --work-mem (1 GB keeps 5M
// rows in memory: quicksort, ~900 MB).
//
// --plain-copy FILE also times PostgreSQL's plain binary COPY of FILE into an empty table with
// the same columns and primary key (created, then dropped, outside the clock), for scale.
// --checkpoint runs CHECKPOINT before each timed phase, so that no phase pays for the WAL of the
// one before (bench.py does the same for sluice).
//
// The table is created with --ddl (bench.py passes the one sluice's pool made) or, without it,
// from the first file's schema (pg_copy.h's PgTypeOf) with PRIMARY KEY (--pk); its column types
// must be the ones the encoder writes.
//
// Usage: sluice_pg_ceiling --dsn CONNINFO --table NAME --pk COL [--ddl SQL] [--plain-copy FILE]
//          [--checkpoint] [--always-distinct] [--stage unlogged|temp] [--work-mem 1GB]
//          [--temp-buffers 1GB] [--chunk-kib 1024] FILE...
// Prints one JSON line per phase: {"phase": "upsert"|"plain_copy", "file", "rows", "seconds",
// "rows_per_s", "copy_seconds", "upsert_seconds", "commit_seconds", "encode_seconds",
// "stream_bytes", "peak_rss_mib", "unique_keys"}. Flat files only; a file's stream stays in memory
// (~150 bytes a row for `orders`).

#include <libpq-fe.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pg_copy.h"
#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/parquet/parquet.h"

namespace {

using sluice::batch::TypeId;
using sluice_bench::CopyEncoder;
using sluice_bench::PgTypeOf;

constexpr const char* kProgram = "sluice_pg_ceiling";

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string Quote(const std::string& name) { return "\"" + name + "\""; }

// A file as the ceiling sends it: its columns' names and types and the binary COPY stream.
struct Encoded {
  std::vector<std::string> names;
  std::vector<std::string> pg_types;
  std::string stream;
  int64_t rows = 0;
  bool unique_keys = false;  // no key value repeats in the file (an integer or text key)
};

// Whether the values of `pk` repeat among `keys` (each a value's bytes).
bool Unique(std::vector<std::string>* keys) {
  std::sort(keys->begin(), keys->end());
  return std::adjacent_find(keys->begin(), keys->end()) == keys->end();
}

sluice::Result<Encoded> Encode(const std::string& path, const std::string& pk, bool with_row) {
  SLUICE_ASSIGN_OR_RETURN(auto file, sluice::FileSystem::Default().OpenRandomAccess(path));
  SLUICE_ASSIGN_OR_RETURN(auto reader, sluice::parquet::OpenParquet(std::move(file)));
  Encoded e;
  for (const auto& f : reader->schema().fields) {
    e.names.push_back(f.name);
    e.pg_types.push_back(PgTypeOf(f.type));
    if (e.pg_types.back().empty()) {
      return sluice::Err(sluice::ErrorCode::kInvalidArgument,
                         "column '" + f.name + "' has a type this ceiling does not encode: " +
                             sluice::batch::TypeName(f.type));
    }
  }
  int key = -1;  // the key column when its values can be compared as bytes here
  for (size_t i = 0; i < e.names.size(); ++i) {
    const TypeId id = reader->schema().fields[i].type.id;
    if (e.names[i] == pk && (sluice::batch::IsInt64Stored(id) || id == TypeId::kString)) {
      key = static_cast<int>(i);
    }
  }
  std::vector<std::string> keys;
  CopyEncoder enc(&e.stream);
  enc.Header();
  sluice::batch::Batch b;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    enc.Rows(b.columns, b.num_rows, with_row, e.rows);
    e.rows += b.num_rows;
    if (key < 0) continue;
    const sluice::batch::Column& c = b.columns[static_cast<size_t>(key)];
    for (int64_t r = 0; r < b.num_rows; ++r) {
      if (c.type.id == TypeId::kString) {
        keys.emplace_back(c.StringAt(r));
      } else {
        const int64_t v = c.Value<int64_t>(r);
        keys.emplace_back(reinterpret_cast<const char*>(&v), sizeof(v));
      }
    }
  }
  enc.Trailer();
  e.unique_keys = key >= 0 && Unique(&keys);
  return e;
}

class Db {
 public:
  ~Db() { PQfinish(conn_); }

  bool Connect(const std::string& dsn) {
    conn_ = PQconnectdb(dsn.c_str());
    if (PQstatus(conn_) == CONNECTION_OK) return true;
    // PQerrorMessage names the host and the reason, never the password.
    std::fprintf(stderr, "%s: cannot connect: %s", kProgram, PQerrorMessage(conn_));
    return false;
  }

  // Runs `sql`; the first row's first value (or "") in *value when given.
  bool Exec(const std::string& sql, std::string* value = nullptr) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
      std::fprintf(stderr, "%s: %s: %s", kProgram, sql.c_str(), PQresultErrorMessage(res));
    } else if (value != nullptr) {
      *value = st == PGRES_TUPLES_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0)
                                                           : std::string(PQcmdTuples(res));
    }
    PQclear(res);
    return ok;
  }

  // Each row of `sql`'s result as its columns' text.
  bool Rows(const std::string& sql, std::vector<std::vector<std::string>>* rows) {
    PGresult* res = PQexec(conn_, sql.c_str());
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      std::fprintf(stderr, "%s: %s: %s", kProgram, sql.c_str(), PQresultErrorMessage(res));
      PQclear(res);
      return false;
    }
    for (int r = 0; r < PQntuples(res); ++r) {
      rows->emplace_back();
      for (int c = 0; c < PQnfields(res); ++c) rows->back().push_back(PQgetvalue(res, r, c));
    }
    PQclear(res);
    return true;
  }

  // COPY `target` FROM STDIN (FORMAT binary), sending `stream` in chunks of `chunk` bytes.
  bool Copy(const std::string& target, const std::string& stream, size_t chunk) {
    const std::string sql = "COPY " + target + " FROM STDIN (FORMAT binary)";
    PGresult* res = PQexec(conn_, sql.c_str());
    if (PQresultStatus(res) != PGRES_COPY_IN) {
      std::fprintf(stderr, "%s: %s: %s", kProgram, sql.c_str(), PQresultErrorMessage(res));
      PQclear(res);
      return false;
    }
    PQclear(res);
    for (size_t off = 0; off < stream.size(); off += chunk) {
      const size_t n = std::min(chunk, stream.size() - off);
      if (PQputCopyData(conn_, stream.data() + off, static_cast<int>(n)) != 1) {
        std::fprintf(stderr, "%s: PQputCopyData: %s", kProgram, PQerrorMessage(conn_));
        return false;
      }
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) {
      std::fprintf(stderr, "%s: PQputCopyEnd: %s", kProgram, PQerrorMessage(conn_));
      return false;
    }
    bool ok = true;
    while ((res = PQgetResult(conn_)) != nullptr) {
      if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        std::fprintf(stderr, "%s: %s: %s", kProgram, sql.c_str(), PQresultErrorMessage(res));
        ok = false;
      }
      PQclear(res);
    }
    return ok;
  }

 private:
  PGconn* conn_ = nullptr;
};

// The target's column types must be the ones pg_copy.h writes (binary COPY does not convert).
bool CheckTypes(Db& db, const std::string& table, const Encoded& e) {
  std::vector<std::vector<std::string>> rows;
  if (!db.Rows("SELECT attname, format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = "
               "'" +
                   table + "'::regclass AND attnum > 0 AND NOT attisdropped",
               &rows)) {
    return false;
  }
  std::map<std::string, std::string> types;
  for (const auto& r : rows) types[r[0]] = r[1];
  for (size_t i = 0; i < e.names.size(); ++i) {
    std::string want = e.pg_types[i];
    if (want.starts_with("numeric")) want = "numeric";
    const auto it = types.find(e.names[i]);
    if (it == types.end() || it->second != want) {
      std::fprintf(stderr, "%s: column %s of %s is %s; this ceiling encodes %s\n", kProgram,
                   e.names[i].c_str(), table.c_str(),
                   it == types.end() ? "missing" : it->second.c_str(), want.c_str());
      return false;
    }
  }
  return true;
}

struct Options {
  std::string dsn, table, pk, ddl, plain_copy;
  std::string stage = "unlogged", work_mem = "1GB", temp_buffers = "1GB", chunk_kib = "1024";
  bool checkpoint = false;
  bool always_distinct = false;
  std::vector<std::string> files;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  const std::map<std::string, std::string*> flags = {{"--dsn", &o->dsn},
                                                     {"--table", &o->table},
                                                     {"--pk", &o->pk},
                                                     {"--ddl", &o->ddl},
                                                     {"--plain-copy", &o->plain_copy},
                                                     {"--stage", &o->stage},
                                                     {"--work-mem", &o->work_mem},
                                                     {"--temp-buffers", &o->temp_buffers},
                                                     {"--chunk-kib", &o->chunk_kib}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto it = flags.find(arg);
    if (arg == "--checkpoint") {
      o->checkpoint = true;
    } else if (arg == "--always-distinct") {
      o->always_distinct = true;
    } else if (it != flags.end()) {
      *it->second = i + 1 < argc ? argv[++i] : std::string();
    } else {
      o->files.push_back(arg);
    }
  }
  return !o->dsn.empty() && !o->table.empty() && !o->pk.empty() && !o->files.empty() &&
         (o->stage == "temp" || o->stage == "unlogged");
}

double PeakRssMib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024;  // ru_maxrss is in KiB on Linux
}

void Print(const char* phase, const std::string& file, const Encoded& e, double seconds,
           double copy, double upsert, double commit, double encode) {
  std::printf(
      "{\"phase\": \"%s\", \"file\": \"%s\", \"rows\": %lld, \"seconds\": %.4f, "
      "\"rows_per_s\": %.0f, \"copy_seconds\": %.4f, \"upsert_seconds\": %.4f, "
      "\"commit_seconds\": %.4f, \"encode_seconds\": %.3f, \"stream_bytes\": %zu, "
      "\"peak_rss_mib\": %.0f, \"unique_keys\": %s}\n",
      phase, file.c_str(), static_cast<long long>(e.rows), seconds,
      static_cast<double>(e.rows) / seconds, copy, upsert, commit, encode, e.stream.size(),
      PeakRssMib(), e.unique_keys ? "true" : "false");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: %s --dsn CONNINFO --table NAME --pk COL [--ddl SQL] [--plain-copy FILE] "
                 "[--checkpoint] [--stage unlogged|temp] [--work-mem 1GB] [--temp-buffers 1GB] "
                 "[--chunk-kib 1024] FILE...\n",
                 kProgram);
    return 1;
  }
  const size_t chunk = static_cast<size_t>(std::stoll(o.chunk_kib)) * 1024;
  Db db;
  if (!db.Connect(o.dsn)) return 1;
  // temp_buffers must be set before the session's first use of a temporary table.
  if (!db.Exec("SET synchronous_commit = on; SET work_mem = '" + o.work_mem +
               "'; SET temp_buffers = '" + o.temp_buffers + "'")) {
    return 1;
  }
  const std::string table = Quote(o.table);
  const std::string stage = Quote(o.table + "_stage");
  std::vector<std::string> layout;  // the stage's columns, fixed by the first file

  for (const std::string& path : o.files) {
    const auto encode_start = std::chrono::steady_clock::now();
    auto encoded = Encode(path, o.pk, /*with_row=*/true);
    if (!encoded.ok()) {
      std::fprintf(stderr, "%s: %s: %s\n", kProgram, path.c_str(),
                   encoded.status().ToString().c_str());
      return 1;
    }
    const double encode_seconds = Seconds(encode_start);
    const Encoded& e = *encoded;
    std::string cols, sets;
    for (const std::string& n : e.names) {
      cols += (cols.empty() ? "" : ", ") + Quote(n);
      if (n != o.pk) sets += (sets.empty() ? "" : ", ") + Quote(n) + " = EXCLUDED." + Quote(n);
    }
    if (layout.empty()) {
      std::string ddl = o.ddl;
      if (ddl.empty()) {
        ddl = "CREATE TABLE " + table + " (";
        for (size_t i = 0; i < e.names.size(); ++i) {
          ddl += Quote(e.names[i]) + " " + e.pg_types[i] + ", ";
        }
        ddl += "PRIMARY KEY (" + Quote(o.pk) + "))";
      }
      if (!db.Exec(ddl) || !CheckTypes(db, o.table, e)) return 1;
      const std::string kind = o.stage == "temp" ? "TEMP" : "UNLOGGED";
      const std::string on_commit = o.stage == "temp" ? " ON COMMIT DELETE ROWS" : "";
      if (!db.Exec("CREATE " + kind + " TABLE " + stage + on_commit + " AS SELECT " + cols +
                   ", NULL::bigint AS _row FROM " + table + " WITH NO DATA")) {
        return 1;
      }
      layout = e.names;
    } else if (e.names != layout) {
      std::fprintf(stderr, "%s: %s: its columns differ from the first file's\n", kProgram,
                   path.c_str());
      return 1;
    }
    // A file whose keys do not repeat needs no DISTINCT ON (and no sort): every staged row is a
    // key of its own, as the PostgreSQL pool's fast path also finds out while it encodes.
    const std::string select = e.unique_keys && !o.always_distinct
                                   ? "SELECT " + cols + " FROM " + stage
                                   : "SELECT DISTINCT ON (" + Quote(o.pk) + ") " + cols + " FROM " +
                                         stage + " ORDER BY " + Quote(o.pk) + ", _row DESC";
    const std::string upsert = "INSERT INTO " + table + " (" + cols + ") " + select +
                               " ON CONFLICT (" + Quote(o.pk) + ") DO UPDATE SET " + sets;
    if (o.checkpoint && !db.Exec("CHECKPOINT")) return 1;

    const auto start = std::chrono::steady_clock::now();
    if (!db.Exec("BEGIN")) return 1;
    if (o.stage == "unlogged" && !db.Exec("TRUNCATE " + stage)) return 1;
    if (!db.Copy(stage + " (" + cols + ", _row)", e.stream, chunk)) return 1;
    const double copied = Seconds(start);
    if (!db.Exec(upsert)) return 1;
    const double upserted = Seconds(start);
    if (!db.Exec("COMMIT")) return 1;
    const double seconds = Seconds(start);
    Print("upsert", path, e, seconds, copied, upserted - copied, seconds - upserted,
          encode_seconds);
  }

  if (!o.plain_copy.empty()) {
    const auto encode_start = std::chrono::steady_clock::now();
    auto encoded = Encode(o.plain_copy, o.pk, /*with_row=*/false);
    if (!encoded.ok()) {
      std::fprintf(stderr, "%s: %s: %s\n", kProgram, o.plain_copy.c_str(),
                   encoded.status().ToString().c_str());
      return 1;
    }
    const double encode_seconds = Seconds(encode_start);
    const Encoded& e = *encoded;
    std::string cols;
    for (const std::string& n : e.names) cols += (cols.empty() ? "" : ", ") + Quote(n);
    const std::string plain = Quote(o.table + "_plain");
    if (!db.Exec("CREATE TABLE " + plain + " (LIKE " + table + " INCLUDING ALL)")) return 1;
    if (o.checkpoint && !db.Exec("CHECKPOINT")) return 1;
    const auto start = std::chrono::steady_clock::now();
    if (!db.Exec("BEGIN")) return 1;
    if (!db.Copy(plain + " (" + cols + ")", e.stream, chunk)) return 1;
    const double copied = Seconds(start);
    if (!db.Exec("COMMIT")) return 1;
    const double seconds = Seconds(start);
    Print("plain_copy", o.plain_copy, e, seconds, copied, 0, seconds - copied, encode_seconds);
    if (!db.Exec("DROP TABLE " + plain)) return 1;
  }
  return 0;
}
