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

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/parquet/parquet.h"

namespace {

using sluice::batch::Column;
using sluice::batch::TypeId;

enum class Kind { kNull, kInt, kReal, kText };

// One column of a whole file, as SQLite values.
struct Values {
  Kind kind = Kind::kNull;
  std::vector<uint8_t> valid;
  std::vector<int64_t> ints;
  std::vector<double> reals;
  std::vector<int64_t> offsets{0};
  std::vector<char> chars;

  void AddText(std::string_view s) {
    chars.insert(chars.end(), s.begin(), s.end());
    offsets.push_back(static_cast<int64_t>(chars.size()));
  }
};

struct Decoded {
  std::vector<std::string> names;
  std::vector<Values> columns;
  int64_t rows = 0;
};

Kind KindOf(const sluice::batch::DataType& t) {
  switch (t.id) {
    case TypeId::kBool:
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return Kind::kInt;
    case TypeId::kFloat:
    case TypeId::kDouble:
      return Kind::kReal;
    case TypeId::kDecimal:
      // pool.h: INTEGER when s = 0, REAL when <= 15 digits; this ceiling handles those two.
      return t.scale == 0 ? Kind::kInt : Kind::kReal;
    case TypeId::kString:
    case TypeId::kDate:
    case TypeId::kTimestamp:
      return Kind::kText;
    default:
      return Kind::kNull;
  }
}

double Pow10(int scale) {
  double p = 1;
  for (int i = 0; i < scale; ++i) p *= 10;
  return p;
}

void Append(const Column& c, int64_t n, Values* out) {
  for (int64_t r = 0; r < n; ++r) {
    out->valid.push_back(c.IsValid(r) ? 1 : 0);
    switch (out->kind) {
      case Kind::kInt:
        if (c.type.id == TypeId::kBool) {
          out->ints.push_back(c.fixed[static_cast<size_t>(r)]);
        } else if (c.type.id == TypeId::kDecimal) {
          out->ints.push_back(static_cast<int64_t>(c.Value<__int128>(r)));
        } else {
          out->ints.push_back(c.Value<int64_t>(r));
        }
        break;
      case Kind::kReal:
        if (c.type.id == TypeId::kDecimal) {
          out->reals.push_back(static_cast<double>(static_cast<int64_t>(c.Value<__int128>(r))) /
                               Pow10(c.type.scale));
        } else if (c.type.id == TypeId::kFloat) {
          out->reals.push_back(c.Value<float>(r));
        } else {
          out->reals.push_back(c.Value<double>(r));
        }
        break;
      case Kind::kText:
        if (c.type.id == TypeId::kTimestamp) {
          out->AddText(
              sluice::batch::FormatTimestamp(c.Value<int64_t>(r), c.type.unit, c.type.utc));
        } else if (c.type.id == TypeId::kDate) {
          out->AddText(sluice::batch::FormatDate(c.Value<int32_t>(r)));
        } else {
          out->AddText(c.StringAt(r));
        }
        break;
      case Kind::kNull:
        break;
    }
  }
}

sluice::Result<Decoded> Decode(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(auto file, sluice::FileSystem::Default().OpenRandomAccess(path));
  SLUICE_ASSIGN_OR_RETURN(auto reader, sluice::parquet::OpenParquet(std::move(file)));
  Decoded d;
  for (const auto& f : reader->schema().fields) {
    d.names.push_back(f.name);
    Values v;
    v.kind = KindOf(f.type);
    if (v.kind == Kind::kNull) {
      return sluice::Err(sluice::ErrorCode::kInvalidArgument,
                         "column '" + f.name + "' has a type this ceiling does not bind: " +
                             sluice::batch::TypeName(f.type));
    }
    d.columns.push_back(std::move(v));
  }
  sluice::batch::Batch b;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    for (size_t i = 0; i < d.columns.size(); ++i) Append(b.columns[i], b.num_rows, &d.columns[i]);
    d.rows += b.num_rows;
  }
  return d;
}

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
