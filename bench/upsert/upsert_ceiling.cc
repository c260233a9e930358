// The ceiling of the bulk-upsert benchmark (bench/upsert/bench.py): the same rows upserted
// through SQLite's C API with nothing else in the way. Each FILE is decoded (sluice's Parquet
// reader) into a pre-decoded, column-major form holding exactly the values the pool binds
// (docs/design/pool.md, "SQLite storage": integers, REAL decimals, TEXT timestamps) before any
// clock starts; then each file is applied in one transaction with one prepared INSERT ... ON
// CONFLICT(pk) DO UPDATE statement, timed from BEGIN to COMMIT.
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
#include <string>
#include <vector>

#include "decoded_file.h"
#include "sqlite_ceiling.h"

using sluice_bench::CeilingDb;
using sluice_bench::Decode;
using sluice_bench::Decoded;
using sluice_bench::ParseArgs;
using sluice_bench::Seconds;
using sluice_bench::UpsertSql;

int main(int argc, char** argv) {
  std::string db_path, table, pk, ddl;
  std::string cache_mib = "1024";
  std::vector<std::string> files;
  ParseArgs(argc, argv,
            {{"--db", &db_path},
             {"--table", &table},
             {"--pk", &pk},
             {"--ddl", &ddl},
             {"--cache-mib", &cache_mib}},
            &files);
  if (db_path.empty() || table.empty() || pk.empty() || ddl.empty() || files.empty()) {
    std::fprintf(
        stderr, "usage: sluice_upsert_ceiling --db PATH --table NAME --pk COL --ddl SQL FILE...\n");
    return 1;
  }
  CeilingDb db("sluice_upsert_ceiling");
  if (!db.Open(db_path, cache_mib, ddl)) return 1;
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
    const std::string sql = UpsertSql(table, d, {pk});

    const auto start = std::chrono::steady_clock::now();
    if (!db.Exec("BEGIN IMMEDIATE")) return 1;
    sqlite3_stmt* stmt = db.Prepare(sql);
    if (stmt == nullptr) return 1;
    for (int64_t r = 0; r < d.rows; ++r) {
      if (!db.Row(stmt, d, r, "upsert")) return 1;
    }
    sqlite3_finalize(stmt);
    if (!db.Exec("COMMIT")) return 1;
    const double seconds = Seconds(start);
    std::printf(
        "{\"file\": \"%s\", \"rows\": %lld, \"seconds\": %.4f, \"rows_per_s\": %.0f, "
        "\"decode_seconds\": %.3f}\n",
        path.c_str(), static_cast<long long>(d.rows), seconds,
        static_cast<double>(d.rows) / seconds, decode_seconds);
    std::fflush(stdout);
  }
  return 0;
}
