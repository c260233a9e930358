// The ceiling of the bulk-upsert benchmark (bench/upsert/bench.py): the same rows upserted
// through SQLite's C API with nothing else in the way. Each FILE is decoded (sluice's Parquet
// reader) into a pre-decoded, column-major form holding exactly the values the pool binds
// (pool.h's storage table: integers, REAL decimals, TEXT timestamps) before any clock starts;
// then each file is applied in one transaction with one prepared
// INSERT ... ON CONFLICT(pk) DO UPDATE statement, timed from BEGIN to COMMIT.
//
// Tuned as PERFORMANCE.md's ceiling: WAL, synchronous=NORMAL, temp_store=MEMORY, 1 GiB page
// cache; the table is created with --ddl (bench.py passes the CREATE TABLE that sluice's pool
// wrote, so both engines fill the identical table).
//
// Usage: sluice_upsert_ceiling --db PATH --table NAME --pk COL --ddl SQL [--cache-mib N] FILE...
// (--cache-mib: the page cache, default 1024 as in PERFORMANCE.md; the pool uses 256.)
// Prints one JSON line per file: {"file", "rows", "seconds", "rows_per_s", "decode_seconds"}.
// Flat files only; decoded rows stay in memory (about 200 bytes a row for `orders`).

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "decoded_file.h"

namespace {

using sluice_bench::Decode;
using sluice_bench::Decoded;
using sluice_bench::Kind;
using sluice_bench::Values;

std::string Quote(const std::string& name) { return "\"" + name + "\""; }

bool Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return true;
  std::fprintf(stderr, "sluice_upsert_ceiling: %s: %s\n", sql.c_str(), error ? error : "?");
  sqlite3_free(error);
  return false;
}

// Binds every column of row `r` and steps once.
bool Upsert(sqlite3* db, sqlite3_stmt* stmt, const Decoded& d, int64_t r) {
  for (size_t i = 0; i < d.columns.size(); ++i) {
    const Values& v = d.columns[i];
    const int param = static_cast<int>(i) + 1;
    const auto row = static_cast<size_t>(r);
    if (!v.valid[row]) {
      sqlite3_bind_null(stmt, param);
      continue;
    }
    switch (v.kind) {
      case Kind::kInt:
        sqlite3_bind_int64(stmt, param, v.ints[row]);
        break;
      case Kind::kReal:
        sqlite3_bind_double(stmt, param, v.reals[row]);
        break;
      case Kind::kText:
        sqlite3_bind_text(stmt, param, v.chars.data() + v.offsets[row],
                          static_cast<int>(v.offsets[row + 1] - v.offsets[row]), SQLITE_STATIC);
        break;
      case Kind::kNull:
        sqlite3_bind_null(stmt, param);
        break;
    }
  }
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc == SQLITE_DONE) return true;
  std::fprintf(stderr, "sluice_upsert_ceiling: row %lld: %s\n", static_cast<long long>(r),
               sqlite3_errmsg(db));
  return false;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path, table, pk, ddl;
  std::string cache_mib = "1024";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--db") {
      db_path = value();
    } else if (arg == "--table") {
      table = value();
    } else if (arg == "--pk") {
      pk = value();
    } else if (arg == "--ddl") {
      ddl = value();
    } else if (arg == "--cache-mib") {
      cache_mib = value();
    } else {
      files.push_back(arg);
    }
  }
  if (db_path.empty() || table.empty() || pk.empty() || ddl.empty() || files.empty()) {
    std::fprintf(
        stderr, "usage: sluice_upsert_ceiling --db PATH --table NAME --pk COL --ddl SQL FILE...\n");
    return 1;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "sluice_upsert_ceiling: cannot open %s\n", db_path.c_str());
    return 1;
  }
  if (!Exec(db,
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
            "PRAGMA cache_size=-" +
                std::to_string(std::stoll(cache_mib) * 1024)) ||
      !Exec(db, ddl)) {
    return 1;
  }
  for (const std::string& path : files) {
    const auto decode_start = std::chrono::steady_clock::now();
    auto decoded = Decode(path);
    if (!decoded.ok()) {
      std::fprintf(stderr, "sluice_upsert_ceiling: %s: %s\n", path.c_str(),
                   decoded.status().ToString().c_str());
      return 1;
    }
    const double decode_seconds = Seconds(decode_start);
    const Decoded& d = *decoded;
    std::string cols, params, sets;
    for (size_t i = 0; i < d.names.size(); ++i) {
      cols += (i ? "," : "") + Quote(d.names[i]);
      params += i ? ",?" : "?";
      if (d.names[i] == pk) continue;
      sets += (sets.empty() ? "" : ",") + Quote(d.names[i]) + "=excluded." + Quote(d.names[i]);
    }
    const std::string sql = "INSERT INTO " + Quote(table) + "(" + cols + ") VALUES(" + params +
                            ") ON CONFLICT(" + Quote(pk) + ") DO UPDATE SET " + sets;

    const auto start = std::chrono::steady_clock::now();
    if (!Exec(db, "BEGIN IMMEDIATE")) return 1;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "sluice_upsert_ceiling: %s: %s\n", sql.c_str(), sqlite3_errmsg(db));
      return 1;
    }
    for (int64_t r = 0; r < d.rows; ++r) {
      if (!Upsert(db, stmt, d, r)) return 1;
    }
    sqlite3_finalize(stmt);
    if (!Exec(db, "COMMIT")) return 1;
    const double seconds = Seconds(start);
    std::printf(
        "{\"file\": \"%s\", \"rows\": %lld, \"seconds\": %.4f, \"rows_per_s\": %.0f, "
        "\"decode_seconds\": %.3f}\n",
        path.c_str(), static_cast<long long>(d.rows), seconds,
        static_cast<double>(d.rows) / seconds, decode_seconds);
    std::fflush(stdout);
  }
  sqlite3_close(db);
  return 0;
}
